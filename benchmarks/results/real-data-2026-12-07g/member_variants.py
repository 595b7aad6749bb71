"""What fewer members would give (a fit trains its members apart: a 2 + 2 ensemble is members 0, 1 and 3, 4
of a 3 + 3 one, as seeds go): fit's steps after training again on the runs the screen kept, each kind's
member chosen among its first `per` members only; one JSON line per run and variant, its test scores.
`3+3` must give the screen's scores.

    python member_variants.py /tmp/keep-g quakes-depth,rivers 0:20 OUT.jsonl
"""

import json
import sys
from pathlib import Path

from again import conclude_again

from ganfit import fitting

VARIANTS = {"3+3": 3, "2+2": 2, "1+1": 1}  # members per kind
kinds = fitting.kinds

keep, sets, (first, n), out = Path(sys.argv[1]), sys.argv[2].split(","), map(int, sys.argv[3].split(":")), sys.argv[4]
for name in sets:
    for s in range(first, first + n):
        for variant, per in VARIANTS.items():
            fitting.kinds = lambda run, per=per: {k: g[:per] for k, g in kinds(run).items()}
            run = conclude_again(keep / f"{name}-split{s}")
            comp = run.summary["comparison"]
            scores = {r["key"]: r[comp["metric"]] for r in comp["rows"]}
            line = {"set": name, "split": s, "variant": variant, "scores": scores}
            with open(out, "a") as fh:
                fh.write(json.dumps(line) + "\n")
            print(name, s, variant, round(scores["ganfit"], 4), flush=True)
