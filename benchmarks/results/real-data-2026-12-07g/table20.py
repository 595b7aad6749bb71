"""Section 5's twenty-split table: every set from this folder's screen of the defaults (the critics in
kernel.c), the flow's scores and fitting times from the Xeon's ../real-data-2026-12-07d/critic256-splits20.json
(the flow is fitted apart from ganfit, on the same rows).

    python table20.py defaults-0.jsonl defaults-10.jsonl > defaults-splits20.md
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

HERE = Path(__file__).parent
by = {(r["set"], r["split"]): r for f in sys.argv[1:] for r in map(json.loads, open(f))}
flows = {(r["set"], r["split"]): r for r in json.load(open(HERE / "../real-data-2026-12-07d/critic256-splits20.json"))}
results = []
for name in RD.SETS:
    for s in range(20):
        r = dict(by[(name, s)])
        r["scores"] = r["scores"] | {"flow": flows[(name, s)]["scores"]["flow"]}
        r["flow_wall"] = flows[(name, s)]["flow_wall"]
        results.append(r)
print("\n".join(RD.table(results)))
