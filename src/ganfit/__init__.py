"""ganfit: train GANs on 1-D and 2-D distributions, measure what they learned, and show the game."""

from .config import Config
from .errors import GanfitError
from .run import Run, load
from .targets import Target, make_target
from .train import Game, train

__all__ = ["Config", "Game", "GanfitError", "Run", "Target", "load", "make_target", "train"]
__version__ = "0.1.0"
