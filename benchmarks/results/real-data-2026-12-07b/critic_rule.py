"""Screen (2026-12-07b): `fitting.conclude` again on the kept runs of `benchmarks/real_data.py --keep DIR`
(every choice on fitting.SCORED samples) with the D-guided step's critic, or the plain G, chosen by the sum
of ranks over both validation metrics (as the member and the kernel are) instead of the first metric.

usage: critic_rule.py DIR   (one JSON line per run, as rescore.py; table.py reads them)"""

import glob
import json
import sys

import numpy as np

import ganfit
from ganfit import fitting
from ganfit.sampler import CRITICS, fit_critic

FIRST_METRIC = fitting.refine


def by_rank(run, member, train_x, val_x, plain):
    guided, record = FIRST_METRIC(run, member, train_x, val_x, plain)
    if guided is None:
        return guided, record
    v = record["validation"]  # plain, then each critic
    keys, names = list(v), list(v["plain"])
    table = np.array([[v[k][m] for m in names] for k in keys])
    pick = keys[int(np.lexsort((np.arange(len(keys)), table.argsort(0).argsort(0).sum(1)))[0])]
    record["kind"] = "plain" if pick == "plain" else "d-guided"
    if pick not in ("plain", record["critic"]["name"]):  # the other critic: fitted again, as refine() did
        seed, (r1, steps) = run.config.seed, CRITICS[pick]
        fake = run.sample(20_000, member=member, seed=seed + 2)
        guided = fitting.dguided(run, member, fit_critic(train_x, fake, run.frame, seed, r1, steps), fake)
        record["critic"] = {"name": pick, "r1": r1, "steps": steps}
    return guided, record


def main() -> None:
    fitting.refine = by_rank
    for d in sorted(glob.glob(sys.argv[1] + "/*")):
        run = ganfit.load(d)
        record = json.load(open(f"{d}/split.json"))
        info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
        files = {"train": "target", "validation": "validation", "test": "test"}
        parts = {k: np.load(f"{d}/{f}.npy") for k, f in files.items()}
        run.dir, run.refined = None, None
        fitting.conclude(run, parts, info)
        comp, s = run.summary["comparison"], run.summary["sampler"]
        row = {"run": d.split("/")[-1], "kind": s["kind"], "critic": (s.get("critic") or {}).get("name")}
        print(json.dumps(row | {r["key"]: r[comp["metric"]] for r in comp["rows"]}), flush=True)


if __name__ == "__main__":
    main()
