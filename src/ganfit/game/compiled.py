"""The fast engine's step as one compiled C call (kernel.c), for every game it plays on the CPU.

At K = 1 the seed's torch step is ~60 kernels of 1-7 microseconds each: dispatch, not arithmetic; the
robust recipes' step (per-sample or packed D, R1) is ~130, bound by elementwise passes. kernel.c plays
the same epoch, the same math as FastEngine.step on the same buffers, in one call, the members split
across the run's threads (a member's arithmetic does not depend on how many). native.py loads the variant
for this CPU; where there is none, or GANFIT_COMPILED=0, the torch step runs instead. The two agree to float
rounding (tests/game/test_compiled.py); a run records which one played it (summary.json). The same call's
D step trains `ganfit fit`'s per-sample critics (train_critics).
"""

from __future__ import annotations

import ctypes

import torch

from . import native
from .engine import Draws
from .fast import FastEngine, FlatNet
from .native import MAXL, MAXT, Game, Net


def covers(config, view) -> bool:
    """The fast engine's games (fast.covers is asked first), on the CPU, nets of up to MAXL layers."""
    shallow = all(len(a.split(",")) < MAXL for a in (config.g_activations, config.d_activations))
    return config.device == "cpu" and shallow and native.kernel() is not None


class CompiledEngine(FastEngine):
    """FastEngine with its step in C: the same buffers, state and learning-rate schedule."""

    name = "compiled"
    splits_members = True

    def __init__(self, config, G, D, view):
        super().__init__(config, G, D, view)
        c, K = config, config.seeds
        self.kernel = native.kernel()
        self.lib = self.kernel.lib
        self.keep = []  # every tensor the C side points into stays alive with the engine
        dim, zdim = G.sizes[-1], G.sizes[0]
        rows, inputs = (c.d_steps + 1) * c.batch, 1 if self.m is None else c.batch // self.m  # D's per batch
        self.logits_d, self.logits_g = torch.zeros(K, 2 * inputs, 1), torch.zeros(K, inputs, 1)
        self.fakes = torch.zeros(K, rows, dim)
        threads = min(c.threads or 1, K, MAXT)  # members split across threads; 0 (unresolved): one
        ints = (K, c.batch, dim, zdim, int(self.diffs), c.d_steps, c.g_steps, self.kernel.code(c.loss), threads)
        self.ctx = Game(*ints, self.m or 0, c.r1, c.r2)
        self.ctx.G, self.ctx.D = net(self.kernel, self.G, G, self._ptr), net(self.kernel, self.D, D, self._ptr)
        for name in ("logits_d", "logits_g", "fakes"):
            setattr(self.ctx, name, self._ptr(getattr(self, name)))
        self.ctx.work = self._ptr(torch.zeros(threads * self.lib.kernel_work(ctypes.addressof(self.ctx))))
        if G.kinds:  # each member's own activation (config.per_member's g_activation)
            self.ctx.g_kinds = self._ptr(torch.tensor([self.kernel.code(a) for a in G.kinds], dtype=torch.int32))

    def _ptr(self, t: torch.Tensor) -> int:
        return pinned(t, self.keep)

    def average(self, g_live: list[torch.Tensor]) -> list[torch.Tensor]:
        """G's moving average, lerped by the C step after G's, member by member: one flat [K, P] buffer like
        theta, returned as views shaped and laid out as G's parameters g_live."""
        flat, base = self.G.theta.clone(), self.G.theta.storage_offset()
        self.ctx.ema = self._ptr(flat)
        self.ema = [torch.as_strided(flat, p.shape, p.stride(), p.storage_offset() - base) for p in g_live]
        return self.ema

    def set_lr_scale(self, scale: float, d_scale: float | None = None) -> None:
        super().set_lr_scale(scale, d_scale)
        self.ctx.G.lr_scale, self.ctx.D.lr_scale = self.G.lr_scale, self.D.lr_scale

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: None = None):
        return self.play(Draws(real[None], z_d[None], z_g[None], None), 0, 1, None, None)

    def play(self, drawn: Draws, first: int, last: int, lr_scales: list | None, ema_weights: list | None):
        """Epochs first..last - 1 in one call, each with its learning-rate factor and G's average's weight."""
        real, z_d, z_g, _ = drawn.block(first, last)
        n = last - first
        lrs, ews = ((ctypes.c_float * n)(*v) if v else None for v in (lr_scales, ema_weights))
        assert all(t.is_contiguous() for t in (real, z_d, z_g))
        self.lib.kernel_steps(ctypes.addressof(self.ctx), real.data_ptr(), z_d.data_ptr(), z_g.data_ptr(), n, lrs, ews)
        if lr_scales:
            super().set_lr_scale(lr_scales[-1])
        return self._out()

    def _out(self):
        c = self.config
        logits_d, logits_g, f = self.logits_d, self.logits_g, self.loss

        def losses():  # per member, from buffers the next step writes over: called before it (MetricLog.submit)
            half = logits_d.shape[1] // 2
            real, fake = logits_d[:, :half], logits_d[:, half:]
            return f.d_real(real).mean((1, 2)), f.d_fake(fake).mean((1, 2)), f.g(logits_g).mean((1, 2))

        # a view the next step writes over: MetricLog copies what it keeps
        return losses, self.fakes[:, (c.d_steps - 1) * c.batch : c.d_steps * c.batch]


