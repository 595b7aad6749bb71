"""Paired comparison of `benchmarks/real_data.py --json` files against the first, on the splits each shares
with it: per set, the mean of ganfit and of the plain G, ganfit's ratio to the best expert's mean (ISJ, CV,
mixture; the flow where scored), on how many splits it is at or below that split's best expert, and the
mean paired difference against the first file with its standard error (a file's first row per set: the
first file on all of its splits).

usage: paired.py BASE.json OTHER.json [...]"""

import json
import sys

import numpy as np

EXPERTS = ("isj", "cv", "mixture", "flow")


def load(path: str) -> dict:
    return {(r["set"], r["split"]): r["scores"] for r in json.load(open(path))}


def row(name: str, f: dict, base: dict, keys: list) -> str:
    g = np.array([f[k]["ganfit"] for k in keys])
    p = np.array([f[k].get("plain", f[k]["ganfit"]) for k in keys])
    best = np.array([min(f[k][e] for e in EXPERTS if f[k].get(e) is not None) for k in keys])
    top = min(np.mean([f[k][e] for k in keys]) for e in EXPERTS if f[keys[0]].get(e) is not None)
    d = g - np.array([base[k]["ganfit"] for k in keys])
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    return (
        f"| {keys[0][0]} | {name.split('/')[-1]} | {g.mean():.4f} | {p.mean():.4f} | {g.mean() / top:.3f} |"
        f" {(g <= best).sum()}/{len(keys)} | {d.mean():+.4f} ± {se:.4f} |"
    )


def main() -> None:
    names = sys.argv[1:]
    base, others = load(names[0]), [load(p) for p in names[1:]]
    print("| set | file | ganfit | plain | / best expert | at or below | ganfit − first (± se) |")
    print("|---|---|---|---|---|---|---|")
    for s in dict.fromkeys(k[0] for f in others for k in f):
        print(row(names[0], base, base, sorted(k for k in base if k[0] == s)))
        for name, f in zip(names[1:], others):
            keys = sorted(k for k in f if k[0] == s and k in base)
            if keys:
                print(row(name, f, base, keys))


if __name__ == "__main__":
    main()
