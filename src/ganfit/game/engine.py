"""The protocol every gradient engine keeps: Game and training talk to an engine through these methods
alone, and never ask which engine it is (plan.engine_for is the one place that chooses).

- `play(real, z_d, z_g, eps, lr_scales, ema_weights)`: a block of consecutive epochs (the draws' leading
  axis), each with its learning-rate factor and its weight for G's moving average (None: as they are /
  no average); returns the last epoch's (losses, fake).
- `step(real, z_d, z_g, eps)`: one epoch, D's steps then G's; returns (losses, fake).
- `average(g_live)`: start G's moving average; returns its tensors, shaped as G's parameters.
- `set_lr_scale(scale)`, `state()`, `load_state(tensors)`.
- `name` (summary.json's `engine`) and `splits_members` (members played on threads of their own: the
  thread choice, plan.default_threads).

Engine gives the shared block loop and average; the compiled engine plays a block in one C call instead.
"""

from __future__ import annotations

import torch


class Engine:
    name = "engine"
    splits_members = False
    ema: list[torch.Tensor] | None = None

    def average(self, g_live: list[torch.Tensor]) -> list[torch.Tensor]:
        """G's moving average, a copy of g_live that play() lerps towards it after each epoch."""
        self._g_live, self.ema = g_live, [p.clone() for p in g_live]
        return self.ema

    def play(self, real, z_d, z_g, eps, lr_scales: list[float] | None, ema_weights: list[float] | None):
        """len(real) epochs, one step() each: the learning rates' factor first, G's average after."""
        for t in range(len(real)):
            if lr_scales is not None:
                self.set_lr_scale(lr_scales[t])
            out = self.step(real[t], z_d[t], z_g[t], None if eps is None else eps[t])
            if self.ema is not None:
                torch._foreach_lerp_(self.ema, self._g_live, ema_weights[t])
        return out

    def step(self, real, z_d, z_g, eps):
        raise NotImplementedError

    def set_lr_scale(self, scale: float) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError
