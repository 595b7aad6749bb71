"""What a second family would add to a fit: the time of fit's steps after training on one member (the
critics, the kernel, the samples), without the baselines and the comparison, on the kept runs.

    python step_time.py /tmp/keep-relu quakes-depth,rivers 0:3
"""

import sys
import time
from pathlib import Path

import numpy as np

from ganfit import fitting
from ganfit.run import load

keep, sets, (first, n) = Path(sys.argv[1]), sys.argv[2].split(","), map(int, sys.argv[3].split(":"))
for name in sets:
    times = []
    for s in range(first, first + n):
        run = load(keep / f"{name}-split{s}")
        parts = {
            p: np.load(run.dir / f, allow_pickle=False)
            for p, f in (("train", "target.npy"), ("validation", "validation.npy"))
        }
        m, seed, k = run.best_member, run.config.seed, fitting.scored_samples(run.config)
        started = time.perf_counter()
        plain = run.sample(k, member=m, seed=seed + 1)
        refined, sampler = fitting.refine(run, m, parts["train"], parts["validation"], plain)
        samples = refined.sample(k, seed + 1)[0] if sampler["kind"] == "d-guided" else plain
        fitting.smoothing(samples, parts["train"], parts["validation"], seed)
        times.append(time.perf_counter() - started)
    print(name, " ".join(f"{t:.2f}" for t in times), "s", flush=True)
