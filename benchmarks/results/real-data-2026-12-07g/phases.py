"""Where one `ganfit fit` spends its time, in one process: the imports it needs, then fit's phases (each
fitting function's total seconds, nested ones inside their callers'; run_pictures is the run's two PNGs).

    python phases.py /tmp/fit-timing/geyser.csv duration
"""

import sys
import time

started = time.perf_counter()
import ganfit.fitting as F  # noqa: E402
from ganfit.pictures import figures  # noqa: E402

imported = time.perf_counter() - started
seconds: dict[str, float] = {}


def timed(module, name: str) -> None:
    fn = getattr(module, name)

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t

    setattr(module, name, wrapper)


for name in ("_train", "conclude", "fit_critics", "finish", "refine", "smoothing", "baselines", "compare"):
    timed(F, name)
timed(F, "_save_results")
timed(figures, "run_pictures")  # training.py calls it through the module
started = time.perf_counter()
F.fit(sys.argv[1], column=sys.argv[2], out="/tmp/phases-run", progress=False, drop_missing=True)
total = time.perf_counter() - started
print(f"imports {imported:.2f} s, fit {total:.2f} s:", {k: round(v, 2) for k, v in seconds.items()})
