"""I: the generator's input noise. The seed's is uniform on [0, 1), one value per sample, so that G
cannot merely shift and scale it: it must bend it into a bell curve."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import GanfitError
from ..specs import build
from .rng import box_muller


@dataclass(frozen=True)
class Noise:
    kind: str  # "uniform" or "normal"
    dim: int

    @property
    def n_uniforms(self) -> int:
        return self.dim if self.kind == "uniform" else 2 * self.dim

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        """[..., n_uniforms] uniforms in [0, 1) to [..., dim] noise."""
        if self.kind == "uniform":
            return u
        return box_muller(u[..., : self.dim], u[..., self.dim :])


def _dim(kind: str, dim: int) -> Noise:
    if dim < 1:
        raise GanfitError(f"noise {kind!r}: dim must be >= 1, got {dim}")
    return Noise(kind, dim)


def uniform(*, dim: int = 1) -> Noise:
    return _dim("uniform", dim)


def normal(*, dim: int = 1) -> Noise:
    return _dim("normal", dim)


NOISES = {"uniform": uniform, "normal": normal}


def make_noise(spec: str) -> Noise:
    return build(spec, NOISES, "noise")