def pinned(t: torch.Tensor, keep: list) -> int:
    """The address the C side reads t at; t is kept alive in `keep` for as long as that is."""
    assert t.is_contiguous() and t.device.type == "cpu"
    keep.append(t)
    return t.data_ptr()


def net(kernel: native.Kernel, flat: FlatNet, mlp, ptr) -> Net:
    """kernel.c's Net over a FlatNet's buffers; ptr(tensor) gives each buffer's address and keeps it alive."""
    n = Net(
        len(mlp.sizes) - 1,
        (ctypes.c_int * (MAXL + 1))(*mlp.sizes),
        (ctypes.c_int * MAXL)(*(kernel.code(a) for a in mlp.activations)),
        flat.theta.shape[1],
    )
    for name, t in (("theta", flat.theta), ("grad", flat.grad), ("m", flat.exp_avg), ("v", flat.exp_avg_sq)):
        setattr(n, name, ptr(t))
    n.steps = ptr(flat.steps)
    s = flat.settings or {}
    K = flat.theta.shape[0]
    for name, value in (("lr", flat.lr), ("beta1", flat.betas[0]), ("beta2", flat.betas[1])):
        per_member = s.get(name, torch.full((K,), value, dtype=torch.float64))
        setattr(n, name, ptr(per_member.to(torch.float64).contiguous()))
    n.lr_scale, n.sgd = 1.0, int(flat.sgd)
    return n


def train_critics(
    flat: FlatNet, mlp, real: torch.Tensor, fake: torch.Tensor, steps: list[int], r1s: list[float], threads: int
) -> None:
    """Train K per-sample critics in one kernel.c call (native.kernel() must be there): critic k is
    member k of `mlp` over `flat`'s buffers (non-saturating loss, Adam), taking steps[k] steps on
    real[k, e] (label 1) against fake[k, e] (label 0), each [K, most, B, dim], with R1 weight r1s[k] and a
    rate falling to 0 in a straight line. The members split across `threads`; each one's bits do not
    depend on how many."""
    kernel, keep = native.kernel(), []
    ptr = lambda t: pinned(t, keep)  # noqa: E731
    K, most, B, dim = real.shape
    assert fake.shape == real.shape and len(steps) == len(r1s) == K and max(steps) <= most and min(r1s) >= 0
    game = Game(K, B, dim, dim, 0, 1, 0, kernel.code("ns"), max(1, min(threads, K, MAXT)), 1, max(r1s), 0.0)
    game.G = Net(1, (ctypes.c_int * (MAXL + 1))(dim, dim))  # never played: sized for the scratch only
    game.D = net(kernel, flat, mlp, ptr)
    game.logits_d = ptr(torch.zeros(K, 2 * B))
    game.work = ptr(torch.zeros(game.threads * kernel.lib.kernel_work(ctypes.addressof(game))))
    ints = ptr(torch.tensor(steps, dtype=torch.int32))
    floats = ptr(torch.tensor(r1s, dtype=torch.float32))
    real, fake = ptr(real.float().contiguous()), ptr(fake.float().contiguous())
    kernel.lib.kernel_critics(ctypes.addressof(game), real, fake, ints, floats, most)
