"""How good the candidates themselves are: per set, the mean over splits of the lowest test score among
the chosen member's 15 candidates (plain G, both critics, five kernels) and among all 45 (the three best
members), as a ratio to the best expert's mean: what a chooser that could see the test part would get.

    python oracle.py candidates-0.jsonl candidates-10.jsonl
"""

import collections
import json
import sys

import numpy as np


def main() -> None:
    by = collections.defaultdict(list)
    for r in (json.loads(ln) for f in sys.argv[1:] for ln in open(f)):
        by[r["set"]].append(r)
    for s, rs in sorted(by.items()):
        m = "ks" if rs[0]["metric"] == "test_ks" else "sw"
        best = min(np.mean([r["scores"][k] for r in rs]) for k in ("isj", "cv", "mixture") if k in rs[0]["scores"])
        fit = np.mean([r["scores"]["ganfit"] for r in rs])
        own = np.mean([min(c["test"][m] for c in r["candidates"] if c["rank"] == 0) for r in rs])
        every = np.mean([min(c["test"][m] for c in r["candidates"]) for r in rs])
        print(
            f"{s:20s} best expert {best:.4f} | fit {fit:.4f} ({fit / best:.2f}) | the best of its member's 15"
            f" {own:.4f} ({own / best:.2f}) | of all 45 {every:.4f} ({every / best:.2f})"
        )


if __name__ == "__main__":
    main()
