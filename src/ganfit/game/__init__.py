"""The game: R (targets, data), I (noise), G and D (models, views), the losses, and the two gradient
engines (autograd, fast) with their Adam, put together by Game."""

from .game import Game, eval_noise, lr_scale
from .targets import Target, make_target

__all__ = ["Game", "Target", "eval_noise", "lr_scale", "make_target"]
