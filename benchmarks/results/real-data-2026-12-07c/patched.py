"""Screen (2026-12-07c): `fitting.conclude` again, in memory, on the kept runs of `benchmarks/real_data.py
--keep DIR`, with module constants of ganfit.sampler or ganfit.fitting replaced (e.g. sampler.QUANTILE=0.99):
the critic, the kernel and every comparison row as a fit with that constant would give them.

usage: patched.py DIR [GLOB] [module.NAME=VALUE ...]
(one JSON line per run; ../real-data-2026-12-07b/table.py reads them)"""

import ast
import glob
import json
import sys
import time

import numpy as np

import ganfit
from ganfit import fitting, sampler

MODULES = {"sampler": sampler, "fitting": fitting}


def main() -> None:
    pattern = next((a for a in sys.argv[2:] if "=" not in a), "*")
    for patch in (a for a in sys.argv[2:] if "=" in a):
        name, value = patch.split("=", 1)
        module, attr = name.split(".")
        setattr(MODULES[module], attr, ast.literal_eval(value))
    for d in sorted(glob.glob(f"{sys.argv[1]}/{pattern}")):
        run = ganfit.load(d)
        record = json.load(open(f"{d}/split.json"))
        info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
        parts = {
            k: np.load(f"{d}/{f}.npy") for k, f in (("train", "target"), ("validation", "validation"), ("test", "test"))
        }
        run.dir, run.refined = None, None
        started = time.perf_counter()
        fitting.conclude(run, parts, info)
        comp, s = run.summary["comparison"], run.summary["sampler"]
        row = {
            "run": d.split("/")[-1],
            "t": round(time.perf_counter() - started, 2),
            "kind": s["kind"],
            "critic": (s.get("critic") or {}).get("name"),
            "cost": s.get("draws_per_sample"),
            "factor": s["smoothing"]["factor"],
            "best": run.summary["best_member"],
        }
        print(json.dumps(row | {r["key"]: r[comp["metric"]] for r in comp["rows"]}), flush=True)


if __name__ == "__main__":
    main()
