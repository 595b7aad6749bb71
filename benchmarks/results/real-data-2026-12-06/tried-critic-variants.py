"""The screen behind tried-critic-variants.json: the D-guided critic refitted, at several R1 and step
counts, on fit runs kept by `benchmarks/real_data.py --keep DIR`, each scored on its test part.

    .venv/bin/python benchmarks/results/real-data-2026-12-06/tried-critic-variants.py DIR out.json

Keys: `rR1sSTEPS` is the sampler as a fit would keep it (the D-guided step only where validation keeps
it), `..._forced` the D-guided step always; both with the kernel's bandwidth chosen on validation (the
samples and the kernel's noise drawn apart from the fit's, so `r0.1s600` differs from `ganfit` by those draws alone).
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

VARIANTS = [(0.1, 600), (0.03, 600), (0.01, 600), (0.1, 1500), (0.01, 1500)]
EXPERTS = ("isj", "cv", "mixture")


def smoothed(samples, tr, va, seed):
    h = np.asarray(smoothing(samples, tr, va, seed)["bandwidth"])
    return samples + h * np.random.default_rng(seed + 5).standard_normal(samples.shape)


def main(kept: str, out: str) -> None:
    torch.set_num_threads(1)
    results = {}
    for d in sorted(glob.glob(kept + "/*-split*")):
        run = R.load(d)
        tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
        key = M.validation_names(tr.shape[1])[0]
        n, seed, best = run.config.eval_samples, run.config.seed, run.summary["best_member"]
        comp = {r["key"]: r[key.replace("val_", "test_")] for r in run.summary["comparison"]["rows"]}
        res = {"ganfit": comp["ganfit"], "best_exp": min(v for k, v in comp.items() if k in EXPERTS and v)}
        for r1, steps in VARIANTS:
            S.CRITIC_R1, S.CRITIC_STEPS = r1, steps
            plain = run.sample(n, member=best, seed=seed + 1)
            refined, rec = refine(run, best, tr, va, plain)
            guided = refined.sample(n, seed + 3)[0]
            kept_one = guided if rec["kind"] == "d-guided" else plain
            for name, s in ((f"r{r1}s{steps}", kept_one), (f"r{r1}s{steps}_forced", guided)):
                res[name] = float(M.against(smoothed(s, tr, va, seed)[None], te, tr.std(0))[key][0])
        print(d.split("/")[-1], " ".join(f"{k}={v:.3f}" for k, v in res.items()), flush=True)
        results[d.split("/")[-1]] = res
    with open(out, "w") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main(*sys.argv[1:3])
