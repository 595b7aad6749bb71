"""The 2026-12-07 rules screen: which of (the chosen sampler, all members, the best three) validation would pick,
and its test score; usage: rule.py splits10-rules.json."""
import json, sys, numpy as np
d = json.load(open(sys.argv[1]))
EXPERTS = ("isj", "cv", "mixture", "flow")
sets = list(dict.fromkeys(r["set"] for r in d))
def rule_pick(r, rule):
    v = r["validation"]; names = list(v["ganfit"])
    g, a, b = v["ganfit"], v["all_members"], v["best3"]
    if rule == "ganfit": return "ganfit"
    if rule == "all_first": return "all_members" if a[names[0]] < g[names[0]] else "ganfit"
    if rule == "all_both": return "all_members" if all(a[k] < g[k] for k in names) else "ganfit"
    if rule == "best3_first": return "best3" if b[names[0]] < g[names[0]] else "ganfit"
    if rule == "best3_both": return "best3" if all(b[k] < g[k] for k in names) else "ganfit"
    if rule == "all_vs_plain_first": return "all_members" if a[names[0]] < v["plain"][names[0]] else "ganfit"
    if rule == "any3_rank":
        c = ["ganfit", "all_members", "best3"]
        t = np.array([[v[k][m] for m in names] for k in c]); rk = t.argsort(0).argsort(0).sum(1)
        return c[int(np.lexsort((t[:, 0], rk))[0])]
for rule in ("ganfit", "all_first", "all_both", "best3_first", "best3_both", "all_vs_plain_first", "any3_rank"):
    out = []
    for s in sets:
        rs = [r for r in d if r["set"] == s]
        sc = np.array([r["scores"][rule_pick(r, rule)] for r in rs])
        best = min(np.nanmean([r["scores"].get(e, np.nan) for r in rs]) for e in EXPERTS if any(e in r["scores"] for r in rs))
        picks = sum(rule_pick(r, rule) != "ganfit" for r in rs)
        out.append(f"{s[:12]} {sc.mean():.4f} {sc.mean()/best:.2f} ({picks})")
    print(f"{rule:20s}", " | ".join(out))
