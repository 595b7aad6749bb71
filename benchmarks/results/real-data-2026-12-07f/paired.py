"""Each screen's fit paired with the defaults' (the first file) on the same split: the mean difference of
the test score ± its standard error over the splits, per set, and on how many splits it is lower.

    python paired.py elu.jsonl after-rank.jsonl relu.jsonl ...
"""

import json
import sys

import numpy as np


def read(path):
    return {(r["set"], r["split"]): r["scores"]["ganfit"] for r in map(json.loads, open(path))}


base = read(sys.argv[1])
sets = sorted({k[0] for k in base})
print("screen".ljust(16) + "".join(f"{n[:18]:>28}" for n in sets))
for path in sys.argv[2:]:
    other = read(path)
    cells = []
    for n in sets:
        d = np.array([other[k] - base[k] for k in base if k[0] == n and k in other])
        cells.append(f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f} ({(d < 0).sum()}/{len(d)})")
    print(path.removesuffix(".jsonl").ljust(16) + "".join(f"{c:>28}" for c in cells))
