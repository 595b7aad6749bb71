"""The game: R (targets, data), I (noise), G and D (models, views), the losses, and the gradient engines
(autograd, fast, compiled; one protocol: engine.py) with their Adam, planned once (plan.py) and put
together by Game."""

from .game import Game, eval_noise, lr_scale
from .plan import Plan, engine_for
from .targets import Target, make_target

__all__ = ["Game", "Plan", "Target", "engine_for", "eval_noise", "lr_scale", "make_target"]
