"""A researcher's own G or D (config.g_model, d_model), made ensemble-shaped.

Either a plain `torch.nn.Module` for one member (rows [R, in] -> [R, out]): ganfit copies it once per
member, initialises each copy with the module's own `reset_parameters` under a torch seed drawn from that
member's seed (so member i starts as a single run with seed i does, whatever the others), stacks the
copies' parameters with a leading member axis (torch.func.stack_module_state) and runs every member at
once with vmap(functional_call): no member reads another's numbers. Or a factory
`factory(in_features, out_features, seeds, device)` that returns an ensemble net [K, R, in] -> [K, R, out]
itself, and keeps those guarantees itself. Either way `EnsembleNet` gives it what the rest of ganfit
asks of a net: `members`, `device`, `evaluate`, `member(k)` and `sharing(params)`.
"""

from __future__ import annotations

import copy
import threading

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from .. import custom
from ..errors import GanfitError
from . import rng


def _torch_seed(seed: int, stream: str) -> int:
    k = rng.member_keys([seed], stream)[0]
    return int(k[0]) << 31 ^ int(k[1])


class Stacked(nn.Module):
    """K copies of one member's module as one ensemble net, each initialised from its own seed."""

    def __init__(self, template: nn.Module, seeds: list[int], stream: str, device):
        super().__init__()
        copies = []
        for s in seeds:
            m = copy.deepcopy(template).to(device)
            with torch.random.fork_rng(devices=[]):  # the caller's global generator is left as it was
                torch.manual_seed(_torch_seed(s, stream))
                for mod in m.modules():
                    if hasattr(mod, "reset_parameters"):
                        mod.reset_parameters()
            copies.append(m)
        params, buffers = stack_module_state(copies)
        if buffers:
            raise GanfitError(f"{type(template).__name__}: a member's module may not keep buffers (batch norm, ...)")
        self.__dict__["base"] = copies[0]  # the architecture only: not a submodule, its own weights unused
        self.names = list(params)
        self.stacked = nn.ParameterList([nn.Parameter(params[n]) for n in self.names])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def one(p, xk):
            return functional_call(self.base, dict(zip(self.names, p)), (xk,))

        return torch.vmap(one)(tuple(self.stacked), x)


class EnsembleNet(nn.Module):
    """An ensemble net [K, R, in] -> [K, R, out] with the methods ganfit uses of its own MLP."""

    spectral = False

    def __init__(self, net: nn.Module, members: int, n_in: int, n_out: int, name: str):
        super().__init__()
        self.net, self._members, self.n_in, self.n_out, self.name = net, members, n_in, n_out, name
        # functional_call swaps a module's parameters while it runs: calls with other tensors (the metric
        # thread's snapshot, G's average) go to a twin of the net, one at a time, never to the trained one
        self.__dict__["twin"] = copy.deepcopy(net)
        self.__dict__["lock"] = threading.Lock()

    @property
    def members(self) -> int:
        return self._members

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def __getstate__(self):  # copies and pickles carry the net; the twin and the lock are made anew
        return {k: v for k, v in self.__dict__.items() if k not in ("twin", "lock")}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__["twin"] = copy.deepcopy(self.net)
        self.__dict__["lock"] = threading.Lock()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _call(self, x: torch.Tensor, params: list | None) -> torch.Tensor:
        if params is None:
            return self.net(x)
        names = [n for n, _ in self.net.named_parameters()]
        with self.lock:
            return functional_call(self.twin, dict(zip(names, params)), (x,))

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, budget: int = 0, params: list | None = None) -> torch.Tensor:
        return self._call(x, params)

    def member(self, k: int) -> nn.Module:
        return _Member(self, k)

    def sharing(self, params: list[torch.Tensor]) -> nn.Module:
        return _Sharing(self, params)


class _Member(nn.Module):
    """Member k of an ensemble net as a K = 1 net: [1, R, in] -> [1, R, out]."""

    def __init__(self, ens: EnsembleNet, k: int):
        super().__init__()
        self.ens, self.k = ens, k

    @property
    def members(self) -> int:
        return 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = torch.zeros(self.ens.members, *x.shape[1:], dtype=x.dtype, device=x.device)
        full[self.k] = x[0]  # the other members see zeros: their outputs are dropped
        return self.ens(full)[self.k : self.k + 1]


class _Sharing(nn.Module):
    """An ensemble net over other tensors (e.g. G's moving average), without copying them."""

    def __init__(self, ens: EnsembleNet, params: list[torch.Tensor]):
        super().__init__()
        self.ens, self.params = ens, params

    @property
    def members(self) -> int:
        return self.ens.members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ens._call(x, self.params)

    def evaluate(self, x: torch.Tensor, budget: int = 0, params=None) -> torch.Tensor:
        with torch.no_grad():
            return self.ens._call(x, params or self.params)

    def member(self, k: int) -> nn.Module:
        return _Member(self, k)


def build(spec: str, n_in: int, n_out: int, seeds: list[int], stream: str, device) -> EnsembleNet:
    """The custom net a config names: a module per member (stacked) or an ensemble factory's net."""
    part = custom.get(spec)
    if isinstance(part, nn.Module):
        net = Stacked(part, seeds, stream, device)
    elif callable(part):
        net = part(n_in, n_out, list(seeds), device)
        if not isinstance(net, nn.Module):
            raise GanfitError(f"{spec}: a model factory must return a torch.nn.Module, got {type(net).__name__}")
    else:
        raise GanfitError(f"{spec}: a model is a torch.nn.Module or a factory function")
    ens = EnsembleNet(net, len(seeds), n_in, n_out, spec)
    probe = torch.zeros(len(seeds), 2, n_in, device=device)
    with torch.no_grad():
        out = ens(probe)
    if tuple(out.shape) != (len(seeds), 2, n_out):
        want = f"[{len(seeds)}, rows, {n_out}]"
        raise GanfitError(f"{spec}: maps [{len(seeds)}, rows, {n_in}] to {tuple(out.shape)}, expected {want}")
    return ens


__all__ = ["EnsembleNet", "Stacked", "build"]
