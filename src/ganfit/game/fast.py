"""The autograd engine's epoch with hand-derived gradients: a third of the ops, no autograd.

On 2 CPU cores a GAN of this size is bound by per-op dispatch, not arithmetic, so the step is written
as few, large ops: real and fake batches go through D as one batched call, G runs once for both the
D and the G step (its weights do not change in between), activations use aten's fused backward
kernels, and each net's parameters, gradients and Adam moments live in one flat [K, P] buffer that a
single fused Adam call updates.

It covers every built-in loss with the seed's minibatch view, the per-sample view and PacGAN's packs,
and R1/R2 on the latter two: the penalty's gradient, a double backward to autograd, is derived by hand
(FlatNet.penalty). tests/game/test_fast.py checks every covered game against autograd step by step;
`gradients = "autograd"` runs the reference.
"""

from __future__ import annotations

import torch

from . import adam
from .engine import Engine
from .losses import LOSSES
from .models import MLP, mixing, per_kind
from .views import MinibatchView, PackView, SampleView

aten = torch.ops.aten

ACT_BACKWARD = {  # d activation, written in terms of its output y
    "elu": lambda g, y: aten.elu_backward(g, 1.0, 1, 1, True, y),
    "sigmoid": lambda g, y: aten.sigmoid_backward(g, y),
    "tanh": lambda g, y: aten.tanh_backward(g, y),
    "relu": lambda g, y: aten.threshold_backward(g, y, 0),
    "leaky_relu": lambda g, y: aten.leaky_relu_backward(g, y, 0.2, True),
}
ACT_SECOND = {  # the second derivative in terms of the output (None: 0, piecewise linear)
    "elu": lambda y: torch.where(y > 0, 0.0, y + 1.0),
    "sigmoid": lambda y: y * (1 - y) * (1 - 2 * y),
    "tanh": lambda y: -2 * y * (1 - y * y),
    "relu": None,
    "leaky_relu": None,
}


def _no_second(y: torch.Tensor) -> torch.Tensor:
    raise NotImplementedError("a penalty through a net of mixed activations (only G's may mix; D's are penalised)")


# d loss / d logit per logit, (on real, on fake, G's on fake); the step divides by the logits' count.
LOSS_GRADS = {
    "bce": (lambda t: torch.sigmoid(t) - 1, torch.sigmoid, lambda t: torch.sigmoid(t) - 1),
    "minimax": (lambda t: torch.sigmoid(t) - 1, torch.sigmoid, lambda t: -torch.sigmoid(t)),
    "lsgan": (lambda t: t - 1, lambda t: t, lambda t: t - 1),
    "hinge": (lambda t: -(t < 1).to(t.dtype), lambda t: (t > -1).to(t.dtype), lambda t: torch.full_like(t, -1.0)),
    "wgan": (lambda t: torch.full_like(t, -1.0), lambda t: torch.ones_like(t), lambda t: torch.full_like(t, -1.0)),
}
LOSS_GRADS["ns"] = LOSS_GRADS["bce"]

COVERS = (
    "the built-in losses with the minibatch, sample or pack view (no stddev), R1 and R2 with the sample or "
    "pack view, ganfit's MLPs, and no gp, d_penalty or spectral_norm"
)


def covers(config, view) -> bool:
    """Whether this engine plays config's game (the rest: autograd)."""
    per_input = isinstance(view, SampleView | PackView) and not view.stddev
    views = per_input or (isinstance(view, MinibatchView) and config.r1 == 0 and config.r2 == 0)
    plain = config.gp == 0 and not config.spectral_norm
    mlps = not (config.d_penalty or config.g_model or config.d_model)
    return config.loss in LOSS_GRADS and views and plain and mlps


