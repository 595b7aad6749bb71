"""A screen's JSON lines against the defaults' twenty splits (splits 0-9: ../real-data-2026-12-07b/
splits10-flow.json; 10-19: splits10-19-flow.json here), paired by set and split: per set the mean test
score of each, the mean difference ± its standard error, the ratio of each to the best expert's mean
(the flow included), on how many splits each is at or below that split's best expert, and the time.

    python paired20.py cb-0.jsonl cb-10.jsonl
"""

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
EXPERTS = ("isj", "cv", "mixture", "flow")


def main() -> None:
    base = {}
    for f in (HERE / "../real-data-2026-12-07b/splits10-flow.json", HERE / "splits10-19-flow.json"):
        base |= {(r["set"], r["split"]): r for r in json.loads(f.read_text())}
    new = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
    head = "| set | splits | defaults | screen | screen - defaults | ratio to the best expert | at or below | one fit |"
    print(head + "\n" + "|---" * 8 + "|")
    total = [0, 0]
    for name in dict.fromkeys(r["set"] for r in new):
        rs = sorted((r for r in new if r["set"] == name), key=lambda r: r["split"])
        bs = [base[(name, r["split"])] for r in rs]
        a = np.array([b["scores"]["ganfit"] for b in bs])
        b = np.array([r["scores"]["ganfit"] for r in rs])
        ex = np.array([[x["scores"].get(k, np.nan) for k in EXPERTS] for x in bs])  # the same experts for both
        best = np.nanmin(np.nanmean(ex, 0))
        per = np.nanmin(ex, 1)
        d = b - a
        below = (int(np.sum(a <= per)), int(np.sum(b <= per)))
        total[0] += np.mean(a) <= best
        total[1] += np.mean(b) <= best
        print(
            f"| {name} | {len(rs)} | {a.mean():.4f} | {b.mean():.4f}"
            f" | {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f}"
            f" | {a.mean() / best:.3f} / {b.mean() / best:.3f} | {below[0]} / {below[1]}"
            f" | {np.mean([x['wall'] for x in bs]):.1f} / {np.mean([r['wall'] for r in rs]):.1f} s |"
        )
    print(f"\nsets at or below the best expert's mean: defaults {total[0]}, screen {total[1]}")


if __name__ == "__main__":
    main()
