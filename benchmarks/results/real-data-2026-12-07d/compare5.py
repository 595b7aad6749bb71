"""A screen's JSON lines against the defaults' kept runs of the same splits (real-data-2026-12-07c,
splits 0-19): per set, the screen's mean test score (and its plain G's), the defaults', each as a
ratio to the best expert's mean over the same splits, and the screen's time per fit.

    python compare5.py projected-lr3e-4.jsonl
"""

import json
import sys
from pathlib import Path

import numpy as np

KEPT = Path(__file__).parent / "../real-data-2026-12-07c"


def main() -> None:
    base = {}
    for name in ("splits10-keep.json", "splits10-19-keep.json"):
        base |= {(r["set"], r["split"]): r["scores"] for r in json.loads((KEPT / name).read_text())}
    by: dict[str, list] = {}
    for line in (ln for f in sys.argv[1:] for ln in open(f)):
        r = json.loads(line)
        by.setdefault(r["set"], []).append(r)
    for s, rs in sorted(by.items()):
        b = [base[(s, r["split"])] for r in rs]

        def mean(rows, key):
            return float(np.mean([x[key] for x in rows]))

        best = min(mean(b, k) for k in ("isj", "cv", "mixture") if all(k in x for x in b))
        scores = [r["scores"] for r in rs]
        new, old = mean(scores, "ganfit"), mean(b, "ganfit")
        print(
            f"{s:20s} n={len(rs):2d} new {new:.4f} ({new / best:.2f}) plain {mean(scores, 'plain'):.4f}"
            f" | defaults {old:.4f} ({old / best:.2f}) plain {mean(b, 'plain'):.4f} | best expert {best:.4f}"
            f" | {np.mean([r['wall'] for r in rs]):.1f} s"
        )


if __name__ == "__main__":
    main()