class FlatNet:
    """One ensemble MLP over flat buffers: theta, grad and Adam's moments, each [K, P]. The module's
    parameters are re-pointed at views of theta, so saving and evaluation see the trained weights."""

    def __init__(self, mlp: MLP, lr: float, betas: tuple[float, float], settings: dict | None = None, sgd=False):
        params = [p for pair in zip(mlp.weights, mlp.biases) for p in pair]
        K = mlp.members
        self.theta = torch.cat([p.detach().reshape(K, -1) for p in params], 1)
        self.grad = torch.zeros_like(self.theta)
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(self.theta), torch.zeros_like(self.theta)
        self.steps = torch.zeros((), device=self.theta.device)
        self.lr, self.betas, self.settings = lr, betas, settings  # settings: per member (adam.py), or None
        self.sgd = sgd  # plain gradient descent (config.optimizer), with settings for every member
        self.lr_scale = 1.0  # config.lr_decay
        self.acts = [mlp._acts[i] for i in range(len(mlp.activations))]
        self.act_back = [ACT_BACKWARD[a] for a in mlp.activations]
        self.act_second = [ACT_SECOND[a] for a in mlp.activations]
        if mlp.kinds:  # each member's own activation (a G of config.per_member's g_activation)
            L = len(mlp.activations)
            self.acts = [mixing(mlp.kinds, self.theta.device)] * L
            self.act_back = [per_kind(mlp.kinds, self.theta.device, ACT_BACKWARD)] * L
            self.act_second = [_no_second] * L
        self.W, self.b, self.dW, self.db = [], [], [], []
        at = 0
        for i, p in enumerate(params):  # W0, b0, W1, b1, ...
            n = p[0].numel()
            view, gview = self.theta[:, at : at + n].view(p.shape), self.grad[:, at : at + n].view(p.shape)
            at += n
            p.data = view
            (self.W if i % 2 == 0 else self.b).append(view)
            (self.dW if i % 2 == 0 else self.db).append(gview)

    def forward(self, x: torch.Tensor, saved: list | None = None) -> torch.Tensor:
        """x [K, rows, in] -> [K, rows, out]; saved gets each layer's input (x, then the activations)."""
        last = len(self.W) - 1
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            if saved is not None:
                saved.append(x)
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self.acts[i](x)
        return x

    def backward(self, saved: list, g: torch.Tensor, params: bool = True, inputs: bool = False, extra=None):
        """Given dL/d(output), write dL/d(theta) into self.grad (if params); return dL/d(input) (if inputs).
        extra (from penalty): per hidden layer, (rows, term) pairs added to dL/d(pre-activation); the
        weights' gradients are then added to those penalty already wrote, not written over them."""
        for i in range(len(self.W) - 1, -1, -1):
            x = saved[i]
            if params and extra is None:
                torch.bmm(x.transpose(1, 2), g, out=self.dW[i])
                torch.sum(g, 1, keepdim=True, out=self.db[i])
            elif params:
                self.dW[i].baddbmm_(x.transpose(1, 2), g)
                self.db[i].copy_(g.sum(1, keepdim=True))
            if i > 0 or inputs:
                g = torch.bmm(g, self.W[i].transpose(1, 2))
                if i > 0:
                    g = self.act_back[i - 1](g, x)
                    for rows, term in extra[i - 1] if extra else ():
                        g[:, rows] += term
        return g if inputs else None

    def penalty(self, saved: list, rows: slice, gamma: float, extra: list) -> None:
        """The gradient of R1, gamma/2 * mean over the rows of |d output / d input|^2 (a double backward).
        Its part through d output / d input is added to the weights' gradients (written on the first
        call, when extra is empty); its part through the activations' derivatives is appended to
        extra, per hidden layer, for backward to carry on down with D's loss."""
        L = len(self.W)
        ys = [saved[i][:, rows] for i in range(L)]  # each layer's input on the penalised rows
        # d out / d input, layer by layer: g[i] = d out / d ys[i], s[i] = d out / d pre-activation i
        s, g = [None] * L, [None] * L
        g[L - 1] = self.W[L - 1].transpose(1, 2).expand(-1, ys[0].shape[1], -1)
        for i in range(L - 1, 0, -1):
            s[i - 1] = self.act_back[i - 1](g[i], ys[i])
            g[i - 1] = torch.bmm(s[i - 1], self.W[i - 1].transpose(1, 2))
        # Back through that backward: a forward-mode pass along r = dP / d input.
        first = not extra
        if first:
            extra.extend([] for _ in range(L - 1))
        r = g[0] * (gamma / ys[0].shape[1])
        for i in range(L):
            if i == L - 1:  # s[L - 1] is ones
                last = r.sum(1).unsqueeze(2)
                self.dW[i].copy_(last) if first else self.dW[i].add_(last)
                break
            if first:
                torch.bmm(r.transpose(1, 2), s[i], out=self.dW[i])
            else:
                self.dW[i].baddbmm_(r.transpose(1, 2), s[i])
            e = torch.bmm(r, self.W[i])
            if self.act_second[i] is not None:
                extra[i].append((rows, e * g[i + 1] * self.act_second[i](ys[i + 1])))
            r = self.act_back[i](e, ys[i + 1])

    def adam(self) -> None:
        self.steps.add_(1)  # the kernel reads the step count after the increment (as torch.optim.Adam does)
        if self.sgd:
            return adam.sgd_step(self.theta, self.grad, self.settings["lr"], self.lr_scale)
        if self.settings is not None:
            return adam.step(
                self.theta, self.grad, self.exp_avg, self.exp_avg_sq, self.steps, self.settings, self.lr_scale
            )
        torch._fused_adam_(
            [self.theta],
            [self.grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.steps],
            lr=self.lr * self.lr_scale,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=1e-8,
            amsgrad=False,
            maximize=False,
        )


