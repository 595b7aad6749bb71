"""The screen behind the two critics (tried-critics-screen.json), run at commit 9beeb68 (refine() then read
sampler.CRITIC_R1 and CRITIC_STEPS) on the runs that `benchmarks/real_data.py --splits 10 --keep DIR` kept:

    .venv/bin/python benchmarks/results/real-data-2026-12-06c/tried-critics-screen.py DIR out.json

Per run, the chosen member's plain G and the D-guided step with a soft (R1 0.1, 600 steps), a sharp (R1
0.01, 1,500 steps) and a sharp600 (R1 0.01, 600 steps) critic, each then smoothed by the kernel chosen
on validation and scored on the test part: `plain`, `soft`, `sharp`, `sharp600` forced; `cur` the
fit's rule then (soft or plain, by validation's first metric); `sharp_kept` the same with the sharp
critic; `three` plain, soft or sharp by validation's first metric (what fit does now); `three_rank` by
the sum of ranks over both validation metrics; `ganfit` the kept run's own score (other draws).
"""

import glob
import json
import sys

import numpy as np
import torch

from ganfit import run as R
from ganfit import sampler as S
from ganfit.fitting import refine, smoothing
from ganfit.measure import metrics as M

CRITICS = {"soft": (0.1, 600), "sharp": (0.01, 1500), "sharp600": (0.01, 600)}


def final(x, tr, va, te, seed, key):
    """x smoothed by the kernel chosen on validation, scored on the test part."""
    h = np.asarray(smoothing(x, tr, va, seed)["bandwidth"])
    s = x + h * np.random.default_rng(seed + 5).standard_normal(x.shape)
    return float(M.against(s[None], te, tr.std(0))[key][0])


def one(d: str) -> dict:
    run = R.load(d)
    tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
    names = M.validation_names(tr.shape[1])
    key = names[0]
    n, seed, best = run.config.eval_samples, run.config.seed, run.summary["best_member"]
    plain = run.sample(n, member=best, seed=seed + 1)
    cand, val = {"plain": plain}, {"plain": M.against(plain[None], va, tr.std(0))}
    for tag, (r1, steps) in CRITICS.items():
        S.CRITIC_R1, S.CRITIC_STEPS = r1, steps
        refined, _ = refine(run, best, tr, va, plain)
        cand[tag] = refined.sample(n, seed + 1)[0]
        val[tag] = M.against(refined.sample(n, seed + 3)[0][None], va, tr.std(0))  # as refine scores it
    S.CRITIC_R1, S.CRITIC_STEPS = 0.1, 600
    r = {k: final(v, tr, va, te, seed, key) for k, v in cand.items()}
    for name, opts in (
        ("cur", ("plain", "soft")),
        ("sharp_kept", ("plain", "sharp")),
        ("three", ("plain", "soft", "sharp")),
    ):
        r[name] = r[min(opts, key=lambda k: float(val[k][key][0]))]
    tab = np.array([[float(val[k][m][0]) for m in names] for k in ("plain", "soft", "sharp")])
    r["three_rank"] = r[("plain", "soft", "sharp")[int(np.lexsort((tab[:, 0], tab.argsort(0).argsort(0).sum(1)))[0])]]
    comp = {x["key"]: x[key.replace("val_", "test_")] for x in run.summary["comparison"]["rows"]}
    return r | {"ganfit": comp["ganfit"]}


def main(kept: str, out: str) -> None:
    torch.set_num_threads(1)
    res = {}
    for d in sorted(glob.glob(kept + "/*-split*")):
        res[d.split("/")[-1]] = r = one(d)
        print(d.split("/")[-1], " ".join(f"{k}={v:.4f}" for k, v in r.items()), flush=True)
    with open(out, "w") as fh:
        json.dump(res, fh)


if __name__ == "__main__":
    main(*sys.argv[1:3])
