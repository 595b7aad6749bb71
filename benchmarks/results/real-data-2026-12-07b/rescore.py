"""Screen (2026-12-07b): `fitting.conclude` again, in memory, on the kept runs of `benchmarks/real_data.py
--keep DIR` with eval_samples=N, i.e. the critic and kernel chosen on validation, and every comparison row
scored, on N samples instead of 2,000 (run at ea0d806, before `fitting.SCORED`); with `fresh`, the members'
validation scores are first measured again on N fresh samples each, for the member's choice.

usage: rescore.py DIR N [fresh]   (one JSON line per run: each row's first metric; table.py reads them)"""

import glob
import json
import sys
import time

import numpy as np

import ganfit
from ganfit import fitting
from ganfit.measure import metrics as M


def main() -> None:
    n, fresh = int(sys.argv[2]), sys.argv[3:] == ["fresh"]
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        run = ganfit.load(d)
        record = json.load(open(f"{d}/split.json"))
        info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
        parts = {
            k: np.load(f"{d}/{f}.npy") for k, f in (("train", "target"), ("validation", "validation"), ("test", "test"))
        }
        run.dir, run.refined = None, None
        run.config = run.config.replace(eval_samples=n)
        started = time.perf_counter()
        if fresh:
            for m, rec in enumerate(run.summary["members"]):
                s = run.sample(n, member=m, seed=run.config.seed + 1)
                v = M.against(s[None], parts["validation"], parts["train"].std(0))
                rec.update({k: float(x[0]) for k, x in v.items()})
        fitting.conclude(run, parts, info)
        comp, s = run.summary["comparison"], run.summary["sampler"]
        row = {
            "run": d.split("/")[-1],
            "t": round(time.perf_counter() - started, 2),
            "kind": s["kind"],
            "critic": (s.get("critic") or {}).get("name"),
            "factor": s["smoothing"]["factor"],
            "best": run.summary["best_member"],
        }
        print(json.dumps(row | {r["key"]: r[comp["metric"]] for r in comp["rows"]}), flush=True)


if __name__ == "__main__":
    main()
