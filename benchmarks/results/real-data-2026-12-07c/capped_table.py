"""The table of capped.py's screens against patched-defaults.jsonl: per 1-D set, the mean test KS with the
cap forced, of the capped plain G, and with the cap kept only where validation's KS is lower than the
defaults' (read from the kept runs' summary.json).

usage: capped_table.py KEPT_DIR Q [Q ...]   (in this folder: reads capped-Q.jsonl)"""

import collections
import json
import sys

import numpy as np


def load(path: str) -> dict:
    rows = [json.loads(line) for line in open(path)]
    return {r["run"]: r for r in rows}


def main() -> None:
    base = load("patched-defaults.jsonl")
    for r in base:
        s = json.load(open(f"{sys.argv[1]}/{r}/summary.json"))["sampler"]["smoothing"]
        base[r]["val"] = s["validation"][str(s["factor"])].get("val_ks")
    screens = {q: load(f"capped-{q}.jsonl") for q in sys.argv[2:]}
    sets = collections.defaultdict(list)
    for r in screens[sys.argv[2]]:
        sets[r.rsplit("-split", 1)[0]].append(r)
    for s, runs in sets.items():
        line = f"{s:20} defaults {np.mean([base[r]['ganfit'] for r in runs]):.4f}"
        for q, v in screens.items():
            forced = np.mean([v[r]["ganfit"] for r in runs])
            plain = np.mean([v[r].get("plain", v[r]["ganfit"]) for r in runs])
            better = [v[r]["val"] < base[r]["val"] for r in runs]
            kept = np.mean([v[r]["ganfit"] if b else base[r]["ganfit"] for r, b in zip(runs, better)])
            line += f" | q {q}: forced {forced:.4f}, plain {plain:.4f}, by validation {kept:.4f} ({sum(better)} capped)"
        print(line)


if __name__ == "__main__":
    main()
