"""Section 5's twenty-split table on the AMD EPYC: the 1-D sets from this folder's screen of the defaults
(fit1d's two kinds of G), the 2-D sets from ../real-data-2026-12-07e/ (fit2d, whose fits this change does
not touch: the same code path), the flow's scores and fitting times from the Xeon's
../real-data-2026-12-07d/critic256-splits20.json (the flow is fitted apart from ganfit, on the same rows).

    python table20.py defaults-new-0.jsonl defaults-new-10.jsonl > defaults-splits20.md
"""

import json
import sys
from pathlib import Path

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
flows = {(r["set"], r["split"]): r for r in json.load(open(HERE / "../real-data-2026-12-07d/critic256-splits20.json"))}
by = {(r["set"], r["split"]): r for r in old if r["set"] not in ONE_D} | {(r["set"], r["split"]): r for r in new}
results = []
for name in RD.SETS:
    for s in range(20):
        r = dict(by[(name, s)])
        r["scores"] = r["scores"] | {"flow": flows[(name, s)]["scores"]["flow"]}
        r["flow_wall"] = flows[(name, s)]["flow_wall"]
        results.append(r)
print("\n".join(RD.table(results)))
