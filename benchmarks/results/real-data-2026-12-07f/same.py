"""Whether the fits of the defaults (two kinds of G, built) score as the offline rule of after.py did
(after-rank.jsonl), split by split: the chosen sampler's test score and the experts'.

    python same.py defaults-new-0.jsonl defaults-new-10.jsonl
"""

import json
import sys

want = {(r["set"], r["split"]): r["scores"] for r in map(json.loads, open("after-rank.jsonl"))}
got = {(r["set"], r["split"]): r["scores"] for f in sys.argv[1:] for r in map(json.loads, open(f))}
differ = [k for k in got if got[k]["ganfit"] != want[k]["ganfit"]]
print(f"{len(got)} fits; the chosen sampler's test score differs from after.py's on {len(differ)}: {differ}")
