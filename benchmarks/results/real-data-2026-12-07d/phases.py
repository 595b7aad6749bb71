"""Where a `ganfit fit` goes: the CLI run in this process with fitting's phases timed.

python phases.py cats.csv --columns Bwt,Hwt --out /tmp/run
"""

import sys
import time

t0 = time.perf_counter()
import ganfit.cli as cli  # noqa: E402
import ganfit.fitting as F  # noqa: E402

IMPORTS = time.perf_counter() - t0
T: dict[str, float] = {}


def timed(name: str) -> None:
    f = getattr(F, name)

    def g(*a, **k):
        s = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            T[name] = T.get(name, 0.0) + time.perf_counter() - s

    setattr(F, name, g)


for name in ("fit", "_train", "conclude", "refine", "smoothing", "compare", "_save_results"):
    timed(name)
sys.argv = ["ganfit", "fit", *sys.argv[1:]]
try:
    cli.main()
except SystemExit:
    pass
print(f"imports {IMPORTS:.2f} s", {k: round(v, 2) for k, v in T.items()}, file=sys.stderr)
