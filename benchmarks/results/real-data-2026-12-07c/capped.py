"""Screen (2026-12-07c): the peaks at the turns of a 1-D G's map (where G'(z) = 0 its density p(z)/|G'(z)|
has no bound) taken off before the fit's step after training: each of the chosen member's samples kept
with probability min(1, |G'(z)| / c), c the Q-quantile of |G'| over G's noise (a rejected one is drawn
again), so that no branch of the map puts more than p(z)/c there. Then `fitting.conclude` as a fit runs it
(the critic is fitted against, and the kernel put on, the capped samples), on the kept runs of
`benchmarks/real_data.py --keep DIR`.

usage: capped.py DIR GLOB Q   (one JSON line per run, with `val`: the chosen sampler's validation KS)"""

import glob
import json
import sys
import time

import numpy as np
import torch

import ganfit
from ganfit import fitting
from ganfit.measure import metrics as M

EPS = 1e-3


def slope(G, z: torch.Tensor) -> torch.Tensor:
    return ((G(z + EPS) - G(z - EPS)) / (2 * EPS)).abs()[:, 0]


class Capped(torch.nn.Module):
    def __init__(self, G, c: float, seed: int):
        super().__init__()
        self.G, self.c, self.gen = G, c, torch.Generator().manual_seed(seed)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.clone()
        todo = torch.ones(len(z), dtype=torch.bool)
        out = torch.empty(len(z), 1)
        while todo.any():
            x = self.G(z[todo])
            keep = torch.rand(len(x), generator=self.gen) < (slope(self.G, z[todo]) / self.c).clamp(max=1)
            idx = todo.nonzero()[:, 0]
            out[idx[keep]] = x[keep]
            todo[idx[keep]] = False
            z[todo] = torch.randn(int(todo.sum()), z.shape[1], generator=self.gen)
        return out


def main() -> None:
    q = float(sys.argv[3])
    for d in sorted(glob.glob(f"{sys.argv[1]}/{sys.argv[2]}")):
        run = ganfit.load(d)
        record = json.load(open(f"{d}/split.json"))
        info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
        parts = {
            k: np.load(f"{d}/{f}.npy") for k, f in (("train", "target"), ("validation", "validation"), ("test", "test"))
        }
        run.dir, run.refined = None, None
        best = fitting.choose(run.summary["members"], info["chosen_by"], parts["train"].shape[1])
        if q > 0:
            plain = run.generator(best, plain=True)
            with torch.no_grad():
                c = float(torch.quantile(slope(plain, run.noise(20_000, 99, best)), q))
                capped = Capped(plain, c, run.config.seed)
            run.generator = lambda member=None, plain=False, cap=capped, m=best, own=run.generator: (
                cap if member == m else own(member, plain)
            )
        started = time.perf_counter()
        with torch.no_grad():
            fitting.conclude(run, parts, info)
        comp, s = run.summary["comparison"], run.summary["sampler"]
        row = {
            "run": d.split("/")[-1],
            "t": round(time.perf_counter() - started, 2),
            "kind": s["kind"],
            "critic": (s.get("critic") or {}).get("name"),
            "factor": s["smoothing"]["factor"],
            "val": s["smoothing"]["validation"][str(s["smoothing"]["factor"])][M.validation_names(1)[0]],
        }
        print(json.dumps(row | {r["key"]: r[comp["metric"]] for r in comp["rows"]}), flush=True)


if __name__ == "__main__":
    main()
