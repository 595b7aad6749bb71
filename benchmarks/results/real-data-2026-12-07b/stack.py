"""Screen (2026-12-07b): members as mixture components, their weights the minimum over the simplex of the
energy distance to the validation part (convex there), on the kept runs of `benchmarks/real_data.py --keep
DIR`; beside it the fit's own sampler, the chosen member's plain G, the equal mixture and the member
nearest the validation part by the same distance; (val, test) first metric on 2,000 samples.

usage: stack.py DIR"""

import glob
import json
import sys

import numpy as np
from scipy.optimize import minimize

import ganfit
from ganfit.measure import metrics as M

N = 2000


def mean_dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).mean())


def energy_weights(a: list, b: list, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weights, and each member's mean distance to v (a, b: two draws per member, in the train's stds)."""
    k = len(a)
    dd = np.array([[mean_dist(a[i], b[j]) for j in range(k)] for i in range(k)])
    dd = (dd + dd.T) / 2
    dv = np.array([mean_dist(a[i], v) for i in range(k)])
    runs = [
        minimize(
            lambda w: 2 * w @ dv - w @ dd @ w,
            start,
            jac=lambda w: 2 * dv - 2 * dd @ w,
            bounds=[(0, 1)] * k,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
            method="SLSQP",
        )
        for start in [np.full(k, 1 / k), *np.eye(k)]
    ]
    w = np.clip(min(runs, key=lambda r: r.fun).x, 0, None)
    return w / w.sum(), dv


def mix(run, w: np.ndarray, seed: int) -> np.ndarray:
    counts = np.random.default_rng(seed).multinomial(N, w)
    return np.concatenate([run.sample(int(c), member=m, seed=seed + 100 + m) for m, c in enumerate(counts) if c])


def main() -> None:
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        run = ganfit.load(d)
        tr, va, te = (np.load(f"{d}/{f}.npy") for f in ("target", "validation", "test"))
        seed, scale, k = run.config.seed, tr.std(0), run.members
        first = M.validation_names(tr.shape[1])[0]
        a = [run.sample(600, member=m, seed=seed + 20) / scale for m in range(k)]
        b = [run.sample(600, member=m, seed=seed + 21) / scale for m in range(k)]
        w, dv = energy_weights(a, b, va / scale)
        best = run.summary["best_member"]
        samplers = {
            "ganfit": run.sample(N, seed=seed + 1),
            "plain": run.sample(N, member=best, seed=seed + 1),
            "equal": mix(run, np.full(k, 1 / k), seed + 7),
            "stack": mix(run, w, seed + 7),
            "best_energy": run.sample(N, member=int(np.argmin(dv)), seed=seed + 1),
        }
        row = {"run": d.split("/")[-1], "w": [round(float(x), 3) for x in w], "best": best}
        for key, s in samplers.items():
            row[key] = tuple(round(float(M.against(s[None], p, scale)[first][0]), 4) for p in (va, te))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
