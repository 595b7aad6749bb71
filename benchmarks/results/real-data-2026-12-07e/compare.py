"""A screen's JSON lines (fields.py's) paired with the defaults of the same splits on the same machine
(candidates.py's lines, whose fits are the defaults'): per set the screen's mean test score, its ratio to
the best expert's mean over the same splits, the defaults', and the paired difference (mean ± se).

    python compare.py candidates-0.jsonl,candidates-10.jsonl infogan-lambda0.1.jsonl
"""

import json
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    here = Path(__file__).parent
    base = {}
    for f in sys.argv[1].split(","):
        base |= {(r["set"], r["split"]): r["scores"] for r in map(json.loads, open(here / f))}
    by: dict[str, list] = {}
    for line in (ln for f in sys.argv[2:] for ln in open(f)):
        r = json.loads(line)
        by.setdefault(r["set"], []).append(r)
    for s, rs in sorted(by.items()):
        b = [base[(s, r["split"])] for r in rs]
        best = min(np.mean([x[k] for x in b]) for k in ("isj", "cv", "mixture") if all(k in x for x in b))
        new, old = np.array([r["scores"]["ganfit"] for r in rs]), np.array([x["ganfit"] for x in b])
        d = new - old
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        plain = np.mean([r["scores"]["plain"] for r in rs])
        print(
            f"{s:20s} n={len(rs):2d} new {new.mean():.4f} ({new.mean() / best:.3f}) plain {plain:.4f}"
            f" | defaults {old.mean():.4f} ({old.mean() / best:.3f}) | new - defaults {d.mean():+.4f} ± {se:.4f}"
            f" | {np.mean([r['wall'] for r in rs]):.1f} s"
        )


if __name__ == "__main__":
    main()
