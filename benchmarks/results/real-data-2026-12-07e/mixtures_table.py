"""mixtures.py's lines as one table: per set, the mean test score (first metric) of fit's own member, the
mixture of two and of three members, and of the one of the three that validation prefers (the lowest
rank sum over both validation metrics; ties: the fewer members), each as a ratio to the best expert's
mean over the same splits (the experts from candidates.py's lines), and paired with the member alone.

    python mixtures_table.py candidates-0.jsonl,candidates-10.jsonl mixtures-0.jsonl mixtures-10.jsonl
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

KINDS = ("member", "mix2", "mix3")


def main() -> None:
    here = Path(__file__).parent
    experts = {}
    for f in sys.argv[1].split(","):
        experts |= {(r["set"], r["split"]): r["scores"] for r in map(json.loads, open(here / f))}
    by = defaultdict(list)
    for r in (json.loads(ln) for f in sys.argv[2:] for ln in open(f)):
        by[r["set"]].append(r)
    for s, rs in sorted(by.items()):
        first = next(iter(rs[0]["member"]["test"]))
        best = min(
            np.mean([experts[(s, r["split"])][k] for r in rs])
            for k in ("isj", "cv", "mixture")
            if k in experts[(s, rs[0]["split"])]
        )
        t = {k: np.array([r[k]["test"][first] for r in rs]) for k in KINDS}

        def chosen(r):
            table = np.array([list(r[k]["val"].values()) for k in KINDS])
            return KINDS[int(np.lexsort((np.arange(3), table.argsort(0).argsort(0).sum(1)))[0])]

        t["by validation"] = np.array([r[chosen(r)]["test"][first] for r in rs])
        cells = []
        for k, v in t.items():
            d = v - t["member"]
            cells.append(
                f"{k} {v.mean():.4f} ({v.mean() / best:.3f}, {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f})"
            )
        print(f"{s:20s} n={len(rs)} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
