"""The working frame: the affine map between the data's units and the units G and D train in.

The seed's hyperparameters were tuned for N(4, 1.25); with `normalize`, any data is mapped to that
mean and std (or the config's frame_mean and frame_std) to train, and every sample maps back.

Training's numbers are float32, whose spacing at 1.7e9 is 128: data far from zero relative to their
spread (timestamps, say) would come back quantised. Where the frame's shift says so (`wide`), data
enter the frame from float64 and samples leave it as float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

# |shift| is the data's distance from zero in frame stds: past 2**7 float32 keeps fewer than 2**16
# values per std (its spacing is 2**-23 of the magnitude), so samples leave the frame as float64.
WIDE = 2.0**7


def wide(mean, std) -> bool:
    """Whether data of this mean and std lose precision in float32 (see WIDE)."""
    return bool(np.any(np.abs(np.asarray(mean, dtype=np.float64)) > WIDE * np.asarray(std, dtype=np.float64)))


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

    @property
    def wide(self) -> bool:
        """Samples leave this frame as float64: in float32 the data's offset would quantise them."""
        return bool(np.any(np.abs(self.shift) > WIDE))

    def to_frame(self, x: torch.Tensor) -> torch.Tensor:
        """Data (float32, or float64 where they are wide) into the frame, as float32."""
        if self.is_identity():
            return x.float() if x.dtype == torch.float64 else x
        key = (str(x.device), x.dtype)  # made once: no host copy inside a CUDA graph
        if key not in self._on:
            self._on[key] = tuple(torch.as_tensor(v, dtype=x.dtype, device=x.device) for v in (self.scale, self.shift))
        scale, shift = self._on[key]
        y = x * scale + shift
        return y.float() if x.dtype == torch.float64 else y  # wide data: mapped in float64, then training's float32

    def to_data(self, x: torch.Tensor) -> torch.Tensor:
        """Frame units back to the data's: in x's dtype, or float64 where the frame is wide."""
        if self.is_identity():
            return x
        scale = torch.as_tensor(self.scale, dtype=torch.float64, device=x.device)
        shift = torch.as_tensor(self.shift, dtype=torch.float64, device=x.device)
        y = (x.double() - shift) / scale
        return y if self.wide else y.to(x.dtype)
