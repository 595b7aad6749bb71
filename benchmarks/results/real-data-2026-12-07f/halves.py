"""table20.py's sets by halves of the splits: each set's mean test score, its ratio to the best expert's
mean (real_data.EXPERTS, the flow's from the Xeon as in table20.py), and how many sets are at or below.

    python halves.py defaults-new-0.jsonl defaults-new-10.jsonl
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

HERE = Path(__file__).parent
ONE_D = ("quakes-depth", "rivers", "faithful-eruptions", "geyser-duration", "penguins-body-mass")
new = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
old = [
    json.loads(line)
    for f in ("candidates-0.jsonl", "candidates-10.jsonl")
    for line in open(HERE / "../real-data-2026-12-07e" / f)
]
flows = {
    (r["set"], r["split"]): r["scores"]["flow"]
    for r in json.load(open(HERE / "../real-data-2026-12-07d/critic256-splits20.json"))
}
by = {(r["set"], r["split"]): r["scores"] for r in old if r["set"] not in ONE_D} | {
    (r["set"], r["split"]): r["scores"] for r in new
}
for label, splits in (("splits 0-9", range(10)), ("splits 10-19", range(10, 20)), ("all twenty", range(20))):
    cells, below = [], 0
    for name in RD.SETS:
        rows = [by[(name, s)] | {"flow": flows[(name, s)]} for s in splits]
        mean = np.mean([r["ganfit"] for r in rows])
        best = min(np.mean([r[e] for r in rows]) for e in RD.EXPERTS if all(r.get(e) is not None for r in rows))
        cells.append(f"{name} {mean / best:.2f}")
        below += mean <= best
    print(f"{label}: {below} of 8 at or below; " + ", ".join(cells))
