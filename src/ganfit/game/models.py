"""G and D: ensembles of K independent MLPs, weights with a leading member axis, run as baddbmm.

Layer l of member k maps x[k] (rows x in) to x[k] @ W[k] + b[k], with W of shape [K, in, out]; no
member ever reads another's weights, so K GANs train together exactly as they would apart.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GanfitError
from . import native, nets, rng
from .frame import Frame
from .nets import EnsembleNet
from .noise import make_noise
from .views import make_view

ACTIVATIONS = {
    "elu": F.elu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
}


EVAL_BUDGET = 1 << 22  # floats of hidden activations evaluate keeps at once


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
    is a logit: the loss applies the sigmoid). With `kinds` (one activation name per member), member k
    uses kinds[k] after every hidden layer instead of `activations` (config.per_member's g_activation)."""

    def __init__(
        self,
        sizes: list[int],
        activations: list[str],
        seeds: list[int],
        stream: str,
        device: torch.device | str = "cpu",
        spectral: bool = False,
        kinds: list[str] | None = None,
    ):
        super().__init__()
        assert len(activations) == len(sizes) - 2
        assert kinds is None or len(kinds) == len(seeds)
        self.sizes = list(sizes)
        self.kinds = list(kinds) if kinds is not None and len(set(kinds)) > 1 else None
        self.activations = [kinds[0]] * len(activations) if kinds and self.kinds is None else list(activations)
        self._acts = [ACTIVATIONS[a] for a in self.activations]
        K = len(seeds)
        shapes = list(zip(sizes[:-1], sizes[1:]))
        # PyTorch's nn.Linear default: weights and biases uniform on +-1/sqrt(fan_in), drawn from the
        # member's own counter-based stream, so member i starts as a single run with seed i would.
        n = sum(i * o + o for i, o in shapes)
        u = 2.0 * rng.fixed(rng.member_keys(seeds, stream, device), n) - 1.0
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
                u = rng.fixed(keys, 2 * fan_out)
                u = rng.box_muller(u[:, :fan_out], u[:, fan_out:]).reshape(K, 1, fan_out)
                self.sn_u.append(nn.Parameter(F.normalize(u, dim=2), requires_grad=False))

    @property
    def members(self) -> int:
        return self.weights[0].shape[0]

    @property
    def device(self) -> torch.device:
        return self.weights[0].device

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

    def _run(self, x: torch.Tensor, weights: list, biases: list, members: slice = slice(None)) -> torch.Tensor:
        last = len(weights) - 1
        mixed = self._mixing(members, x.device) if self.kinds else None
        for i, (w, b) in enumerate(zip(weights, biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = mixed(x) if mixed else self._acts[i](x)
        return x

    def _mixing(self, members: slice, device) -> Callable[[torch.Tensor], torch.Tensor]:
        """mixing() for these members, made once per slice and device: its masks are built on the host."""
        cache = self.__dict__.setdefault("_mixings", {})
        key = (members.start, members.stop, str(device))
        if key not in cache:
            cache[key] = mixing(self.kinds[members], device)
        return cache[key]

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, budget: int = EVAL_BUDGET, params: list | None = None) -> torch.Tensor:
        """forward() for many rows, a few members at a time so that hidden activations stay under
        `budget` floats (K = 1024 members x 10,000 samples x 50 units would be 2 GB at once); with
        `params` (tensors in parameters() order: weights, then biases) instead of the live ones, if given
        (G has no spectral norm)."""
        n = len(self.weights)
        weights, biases = (params[:n], params[n : 2 * n]) if params else (self._effective_weights(), list(self.biases))
        if self._compiled(x, weights + biases):  # kernel.c: 2-4x torch's on one thread (the metric worker's)
            return native.forward(list(zip(weights, biases)), self.activations, x, self.kinds)
        step = max(1, budget // (x.shape[1] * max(self.sizes)))
        parts = [slice(lo, lo + step) for lo in range(0, self.members, step)]
        # Into one preallocated result: small outputs allocated between the big temporaries fragment
        # the heap (measured: K = 1,024 grew RSS by 2 GB that way).
        out = torch.empty(self.members, x.shape[1], self.sizes[-1], dtype=x.dtype, device=x.device)
        for p in parts:
            out[p] = self._run(x[p], [w[p] for w in weights], [b[p] for b in biases], p)
        return out

    def _compiled(self, x: torch.Tensor, params: list[torch.Tensor]) -> bool:
        cpu32 = all(t.device.type == "cpu" and t.dtype == torch.float32 for t in (x, *params))
        laid_out = all(t[0].is_contiguous() for t in params)
        return cpu32 and laid_out and native.kernel() is not None

    def member(self, k: int) -> MLP:
        """A K = 1 view of member k (shares storage; for sampling)."""
        weights = [w.detach()[k : k + 1] for w in self._effective_weights()]
        one = self.sharing(weights + [b.detach()[k : k + 1] for b in self.biases])
        if self.kinds:
            one.kinds, one.activations = None, [self.kinds[k]] * len(self.activations)
            one._acts = [ACTIVATIONS[a] for a in one.activations]
        return one

    def sharing(self, params: list[torch.Tensor]) -> MLP:
        """This architecture over other tensors (in parameters() order: weights, then biases), without
        copying them (e.g. G's moving average)."""
        n = len(self.weights)
        weights, biases = params[:n], params[n : 2 * n]
        other = MLP.__new__(MLP)
        nn.Module.__init__(other)
        other.sizes, other.activations, other._acts, other.spectral = self.sizes, self.activations, self._acts, False
        other.kinds = self.kinds
        other.weights = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in weights])
        other.biases = nn.ParameterList([nn.Parameter(b, requires_grad=False) for b in biases])
        return other


