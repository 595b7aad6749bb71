"""Screen (2026-12-07b): the D-guided step with its proposal the chosen member (as a fit does) or an equal
mixture of all members, on the kept runs of `benchmarks/real_data.py --keep DIR`; per proposal and critic
(none, smooth, sharp) the kernel chosen on validation as a fit does; 2,000 samples scored, as eval_samples
then. SHIFT moves every draw's seed (the same procedure, other draws); `chosen` leaves the mixture out.

usage: proposals.py DIR [SHIFT] [chosen]   (one JSON line per run: (val, test, val smoothed, test
smoothed, kernel factor, samples) per proposal-critic; `cur` the fit's own sampler's (val, test))"""

import glob
import json
import sys

import numpy as np
import torch

import ganfit
from ganfit.fitting import smoothing
from ganfit.measure import metrics as M
from ganfit.sampler import CRITICS, fit_critic, threshold

N = 2000


def accept(critic, frame, m: float, cand: np.ndarray, rng) -> np.ndarray:
    with torch.no_grad():
        logit = critic(frame.to_frame(torch.as_tensor(cand, dtype=torch.float64)).float()[None])[0, :, 0]
    return cand[rng.random(len(logit)) < np.exp(np.minimum(logit.double().numpy() - m, 0))]


def one(d: str, shift: int, mix: bool) -> dict:
    run = ganfit.load(d)
    tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
    seed, scale, k = run.config.seed, tr.std(0), run.members
    first = M.validation_names(tr.shape[1])[0]

    def sc(s, part):
        return round(float(M.against(s[None], part, scale)[first][0]), 4)

    cur = run.sample(N, seed=seed + 1)
    props = {"chosen": run.sample(60_000, member=run.summary["best_member"], seed=seed + 30 + shift)}
    if mix:
        pool = [run.sample(60_000 // k, member=m, seed=seed + 30 + shift) for m in range(k)]
        props["mix"] = np.random.default_rng(seed).permutation(np.concatenate(pool))
    row = {"run": d.split("/")[-1], "cur": (sc(cur, va), sc(cur, te))}
    for name, pool in props.items():
        fake, cand = pool[:20_000], pool[20_000:]
        outs = {"plain": cand[:N]}
        for critic_name, (r1, steps) in CRITICS.items():
            critic = fit_critic(tr, fake, run.frame, seed, r1, steps)
            m = threshold(critic, fake, run.frame)
            outs[critic_name] = accept(critic, run.frame, m, cand, np.random.default_rng(seed + 5 + shift))[:N]
        for critic_name, s in outs.items():
            kernel = smoothing(s, tr, va, seed)
            s2 = s + np.asarray(kernel["bandwidth"]) * np.random.default_rng(seed + 9 + shift).standard_normal(s.shape)
            row[f"{name}-{critic_name}"] = (sc(s, va), sc(s, te), sc(s2, va), sc(s2, te), kernel["factor"], len(s))
    return row


def main() -> None:
    shift = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        print(json.dumps(one(d, shift, sys.argv[3:] != ["chosen"])), flush=True)


if __name__ == "__main__":
    main()
