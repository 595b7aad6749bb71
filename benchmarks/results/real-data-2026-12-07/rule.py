"""The 2026-12-07 rules screen: which of (the chosen sampler, an equal mixture of all members, one of the
best three) validation would pick, and that pick's test score per set; usage: rule.py splits10-rules.json."""

import json
import sys

import numpy as np

EXPERTS = ("isj", "cv", "mixture", "flow")
RULES = ("ganfit", "all_first", "all_both", "best3_first", "best3_both", "all_vs_plain_first", "any3_rank")


def pick(r: dict, rule: str) -> str:
    v = r["validation"]
    names = list(v["ganfit"])
    g, a, b = v["ganfit"], v["all_members"], v["best3"]
    first = names[0]
    choices = {
        "ganfit": False,
        "all_first": a[first] < g[first],
        "all_both": all(a[k] < g[k] for k in names),
        "best3_first": b[first] < g[first],
        "best3_both": all(b[k] < g[k] for k in names),
        "all_vs_plain_first": a[first] < v["plain"][first],
    }
    if rule in choices:
        return ("best3" if rule.startswith("best3") else "all_members") if choices[rule] else "ganfit"
    c = ["ganfit", "all_members", "best3"]  # any3_rank: the lowest sum of ranks over both metrics
    t = np.array([[v[k][m] for m in names] for k in c])
    return c[int(np.lexsort((t[:, 0], t.argsort(0).argsort(0).sum(1)))[0])]


def main() -> None:
    d = json.load(open(sys.argv[1]))
    sets = list(dict.fromkeys(r["set"] for r in d))
    for rule in RULES:
        out = []
        for s in sets:
            rs = [r for r in d if r["set"] == s]
            sc = np.array([r["scores"][pick(r, rule)] for r in rs])
            best = min(np.mean([r["scores"][e] for r in rs]) for e in EXPERTS if e in rs[0]["scores"])
            picks = sum(pick(r, rule) != "ganfit" for r in rs)
            out.append(f"{s[:12]} {sc.mean():.4f} {sc.mean() / best:.2f} ({picks})")
        print(f"{rule:20s}", " | ".join(out))


if __name__ == "__main__":
    main()
