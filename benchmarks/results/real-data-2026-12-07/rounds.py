"""Screen (2026-12-07): rounds of rejection on the kept runs of `benchmarks/real_data.py --keep DIR`, each
round's critic fitted on the train part against the previous round's samples (round 0: the sampler the fit
chose); each round scored on the validation and test parts with 10,000 samples.

usage: rounds.py DIR [sharp|smooth|R1,STEPS] [SEED_SHIFT] [ROUNDS]; then maxr.py on its log."""

import glob
import sys

import numpy as np
import torch

import ganfit
from ganfit.measure import metrics as M
from ganfit.sampler import CRITICS, fit_critic, threshold


def rounds(d: str, r1: float, steps: int, shift: int, most: int) -> dict:
    run = ganfit.load(d)
    tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
    seed, scale, n = run.config.seed, tr.std(0), 10_000
    first = M.validation_names(tr.shape[1])[0]

    def score(s, part):
        return float(M.against(s[None], part, scale)[first][0])

    pool = run.sample(200_000, seed=seed + 11)
    rng = np.random.default_rng(seed + shift)
    row = {"set": d.split("/")[-1], 0: (score(pool[:n], va), score(pool[:n], te), len(pool))}
    for r in range(1, most + 1):
        critic = fit_critic(tr, pool[:20_000], run.frame, seed + r + shift, r1, steps)
        m = threshold(critic, pool[:20_000], run.frame)
        with torch.no_grad():
            z = run.frame.to_frame(torch.as_tensor(pool[20_000:], dtype=torch.float64)).float()
            logit = critic(z[None])[0, :, 0].double().numpy()
        pool = pool[20_000:][rng.random(len(logit)) < np.exp(np.minimum(logit - m, 0))]
        row[r] = (score(pool[:n], va), score(pool[:n], te), len(pool))
        if len(pool) < 30_000:
            break
    return row


def main() -> None:
    arg = sys.argv[2] if len(sys.argv) > 2 else "sharp"
    r1, steps = CRITICS[arg] if arg in CRITICS else (float(arg.split(",")[0]), int(arg.split(",")[1]))
    shift = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    most = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        print(rounds(d, r1, steps, shift, most), flush=True)


if __name__ == "__main__":
    main()