def generator(config, dim: int, seeds: list[int], device="cpu", n_in: int | None = None) -> MLP | EnsembleNet:
    """G: noise dim (n_in: the plan's) -> g_hidden (once per activation) -> dim, one member per seed (or
    config.g_model's); each member's own activation where per_member names g_activation."""
    n_in = n_in or make_noise(config.noise).dim
    if config.g_model:
        return nets.build(config.g_model, n_in, dim, seeds, "init_g", device)
    acts = parse_activations(config.g_activations, "g_activations")
    sizes = [n_in] + [config.g_hidden] * len(acts) + [dim]
    return MLP(sizes, acts, seeds, "init_g", device, kinds=config.g_kinds())


def per_kind(kinds: list[str], device, fns: dict[str, Callable[..., torch.Tensor]]) -> Callable[..., torch.Tensor]:
    """fns[a] for an ensemble whose member k uses kinds[k] (arguments [K, rows, width]): each kind's over
    the whole batch, kept where it is that member's. `mixing` is ACTIVATIONS' (fast.py: ACT_BACKWARD's)."""
    masks = {a: torch.tensor([k == a for k in kinds], device=device)[:, None, None] for a in dict.fromkeys(kinds)}
    first, *others = masks

    def fn(*args: torch.Tensor) -> torch.Tensor:
        y = fns[first](*args)
        for a in others:
            y = torch.where(masks[a], fns[a](*args), y)
        return y

    return fn


def mixing(kinds: list[str], device) -> Callable[[torch.Tensor], torch.Tensor]:
    """The hidden activation of an ensemble whose member k uses kinds[k] (x [K, rows, width])."""
    return per_kind(kinds, device, ACTIVATIONS)


def discriminator(config, dim: int, seeds: list[int], device="cpu", n_in: int | None = None) -> MLP | EnsembleNet:
    """D: what its view makes of a batch (n_in wide: the plan's) -> d_hidden (once per activation) -> one
    logit per D input (or config.d_model's net)."""
    n_in = n_in or make_view(config.d_view).features(config.batch, dim)
    if config.d_model:
        return nets.build(config.d_model, n_in, 1, seeds, "init_d", device)
    acts = parse_activations(config.d_activations, "d_activations")
    sizes = [n_in] + [config.d_hidden] * len(acts) + [1]
    return MLP(sizes, acts, seeds, "init_d", device, spectral=config.spectral_norm)


class Layer(nn.Module):
    """One layer of one member's G as the ensemble runs it (x @ w + b by baddbmm), then its activation
    by name ("": none, after the last layer): a form torch.jit.script compiles."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor, act: str):
        super().__init__()
        self.w = nn.Parameter(w.detach().clone(), requires_grad=False)
        self.b = nn.Parameter(b.detach().clone(), requires_grad=False)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.baddbmm(self.b, x, self.w)
        if self.act == "elu":
            return F.elu(x)
        if self.act == "sigmoid":
            return torch.sigmoid(x)
        if self.act == "tanh":
            return torch.tanh(x)
        if self.act == "relu":
            return torch.relu(x)
        if self.act == "leaky_relu":
            return F.leaky_relu(x, 0.2)
        return x


class Generator(nn.Module):
    """One member's G as a plain module in the data's units: noise [N, noise_dim] -> samples [N, dim],
    with the working frame's map back to the data inside it. Its weights are copies: it outlives the run,
    and `torch.export.export`, `torch.jit.script` and `torch.jit.trace` take it as it is (a G of your own
    code, as far as that code allows)."""

    def __init__(self, G: MLP | EnsembleNet, member: int, frame: Frame):
        super().__init__()
        self.identity = frame.is_identity()
        self.wide = frame.wide  # float64 samples: float32 would quantise data far from zero (frame.py)
        self.register_buffer("scale", torch.as_tensor(frame.scale, dtype=torch.float64))
        self.register_buffer("shift", torch.as_tensor(frame.shift, dtype=torch.float64))
        self.custom = copy.deepcopy(G.member(member)) if isinstance(G, EnsembleNet) else None  # runs as trained
        layers = []
        if self.custom is None:
            one = G.member(member)
            acts = [*one.activations, ""]  # G's output is linear
            layers = [Layer(w, b, a) for w, b, a in zip(one.weights, one.biases, acts)]
        self.layers = nn.ModuleList(layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z.unsqueeze(0)  # the ensemble's layout with one member: the same kernels as the run's G
        custom = self.custom
        if custom is not None:
            x = custom(x)
        for layer in self.layers:
            x = layer(x)
        x = x[0]
        if self.identity:
            return x
        y = (x.double() - self.shift) / self.scale
        return y if self.wide else y.to(x.dtype)
