"""ganfit: train GANs on 1-D and 2-D distributions, measure what they learned, and show the game."""

import os

# OpenMP threads that spin while waiting make every small op ~25x slower as soon as another process
# wants the same core (measured: docs/performance.md); sleeping waiters cost little when idle. This
# takes effect only if torch is not imported yet (the CLI always qualifies); users may override it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import Config
from .errors import GanfitError
from .run import Run, load
from .targets import Target, make_target
from .train import Game, train

__all__ = ["Config", "Game", "GanfitError", "Run", "Target", "load", "make_target", "train"]
__version__ = "0.1.0"
