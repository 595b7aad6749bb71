"""Whether the expert baselines depend on how many BLAS/OpenMP threads they run on: each baseline of every
fit in the table (the eight sets, twenty splits, the train part as fit splits it) at 1 and at 2 threads
(threadpoolctl), compared sample for sample.

    python baseline_threads.py > baseline_threads.txt
"""

import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ganfit.fitting import split
from ganfit.measure.baselines import baselines

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

differ: dict[str, list] = {}
count = 0
for name, load in RD.SETS.items():
    x = np.asarray(load(), dtype=np.float64)
    x = x.reshape(len(x), -1)
    for s in range(20):
        tr, _, _ = split(len(x), 0.2, s)
        got = {}
        for threads in (1, 2):
            with threadpool_limits(threads):
                got[threads] = {b.key: b.samples for b in baselines(x[tr], 20_000, s)}
        count += 1
        for key, a in got[1].items():
            if not np.array_equal(a, got[2][key]):
                differ.setdefault(key, []).append((name, s))
for key in ("isj", "cv", "mixture", "scott"):
    print(f"{key}: differs between 1 and 2 threads on {len(differ.get(key, []))} of {count} fits {differ.get(key, [])}")
