"""The working frame: the affine map between the data's units and the units G and D train in.

The seed's hyperparameters were tuned for N(4, 1.25); with `normalize`, any data is mapped to that
mean and std (or the config's frame_mean and frame_std) to train, and every sample maps back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Frame:
    """frame = data * scale + shift, per dimension."""

    scale: np.ndarray
    shift: np.ndarray
    _on: dict = field(default_factory=dict, repr=False, compare=False)  # (scale, shift) per device and dtype

    @classmethod
    def for_target(cls, target, config) -> Frame:
        if not config.normalize:
            return cls(np.ones(target.dim), np.zeros(target.dim))
        scale = config.frame_std / target.std
        return cls(scale, config.frame_mean - scale * target.mean)

    def is_identity(self) -> bool:
        return bool(np.all(self.scale == 1.0) and np.all(self.shift == 0.0))

    def to_frame(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_identity():
            return x
        key = (str(x.device), x.dtype)  # made once: no host copy inside a CUDA graph
        if key not in self._on:
            self._on[key] = tuple(torch.as_tensor(v, dtype=x.dtype, device=x.device) for v in (self.scale, self.shift))
        scale, shift = self._on[key]
        return x * scale + shift

    def to_data(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_identity():
            return x
        scale = torch.as_tensor(self.scale, dtype=torch.float64, device=x.device)
        shift = torch.as_tensor(self.shift, dtype=torch.float64, device=x.device)
        return ((x.double() - shift) / scale).to(x.dtype)
