"""The game: R (targets, data), I (noise), G and D (models, views), the losses, and the two gradient
engines (autograd, fast) with their Adam, put together by Game."""

from .game import Game, engine_for, eval_noise, lr_scale
from .targets import Target, make_target

__all__ = ["Game", "Target", "engine_for", "eval_noise", "lr_scale", "make_target"]
