"""Choice rules after training, compared on candidates.py's output: per set, each rule's mean test score
over the splits, its ratio to the best expert's mean (critic256 twenty-split table's experts, the same
splits), and on how many splits it is at or below the defaults.

    python rules.py OUT.jsonl [...]
"""

import json
import sys
from collections import defaultdict

import numpy as np

FIRST = {1: ("ks", "w1"), 2: ("sw", "mmd")}


def ranksum(rows, names, key="val"):
    table = np.array([[r[key][k] for k in names] for r in rows])
    return table.argsort(0).argsort(0).sum(1)


def kernel(rows, names):
    """The factor with the lowest rank sum over both validation metrics (ties: the smaller), fit's rule."""
    sums = ranksum(rows, names)
    return rows[int(np.lexsort((np.arange(len(rows)), sums))[0])]


def kernel_first(rows, names):
    """The factor with the lowest first validation metric (ties: the smaller)."""
    return min(rows, key=lambda c: (c["val"][names[0]], c["factor"]))


def sampler_of(cands, rank, names):
    """fit's rule: the critic whose choice draw is lowest on the first metric, kept if below the plain G's."""
    mine = [c for c in cands if c["rank"] == rank]
    plain = [c for c in mine if c["sampler"] == "plain"]
    guided = {k: [c for c in mine if c["sampler"] == k] for k in ("smooth", "sharp")}
    best = min(guided, key=lambda k: guided[k][0]["choice"][names[0]])
    if guided[best][0]["choice"][names[0]] < plain[0]["val"][names[0]]:
        return guided[best]
    return plain


def defaults(cands, names):
    return kernel(sampler_of(cands, 0, names), names)


def always(kind):
    return lambda cands, names: kernel([c for c in cands if c["rank"] == 0 and c["sampler"] == kind], names)


def joint_first(cands, names):
    """Sampler and kernel together, by the first validation metric alone (member 0)."""
    mine = [c for c in cands if c["rank"] == 0]
    return min(mine, key=lambda c: c["val"][names[0]])


def joint_rank(cands, names):
    """Sampler and kernel together, by the rank sum over both validation metrics (member 0)."""
    mine = [c for c in cands if c["rank"] == 0]
    return mine[int(np.lexsort((np.arange(len(mine)), ranksum(mine, names)))[0])]


def member_after(cands, names):
    """fit's rule on each of the three best members, then the member whose pick is lowest by rank sum."""
    picks = [defaults_for(cands, r, names) for r in range(3)]
    return picks[int(np.lexsort((np.arange(3), ranksum(picks, names)))[0])]


def defaults_for(cands, rank, names):
    return kernel(sampler_of(cands, rank, names), names)


def first_metric_kernel(cands, names):
    return kernel_first(sampler_of(cands, 0, names), names)


def first_metric_kernel_after(cands, names):
    """first_metric_kernel on each of the three best members, then the lowest by rank sum."""
    picks = [kernel_first(sampler_of(cands, r, names), names) for r in range(3)]
    return picks[int(np.lexsort((np.arange(3), ranksum(picks, names)))[0])]


def fixed(f):
    def rule(cands, names):
        return next(c for c in sampler_of(cands, 0, names) if c["factor"] == f)

    return rule


RULES = {
    "defaults": defaults,
    "always sharp": always("sharp"),
    "always smooth": always("smooth"),
    "always plain": always("plain"),
    "joint, first metric": joint_first,
    "joint, rank sum": joint_rank,
    "member after refining (top 3)": member_after,
    "kernel by the first metric": first_metric_kernel,
    "kernel by the first, member after": first_metric_kernel_after,
    "kernel fixed 0.5": fixed(0.5),
    "kernel fixed 1.0": fixed(1.0),
}


def main() -> None:
    rows = [json.loads(ln) for f in sys.argv[1:] for ln in open(f)]
    by = defaultdict(list)
    for r in rows:
        by[r["set"]].append(r)
    results = {}
    for s, rs in sorted(by.items()):
        dim = 1 if rs[0]["metric"] == "test_ks" else 2
        names = FIRST[dim]
        best = min(np.mean([r["scores"][k] for r in rs]) for k in ("isj", "cv", "mixture") if k in rs[0]["scores"])
        fit = np.array([r["scores"]["ganfit"] for r in rs])
        line = [f"{s} (n={len(rs)}, best expert {best:.4f}, fit's own {fit.mean():.4f})"]
        for name, rule in RULES.items():
            t = np.array([rule(r["candidates"], names)["test"][names[0]] for r in rs])
            base = np.array([defaults(r["candidates"], names)["test"][names[0]] for r in rs])
            d = t - base
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
            results.setdefault(name, {})[s] = t.mean() / best
            line.append(
                f"  {name:32s} {t.mean():.4f} ({t.mean() / best:.3f})  vs defaults {d.mean():+.4f} ± {se:.4f}"
                f"  lower on {int((d < 0).sum())}, higher on {int((d > 0).sum())}"
            )
        print("\n".join(line))
    print("\nat or below the best expert / clustered within 1.1x:")
    for name, per in results.items():
        ratios = " ".join(f"{k[:8]} {v:.2f}" for k, v in per.items())
        print(f"  {name:32s} {sum(v <= 1 for v in per.values())} of {len(per)}  {ratios}")


if __name__ == "__main__":
    main()
