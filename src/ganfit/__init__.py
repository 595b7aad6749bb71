"""ganfit: train GANs on 1-D and 2-D distributions, measure what they learned, and show the game.

    import ganfit
    run = ganfit.train(ganfit.Config(seeds=8, epochs=10_000), out="runs/lib")
    x = run.sample(1000, member=2)  # numpy [1000, dim], in the data's units
    run = ganfit.load("runs/lib")
    run = ganfit.fit(my_array_or_dataframe, out="runs/mine")  # your data: validation, baselines

The names below load on first use (PEP 562), so that `import ganfit` and `ganfit --help` do not pay
for torch and scipy. The layers, bottom up: config and files; game/ (the five parts and the engines);
measure/; rundir/; pictures/; training.py and fitting.py; sweep/; cli.py (docs/architecture.md).
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Config": ".config",
    "GanfitError": ".errors",
    "Game": ".game",
    "Target": ".game",
    "make_target": ".game",
    "Run": ".run",
    "load": ".run",
    "train": ".training",
    "fit": ".fitting",
}
__all__ = sorted(_EXPORTS)
SUBPACKAGES = ("recipes", "notebook", "game", "measure", "rundir", "pictures", "sweep", "lab")  # ganfit.lab.show()


def __getattr__(name: str):
    if name in SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganfit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
