"""What the screens in this folder share: `fitting.conclude` again, in memory, on each kept run of
`benchmarks/real_data.py --keep DIR` (its parts and split record read back), one JSON line per run."""

import glob
import json
import time

import numpy as np

import ganfit
from ganfit import fitting

PARTS = (("train", "target"), ("validation", "validation"), ("test", "test"))


def conclude_each(folder: str, pattern: str = "*", prepare=None) -> None:
    """For each run directory folder/pattern: `prepare(run, parts, info)` (a screen's change), then
    conclude, then print the sampler's record and every comparison row's first metric."""
    for d in sorted(glob.glob(f"{folder}/{pattern}")):
        run = ganfit.load(d)
        record = json.load(open(f"{d}/split.json"))
        info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
        parts = {k: np.load(f"{d}/{f}.npy") for k, f in PARTS}
        run.dir, run.refined = None, None
        if prepare:
            prepare(run, parts, info)
        started = time.perf_counter()
        fitting.conclude(run, parts, info)
        comp, s = run.summary["comparison"], run.summary["sampler"]
        smoothing = s["smoothing"]
        row = {
            "run": d.split("/")[-1],
            "t": round(time.perf_counter() - started, 2),
            "kind": s["kind"],
            "critic": (s.get("critic") or {}).get("name"),
            "cost": s.get("draws_per_sample"),
            "factor": smoothing["factor"],
            "best": run.summary["best_member"],
            "val": next(iter(smoothing["validation"][str(smoothing["factor"])].values())),
        }
        print(json.dumps(row | {r["key"]: r[comp["metric"]] for r in comp["rows"]}), flush=True)
