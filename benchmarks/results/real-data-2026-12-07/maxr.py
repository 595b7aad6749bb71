"""Per set, the mean test score of round 0 and of the round validation picks among rounds 0..R (R = 1, 2, 3),
from the logs of rounds.py; usage: maxr.py LOG..."""

import ast
import sys

import numpy as np


def picked(r: dict, most: int) -> int:
    return min((k for k in r if k != "set" and k <= most), key=lambda k: (r[k][0], k))


def main() -> None:
    rows = [ast.literal_eval(line) for f in sys.argv[1:] for line in open(f) if line.startswith("{")]
    for most in (1, 2, 3):
        for s in sorted({r["set"].rsplit("-split", 1)[0] for r in rows}):
            rs = [r for r in rows if r["set"].startswith(s)]
            r0, by_val = np.mean([r[0][1] for r in rs]), np.mean([r[picked(r, most)][1] for r in rs])
            print(most, s, f"r0 {r0:.4f} by-val {by_val:.4f}")


if __name__ == "__main__":
    main()
