"""The critics' time, kernel.c against torch's ops (GANFIT_COMPILED=0), in one process: a smooth and a sharp
critic (600 + 1,500 steps), one kind's; then both kinds' four in one call; three rounds each.

    OMP_NUM_THREADS=1 python critic_time.py > critic_time.txt
"""

import os
import time

import numpy as np

from ganfit import sampler
from ganfit.game.frame import Frame

rng = np.random.default_rng(0)
real, frame = rng.normal(size=(180, 1)), Frame(np.ones(1), np.zeros(1))
fakes = [rng.normal(size=(20_000, 1)) * 1.3, rng.normal(size=(20_000, 1)) + 0.2]
specs = list(sampler.CRITICS.values())
for rep in range(3):
    for mode in ("1", "0"):
        os.environ["GANFIT_COMPILED"] = mode
        where = "kernel.c" if mode == "1" else "torch"
        for kinds in (1, 2):
            started = time.perf_counter()
            sampler.fit_critics(real, [f for f in fakes[:kinds] for _ in specs], frame, 3, specs * kinds)
            took = time.perf_counter() - started
            print(f"round {rep}: {where:8s} {2 * kinds} critics ({kinds} kind(s)): {took:.2f} s")
