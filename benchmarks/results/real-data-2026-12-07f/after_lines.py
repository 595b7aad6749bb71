"""after.py's lines as table.py's: each rule's chosen family's test score as the fit's ("ganfit"), the
experts' scores from the ELU screen's lines of the same split.

    python after_lines.py after.jsonl elu.jsonl RULE > OUT.jsonl      # RULE: by_ks or by_rank
"""

import json
import sys

experts = {(r["set"], r["split"]): r["scores"] for r in map(json.loads, open(sys.argv[2]))}
for r in map(json.loads, open(sys.argv[1])):
    key = (r["set"], r["split"])
    scores = experts[key] | {"ganfit": r["families"][r[sys.argv[3]]]["test"]}
    print(json.dumps({"set": r["set"], "split": r["split"], "scores": scores}))
