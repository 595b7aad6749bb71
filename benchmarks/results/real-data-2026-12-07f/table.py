"""Mean test score of each screen's fit over the splits it shares with the others, and its ratio to the
best expert's mean (the lowest of the ISJ KDE, the CV KDE, the mixture and Scott's KDE over the same
splits), per set; with each half of the splits alone.

    python table.py NAME=FILE.jsonl ... [--splits 0:20]
"""

import json
import sys
from collections import defaultdict

import numpy as np

EXPERTS = ("isj", "cv", "mixture", "scott")


def read(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        out[(r["set"], r["split"])] = r["scores"]
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if "=" in a]
    screens = {a.split("=", 1)[0]: read(a.split("=", 1)[1]) for a in args}
    sets = sorted({k[0] for s in screens.values() for k in s}, key=lambda n: n)
    for label, keep in (
        ("all splits", lambda s: True),
        ("splits 0-9", lambda s: s < 10),
        ("splits 10-19", lambda s: s >= 10),
    ):
        print(f"\n{label}")
        print("screen".ljust(14) + "".join(f"{n[:18]:>22}" for n in sets) + "  at or below")
        base = next(iter(screens.values()))
        rows = defaultdict(dict)
        for name, sc in screens.items():
            below = 0
            for n in sets:
                common = sorted(
                    s
                    for (m, s) in set.intersection(*[{k for k in x if k[0] == n} for x in screens.values()])
                    if keep(s)
                )
                if not common:
                    rows[name][n] = "–"
                    continue
                mean = np.mean([sc[(n, s)]["ganfit"] for s in common])
                expert = min(np.mean([base[(n, s)][e] for s in common]) for e in EXPERTS if e in base[(n, common[0])])
                rows[name][n] = f"{mean:.4f} ({mean / expert:.2f})"
                below += mean <= expert
            print(name.ljust(14) + "".join(f"{rows[name][n]:>22}" for n in sets) + f"  {below}")


if __name__ == "__main__":
    main()
