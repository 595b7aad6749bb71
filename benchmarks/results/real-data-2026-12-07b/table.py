"""Per set, the mean over splits of the screens' JSON lines (rescore.py, proposals.py, stack.py): test
scores, and for rescore.py the ratio to the best expert (of those scored) and the splits at or below it.

usage: table.py FILE.jsonl [FILE.jsonl ...]   (files of one screen)"""

import collections
import json
import sys

import numpy as np

EXPERTS = ("isj", "cv", "mixture", "flow")
CRITICS = ("plain", "smooth", "sharp")


def by_validation(r: dict, keys: list[str]) -> float:
    """The smoothed test score of the candidate with the lowest unsmoothed validation score (a fit's rule)."""
    return r[min(keys, key=lambda k: (r[k][0], keys.index(k)))][3]


def columns(r: dict) -> dict:
    if "isj" in r or "cv" in r:  # rescore.py
        return {k: r.get(k, r["ganfit"] if k == "plain" else None) for k in ("ganfit", "plain", "median", *EXPERTS)}
    if "w" in r:  # stack.py
        return {k: r[k][1] for k in ("ganfit", "plain", "equal", "stack", "best_energy")}
    out = {"cur": r["cur"][1]}  # proposals.py
    for p in ("chosen", "mix"):
        if f"{p}-plain" in r:
            out[f"{p}: by validation"] = by_validation(r, [f"{p}-{c}" for c in CRITICS])
            out[f"{p}: plain G"] = r[f"{p}-plain"][1]
    if "mix-plain" in r:
        out["either, by validation"] = by_validation(r, [f"{p}-{c}" for p in ("chosen", "mix") for c in CRITICS])
    return out


def main() -> None:
    rows = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
    sets = collections.defaultdict(list)
    for r in rows:
        sets[r["run"].rsplit("-split", 1)[0]].append(columns(r))
    names = list(next(iter(sets.values()))[0])
    print("| set | splits | " + " | ".join(names) + " | ganfit / best expert | at or below |")
    for s, rs in sets.items():
        mean = {k: np.mean([r[k] for r in rs]) if rs[0][k] is not None else np.nan for k in names}
        cells = " | ".join(f"{mean[k]:.4f}" if np.isfinite(mean[k]) else "–" for k in names)
        experts = [k for k in EXPERTS if k in names and np.isfinite(mean[k])]
        if experts:
            best = min(mean[k] for k in experts)
            below = sum(r["ganfit"] <= min(r[k] for k in experts) for r in rs)
            cells += f" | {mean['ganfit'] / best:.3f} | {below}/{len(rs)}"
        else:
            cells += " | | "
        print(f"| {s} | {len(rs)} | {cells} |")


if __name__ == "__main__":
    main()