class FastEngine(Engine):
    """AutogradEngine's methods and math for the games covers() accepts; G's and D's modules share its
    buffers."""

    name = "fast"

    def __init__(self, config, G: MLP, D: MLP, view):
        c, device = config, G.weights[0].device
        self.config, self.loss = c, LOSSES[c.loss]
        self.grads = LOSS_GRADS[c.loss]
        self.diffs = getattr(view, "diffs", False)
        self.m = None if isinstance(view, MinibatchView) else getattr(view, "m", 1)  # samples per D input
        settings, sgd = (adam.settings_of, True) if c.optimizer == "sgd" else (adam.member_settings, False)
        self.G = FlatNet(G, c.lr_g, (c.beta1, c.beta2), settings(c, "g", device), sgd)
        self.D = FlatNet(D, c.lr_d, (c.beta1, c.beta2), settings(c, "d", device), sgd)

    def set_lr_scale(self, scale: float, d_scale: float | None = None) -> None:
        self.G.lr_scale, self.D.lr_scale = scale, scale if d_scale is None else d_scale

    def state(self) -> dict[str, torch.Tensor]:
        parts = ("theta", "exp_avg", "exp_avg_sq", "steps")
        return {f"{n}.{p}": getattr(net, p) for n, net in (("G", self.G), ("D", self.D)) for p in parts}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, live in self.state().items():
                live.copy_(tensors[name])

    def view(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [K, halves, B, dim] -> D's inputs [K, halves * rows, F], each half's rows after the one
        before (and for the minibatch view with diffs, x minus its batch mean, for the backward)."""
        K, H, B, dim = x.shape
        if self.m is not None:  # sample (m = 1) or pack: m consecutive samples per input
            return x.reshape(K, H * B // self.m, self.m * dim), None
        if not self.diffs:
            return x.reshape(K, H, B * dim), None
        centred = x - x.mean(2, keepdim=True)
        return torch.cat([x, centred.square()], 2).reshape(K, H, 2 * B * dim), centred

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """One D step on a real and a fake batch [K, B, dim]; returns D's logits [K, 2 * rows, 1]."""
        c, D = self.config, self.D
        saved: list = []
        logits = D.forward(self.view(torch.stack([real, fake], 1))[0], saved)
        rows = logits.shape[1] // 2
        grad = torch.cat([self.grads[0](logits[:, :rows]), self.grads[1](logits[:, rows:])], 1)
        if rows > 1:
            grad.div_(rows)  # each loss is a mean over D's inputs
        extra = [] if c.r1 or c.r2 else None
        if c.r1:
            D.penalty(saved, slice(0, rows), c.r1, extra)
        if c.r2:
            D.penalty(saved, slice(rows, 2 * rows), c.r2, extra)
        D.backward(saved, grad, extra=extra)
        D.adam()
        return logits

    def g_grad(self, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """G's loss's gradient at its samples fake [K, B, dim], through D; and D's logits of them."""
        K, B, dim = fake.shape
        x, centred = self.view(fake.unsqueeze(1))
        saved: list = []
        logits = self.D.forward(x, saved)
        grad = self.grads[2](logits)
        if logits.shape[1] > 1:
            grad.div_(logits.shape[1])
        gx = self.D.backward(saved, grad, params=False, inputs=True)
        if self.m is not None:
            return gx.reshape(K, B, dim), logits
        gx = gx.view(K, -1, B * dim)
        if centred is None:
            return gx[:, 0].view(K, B, dim), logits
        # d/dx of [x, (x - m)^2] with m constant: g_x + 2 (x - m) g_dev
        return torch.addcmul(gx[:, 0], centred.reshape(K, -1), gx[:, 1], value=2.0).view(K, B, dim), logits

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: None = None):
        c, G = self.config, self.G
        K, B = real.shape[1], c.batch
        with torch.no_grad():
            # G's weights are the same for every D step and the first G step: one forward for all.
            g_saved: list = []
            fakes = G.forward(torch.cat([z_d.transpose(0, 1).reshape(K, -1, z_d.shape[-1]), z_g[0]], 1), g_saved)
            for s in range(c.d_steps):
                logits_d = self.d_step(real[s], fakes[:, s * B : (s + 1) * B])
            fake_d = fakes[:, (c.d_steps - 1) * B : c.d_steps * B]
            for s in range(c.g_steps):
                if s == 0:  # G's rows of the joint forward
                    fake, saved = fakes[:, c.d_steps * B :], [t[:, c.d_steps * B :] for t in g_saved]
                else:
                    saved = []
                    fake = G.forward(z_g[s], saved)
                g_fake, logits_g = self.g_grad(fake)
                G.backward(saved, g_fake)
                G.adam()

        def losses():  # per member, from the last logits, only when asked (at log time)
            rows = logits_d.shape[1] // 2
            real_part, fake_part = logits_d[:, :rows], logits_d[:, rows:]
            f = self.loss
            return f.d_real(real_part).mean((1, 2)), f.d_fake(fake_part).mean((1, 2)), f.g(logits_g).mean((1, 2))

        return losses, fake_d
