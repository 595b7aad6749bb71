"""D's views: how the discriminator sees a batch of samples [K, B, dim] -> rows [K, R, features].

The seed's D sees the whole minibatch at once (`minibatch`); the standard D one sample (`sample`);
PacGAN's D a pack of m samples (`pack`). Built from a spec such as `pack:m=2,stddev=true`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import GanfitError
from ..specs import build


@dataclass(frozen=True)
class MinibatchView:
    """The seed's D: the whole minibatch as one vector; with `diffs`, each value is followed by its
    squared deviation from the batch mean (the article's "data and variances"; without, "raw data").
    The mean is a constant to autograd, as in the seed (which read it out with .tolist())."""

    diffs: bool = True

    def features(self, batch: int, dim: int) -> int:
        return batch * dim * (2 if self.diffs else 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        K, B, dim = x.shape
        flat = x.reshape(K, 1, B * dim)
        if not self.diffs:
            return flat
        dev = (x - x.mean(1, keepdim=True).detach()).square().reshape(K, 1, B * dim)
        return torch.cat([flat, dev], 2)


def _batch_stddev(x: torch.Tensor) -> torch.Tensor:
    """The minibatch-stddev feature (Karras et al.): each dim's std over the batch, averaged over dims,
    [K, 1, 1]; within a member's own batch only."""
    return (x.var(1, unbiased=False, keepdim=True) + 1e-8).sqrt().mean(2, keepdim=True)


@dataclass(frozen=True)
class SampleView:
    """The standard D: one input, and one output, per sample; with `stddev`, each input also carries the
    batch's standard deviation."""

    stddev: bool = False

    def features(self, batch: int, dim: int) -> int:
        return dim + self.stddev

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.stddev:
            return x
        return torch.cat([x, _batch_stddev(x).expand(-1, x.shape[1], 1)], 2)


@dataclass(frozen=True)
class PackView:
    """PacGAN (Lin et al.): m consecutive samples of a batch concatenated into one D input, so D judges
    them jointly; the batch gives batch / m inputs."""

    m: int = 2
    stddev: bool = False

    def features(self, batch: int, dim: int) -> int:
        if batch % self.m:
            raise GanfitError(f"view 'pack': batch {batch} is not a multiple of m={self.m}")
        return self.m * dim + self.stddev

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        K, B, dim = x.shape
        packed = x.reshape(K, B // self.m, self.m * dim)
        if not self.stddev:
            return packed
        return torch.cat([packed, _batch_stddev(x).expand(-1, packed.shape[1], 1)], 2)


def minibatch(*, diffs: bool = True) -> MinibatchView:
    return MinibatchView(diffs)


def sample(*, stddev: bool = False) -> SampleView:
    return SampleView(stddev)


def pack(*, m: int = 2, stddev: bool = False) -> PackView:
    if m < 1:
        raise GanfitError(f"view 'pack': m must be >= 1, got {m}")
    return PackView(m, stddev)


VIEWS = {"minibatch": minibatch, "sample": sample, "pack": pack}


def make_view(spec: str):
    return build(spec, VIEWS, "view")
