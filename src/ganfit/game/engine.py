"""The protocol every gradient engine keeps: Game and training talk to an engine through these methods
alone, and never ask which engine it is (plan.engine_for is the one place that chooses).

- `draw(game, keys, first, count)`: a block of epochs' random inputs: the game's Draws (Game.sample_draws),
  or what the engine draws itself inside its replay (cuda.py's DeviceDraws).
- `play(drawn, first, last, lr_scales, ema_weights)`: epochs first..last - 1 of a block, each with its
  learning-rate factor and its weight for G's moving average (None: as they are / no average); returns
  the last epoch's (losses, fake).
- `step(real, z_d, z_g, eps)`: one epoch, D's steps then G's; returns (losses, fake).
- `average(g_live)`: start G's moving average; returns its tensors, shaped as G's parameters.
- `set_lr_scale(scale)`, `state()`, `load_state(tensors)`.
- `name` (summary.json's `engine`) and `splits_members` (members played on threads of their own: the
  thread choice, plan.default_threads).

Engine gives the shared block loop and average; the compiled engine plays a block in one C call instead,
the CUDA one as replays of a captured graph.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Draws(NamedTuple):
    """A block of epochs' random inputs, [count, steps, K, B, dim] each (eps: WGAN-GP's, or None)."""

    real: torch.Tensor
    z_d: torch.Tensor
    z_g: torch.Tensor
    eps: torch.Tensor | None

    def __len__(self) -> int:
        return self.real.shape[0]

    def at(self, t: int) -> tuple:
        """The step's arguments for epoch t of the block."""
        return self.real[t], self.z_d[t], self.z_g[t], None if self.eps is None else self.eps[t]

    def block(self, first: int, last: int) -> tuple:
        """Epochs first..last - 1 as one (real, z_d, z_g, eps) block."""
        return (
            *(t[first:last] for t in (self.real, self.z_d, self.z_g)),
            None if self.eps is None else self.eps[first:last],
        )


class Engine:
    name = "engine"
    splits_members = False
    ema: list[torch.Tensor] | None = None

    def average(self, g_live: list[torch.Tensor]) -> list[torch.Tensor]:
        """G's moving average, a copy of g_live that play() lerps towards it after each epoch."""
        self._g_live, self.ema = g_live, [p.clone() for p in g_live]
        return self.ema

    def draw(self, game, keys: torch.Tensor, first: int, count: int) -> Draws:
        """Epochs [first, first + count)'s real batches and noise, drawn ahead by the game."""
        return game.sample_draws(keys, first, count)

    def play(self, drawn: Draws, first: int, last: int, lr_scales: list | None, ema_weights: list | None):
        """Epochs first..last - 1 of drawn, one step() each: the learning rates' factor first, G's average
        after (lr_scales[i] and ema_weights[i] are epoch first + i's)."""
        for i, t in enumerate(range(first, last)):
            if lr_scales is not None:
                self.set_lr_scale(lr_scales[i])
            out = self.step(*drawn.at(t))
            if self.ema is not None:
                torch._foreach_lerp_(self.ema, self._g_live, ema_weights[i])
        return out

    def step(self, real, z_d, z_g, eps):
        raise NotImplementedError

    def set_lr_scale(self, scale: float, d_scale: float | None = None) -> None:
        """Both nets take `scale` times their configured learning rates from the next step on; D takes
        `d_scale` times its own instead where given (0: D's weights stay, the lab's "G only")."""
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError
