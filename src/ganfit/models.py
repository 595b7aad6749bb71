"""G and D: ensembles of K independent MLPs, weights with a leading member axis, run as baddbmm.

Layer l of member k maps x[k] (rows x in) to x[k] @ W[k] + b[k], with W of shape [K, in, out]; no
member ever reads another's weights, so K GANs train together exactly as they would apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import rng
from .errors import GanfitError
from .specs import build

ACTIVATIONS = {
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
}


def parse_activations(text: str, what: str) -> list[str]:
    names = [a.strip() for a in text.split(",") if a.strip()]
    if not names:
        raise GanfitError(f"{what}: needs at least one activation (known: {', '.join(ACTIVATIONS)})")
    for a in names:
        if a not in ACTIVATIONS:
            raise GanfitError(f"{what}: unknown activation {a!r} (known: {', '.join(ACTIVATIONS)})")
    return names


class MLP(nn.Module):
    """K stacked MLPs; a hidden activation after every layer but the last (G's output is linear, D's
    is a logit: the loss applies the sigmoid)."""

    def __init__(
        self,
        sizes: list[int],
        activations: list[str],
        seeds: list[int],
        stream: str,
        device: torch.device | str = "cpu",
        spectral: bool = False,
    ):
        super().__init__()
        assert len(activations) == len(sizes) - 2
        self.sizes, self.activations = list(sizes), list(activations)
        self._acts = [ACTIVATIONS[a] for a in activations]
        K = len(seeds)
        shapes = list(zip(sizes[:-1], sizes[1:]))
        # PyTorch's nn.Linear default: weights and biases uniform on +-1/sqrt(fan_in), drawn from the
        # member's own counter-based stream, so member i starts as a single run with seed i would.
        n = sum(i * o + o for i, o in shapes)
        u = rng.uniform(rng.member_keys(seeds, stream, device), torch.zeros(1, dtype=torch.int64, device=device), n)[0]
        u = (2.0 * u - 1.0).to(device)
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        at = 0
        for fan_in, fan_out in shapes:
            bound = 1.0 / math.sqrt(fan_in)
            w = u[:, at : at + fan_in * fan_out].reshape(K, fan_in, fan_out) * bound
            at += fan_in * fan_out
            b = u[:, at : at + fan_out].reshape(K, 1, fan_out) * bound
            at += fan_out
            self.weights.append(nn.Parameter(w.contiguous()))
            self.biases.append(nn.Parameter(b.contiguous()))
        self.spectral = spectral
        if spectral:
            # Spectral norm (Miyato et al.): each member's power-iteration vector u per layer, started
            # from its own stream. A parameter without gradient, so checkpoints carry it with the weights.
            self.sn_u = nn.ParameterList()
            for _, fan_out in shapes:
                keys = rng.member_keys(seeds, f"{stream}/sn/{len(self.sn_u)}", device)
                u = rng.uniform(keys, torch.zeros(1, dtype=torch.int64, device=device), 2 * fan_out)[0]
                u = rng.normal_from_uniform(u[:, :fan_out], u[:, fan_out:]).reshape(K, 1, fan_out)
                self.sn_u.append(nn.Parameter(F.normalize(u, dim=2), requires_grad=False))

    @property
    def members(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [K, rows, in] -> [K, rows, out]."""
        return self._run(x, self._effective_weights(), list(self.biases))

    def _effective_weights(self) -> list[torch.Tensor]:
        if not self.spectral:
            return list(self.weights)
        out = []
        for w, u in zip(self.weights, self.sn_u):
            v = F.normalize(torch.bmm(u, w.detach().transpose(1, 2)), dim=2)  # [K, 1, in]
            sigma = torch.bmm(torch.bmm(v, w), u.transpose(1, 2))  # [K, 1, 1]: v^T W u, differentiable in W
            out.append(w / sigma)
        return out

    @torch.no_grad()
    def power_iteration(self) -> None:
        """One step of the power method per layer and member: u <- W^T W u, normalised."""
        for w, u in zip(self.weights, self.sn_u):
            v = F.normalize(torch.bmm(u, w.transpose(1, 2)), dim=2)
            u.copy_(F.normalize(torch.bmm(v, w), dim=2))

    def _run(self, x: torch.Tensor, weights: list, biases: list) -> torch.Tensor:
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self._acts[i](x)
        return x

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, budget: int = 1 << 22, params=None) -> torch.Tensor:
        """forward() for many rows, a few members at a time so that hidden activations stay under
        `budget` floats (K = 1024 members x 10,000 samples x 50 units would be 2 GB at once); with
        the given (weights, biases) instead of the live ones, if any (G has no spectral norm)."""
        step = max(1, budget // (x.shape[1] * max(self.sizes)))
        parts = [slice(lo, lo + step) for lo in range(0, self.members, step)]
        weights, biases = params or (self._effective_weights(), list(self.biases))
        # Into one preallocated result: small outputs allocated between the big temporaries fragment
        # the heap (measured: K = 1,024 grew RSS by 2 GB that way).
        out = torch.empty(self.members, x.shape[1], self.sizes[-1], dtype=x.dtype, device=x.device)
        for p in parts:
            out[p] = self._run(x[p], [w[p] for w in weights], [b[p] for b in biases])
        return out

    def member(self, k: int) -> MLP:
        """A K = 1 view of member k (shares storage; for sampling)."""
        weights = [w.detach()[k : k + 1] for w in self._effective_weights()]
        return self.sharing(weights, [b.detach()[k : k + 1] for b in self.biases])

    def sharing(self, weights: list[torch.Tensor], biases: list[torch.Tensor]) -> MLP:
        """This architecture over other tensors, without copying them (e.g. G's moving average)."""
        other = MLP.__new__(MLP)
        nn.Module.__init__(other)
        other.sizes, other.activations, other._acts, other.spectral = self.sizes, self.activations, self._acts, False
        other.weights = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in weights])
        other.biases = nn.ParameterList([nn.Parameter(b, requires_grad=False) for b in biases])
        return other


# ---- D's views: how the discriminator sees a batch of samples [K, B, dim] -> rows [K, R, features]


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

    def samples_per_input(self, batch: int) -> int:
        return batch


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

    def samples_per_input(self, batch: int) -> int:
        return 1

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

    def samples_per_input(self, batch: int) -> int:
        return self.m

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
