"""Per set, over candidates.py's splits: which kernel factor and sampler fit's rule picked, and each fixed
factor's mean test score on the sampler fit's rule chose (the first metric).

    python factors.py candidates-0.jsonl candidates-10.jsonl
"""

import collections
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import rules as RL  # noqa: E402


def main() -> None:
    by = collections.defaultdict(list)
    for r in (json.loads(ln) for f in sys.argv[1:] for ln in open(f)):
        by[r["set"]].append(r)
    for s, rs in sorted(by.items()):
        names = RL.FIRST[1 if rs[0]["metric"] == "test_ks" else 2]
        picked = [RL.defaults(r["candidates"], names) for r in rs]
        factors = collections.Counter(c["factor"] for c in picked)
        kinds = collections.Counter(c["sampler"] for c in picked)
        fixed = {}
        for f in (0.0, 0.25, 0.5, 0.75, 1.0):
            chosen = [RL.sampler_of(r["candidates"], 0, names) for r in rs]
            fixed[f] = np.mean([next(c for c in cs if c["factor"] == f)["test"][names[0]] for cs in chosen])
        shown = " ".join(f"{f}:{v:.4f}" for f, v in fixed.items())
        print(f"{s:20s} picks {dict(sorted(factors.items()))} kinds {dict(kinds)} | fixed: {shown}")


if __name__ == "__main__":
    main()
