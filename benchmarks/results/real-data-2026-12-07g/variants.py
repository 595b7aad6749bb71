"""critic_variants.py's lines as a table: per set and variant, the chosen sampler's mean test score over
the splits, its ratio to the best expert's mean, and its paired difference from `as-is` (± standard error,
lower on how many splits).

    python variants.py variants-a.jsonl variants-b.jsonl > variants.txt
"""

import json
import sys

import numpy as np

EXPERTS = ("isj", "cv", "mixture")
rows = [json.loads(line) for f in sys.argv[1:] for line in open(f)]
sets = list(dict.fromkeys(r["set"] for r in rows))
variants = list(dict.fromkeys(r["variant"] for r in rows))
by = {(r["set"], r["split"], r["variant"]): r["scores"] for r in rows}
for name in sets:
    splits = sorted({s for n, s, _ in by if n == name})
    best = min(
        np.mean([by[(name, s, "as-is")][e] for s in splits]) for e in EXPERTS if e in by[(name, splits[0], "as-is")]
    )
    print(f"{name} ({len(splits)} splits; best expert {best:.4f})")
    for v in variants:
        have = [s for s in splits if (name, s, v) in by]
        x = np.array([by[(name, s, v)]["ganfit"] for s in have])
        d = x - np.array([by[(name, s, "as-is")]["ganfit"] for s in have])
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        paired = f"{d.mean():+.4f} ± {se:.4f} (lower on {(d < 0).sum()}/{len(d)})"
        print(f"  {v:14s} {x.mean():.4f} ({x.mean() / best:.2f}x)  vs as-is {paired}")
