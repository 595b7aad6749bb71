"""Screen (2026-12-07b): the critic (or the plain G) and the kernel chosen together on validation, on the
kept runs of `benchmarks/real_data.py --keep DIR`, fitting.SCORED samples: of the 3 x 5 (sampler, kernel
factor) pairs the lowest first metric ('joint_first') or the lowest sum of ranks over both metrics
('joint_rank'), beside a fit's rule (the critic by the first metric, then the kernel by ranks: 'fit').
Each pick's test score on the same draws (seed + 1, the kernel's noise from seed + 9).

usage: joint.py DIR   (one JSON line per run: each rule's pick and test score)"""

import glob
import json
import sys

import numpy as np

import ganfit
from ganfit.fitting import SCORED, SMOOTHING, dguided, smoothing
from ganfit.measure import metrics as M
from ganfit.sampler import CRITICS, bandwidths, fit_critic


def main() -> None:
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        run = ganfit.load(d)
        tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
        seed, scale, best = run.config.seed, tr.std(0), run.summary["best_member"]
        names = M.validation_names(tr.shape[1])
        fake = run.sample(20_000, member=best, seed=seed + 2)
        draws = {"plain": (run.sample(SCORED, member=best, seed=seed + 1),) * 2}
        for name, (r1, steps) in CRITICS.items():
            g = dguided(run, best, fit_critic(tr, fake, run.frame, seed, r1, steps), fake)
            draws[name] = (g.sample(SCORED, seed + 3)[0], g.sample(SCORED, seed + 1)[0])
        h0 = bandwidths(tr)
        table, tests = [], []
        for key, (on_val, on_test) in draws.items():
            e = np.random.default_rng(seed).standard_normal(on_val.shape)
            e_test = np.random.default_rng(seed + 9).standard_normal(on_test.shape)
            for f in SMOOTHING:
                v = M.against((on_val + f * h0 * e)[None], va, scale)
                table.append((key, f, [float(v[k][0]) for k in names]))
                tests.append(float(M.against((on_test + f * h0 * e_test)[None], te, scale)[names[0]][0]))
        scores = np.array([t[2] for t in table])
        first = int(np.argmin(scores[:, 0]))
        rank = int(np.lexsort((np.arange(len(table)), scores.argsort(0).argsort(0).sum(1)))[0])
        critic = min(
            draws,
            key=lambda k: (
                scores[[i for i, t in enumerate(table) if t[0] == k and t[1] == 0][0], 0],
                list(draws).index(k),
            ),
        )
        if (
            critic != "plain"
            and not scores[[i for i, t in enumerate(table) if t[0] == critic and t[1] == 0][0], 0] < scores[0, 0]
        ):
            critic = "plain"
        factor = smoothing(draws[critic][0], tr, va, seed)["factor"]
        fit = next(i for i, t in enumerate(table) if t[0] == critic and t[1] == factor)
        row = {"run": d.split("/")[-1]}
        for rule, i in (("fit", fit), ("joint_first", first), ("joint_rank", rank)):
            row[rule] = (table[i][0], table[i][1], round(tests[i], 5))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
