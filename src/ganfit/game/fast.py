"""The autograd engine's epoch with hand-derived gradients: about a third of the ops, no autograd.

On 2 CPU cores a GAN of this size is bound by per-op dispatch, not arithmetic, so the step is written
as few, large ops: real and fake batches go through D as one batched call, G runs once for both the
D and the G step (its weights do not change in between), activations use aten's fused backward
kernels, and each net's parameters, gradients and Adam moments live in one flat [K, P] buffer that a
single fused Adam call updates. It covers the seed's game (bce loss, minibatch view, any activation);
tests/game/test_fast.py checks it against autograd, and `gradients = "autograd"` runs the reference.
"""

from __future__ import annotations

import torch

from . import adam
from .models import MLP
from .views import MinibatchView

aten = torch.ops.aten

ACT_BACKWARD = {  # d activation, written in terms of its output y
    "elu": lambda g, y: aten.elu_backward(g, 1.0, 1, 1, True, y),
    "sigmoid": lambda g, y: aten.sigmoid_backward(g, y),
    "tanh": lambda g, y: aten.tanh_backward(g, y),
    "relu": lambda g, y: aten.threshold_backward(g, y, 0),
    "leaky_relu": lambda g, y: aten.leaky_relu_backward(g, y, 0.2, True),
}


COVERS = "loss bce with the minibatch view, ganfit's MLPs and no gp, r1, r2, d_penalty or spectral_norm"


def covers(config, view) -> bool:
    """Whether this engine plays config's game: the seed's only (regularisers and the rest: autograd)."""
    plain = config.gp == 0 and config.r1 == 0 and config.r2 == 0 and not config.spectral_norm
    mlps = not (config.d_penalty or config.g_model or config.d_model)
    return config.loss == "bce" and isinstance(view, MinibatchView) and plain and mlps


class FlatNet:
    """One ensemble MLP over flat buffers: theta, grad and Adam's moments, each [K, P]. The module's
    parameters are re-pointed at views of theta, so saving and evaluation see the trained weights."""

    def __init__(self, mlp: MLP, lr: float, betas: tuple[float, float], settings: dict | None = None):
        params = [p for pair in zip(mlp.weights, mlp.biases) for p in pair]
        K = mlp.members
        self.theta = torch.cat([p.detach().reshape(K, -1) for p in params], 1)
        self.grad = torch.zeros_like(self.theta)
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(self.theta), torch.zeros_like(self.theta)
        self.steps = torch.zeros((), device=self.theta.device)
        self.lr, self.betas, self.settings = lr, betas, settings  # settings: per member (adam.py), or None
        self.lr_scale = 1.0  # config.lr_decay
        self.acts = [mlp._acts[i] for i in range(len(mlp.activations))]
        self.act_back = [ACT_BACKWARD[a] for a in mlp.activations]
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
        last = len(self.W) - 1
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            if saved is not None:
                saved.append(x)
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self.acts[i](x)
        return x

    def backward(self, saved: list, g: torch.Tensor, params: bool = True, inputs: bool = False):
        """Given dL/d(output), write dL/d(theta) into self.grad (if params); return dL/d(input) (if inputs)."""
        for i in range(len(self.W) - 1, -1, -1):
            x = saved[i]
            if params:
                torch.bmm(x.transpose(1, 2), g, out=self.dW[i])
                torch.sum(g, 1, keepdim=True, out=self.db[i])
            if i > 0 or inputs:
                g = torch.bmm(g, self.W[i].transpose(1, 2))
                if i > 0:
                    g = self.act_back[i - 1](g, x)
        return g if inputs else None

    def adam(self) -> None:
        self.steps.add_(1)  # the kernel reads the step count after the increment (as torch.optim.Adam does)
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


class FastEngine:
    """AutogradEngine's methods and math for the seed's game; G's and D's modules share its buffers."""

    def __init__(self, config, G: MLP, D: MLP, view):
        c, device = config, G.weights[0].device
        self.config, self.diffs = c, view.diffs
        self.G = FlatNet(G, c.lr_g, (c.beta1, c.beta2), adam.member_settings(c, "g", device))
        self.D = FlatNet(D, c.lr_d, (c.beta1, c.beta2), adam.member_settings(c, "d", device))
        self.labels = torch.tensor([1.0, 0.0], device=self.G.theta.device).view(1, 2, 1)

    def set_lr_scale(self, scale: float) -> None:
        self.G.lr_scale = self.D.lr_scale = scale

    def state(self) -> dict[str, torch.Tensor]:
        parts = ("theta", "exp_avg", "exp_avg_sq", "steps")
        return {f"{n}.{p}": getattr(net, p) for n, net in (("G", self.G), ("D", self.D)) for p in parts}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, live in self.state().items():
                live.copy_(tensors[name])

    def view(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [K, rows, B, dim] -> D input [K, rows, F] (and x minus its batch mean, for the backward)."""
        K, R, B, dim = x.shape
        if not self.diffs:
            return x.reshape(K, R, B * dim), None
        centred = x - x.mean(2, keepdim=True)
        return torch.cat([x, centred.square()], 2).reshape(K, R, 2 * B * dim), centred

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: None = None):
        c, G, D = self.config, self.G, self.D
        K, B = real.shape[1], c.batch
        with torch.no_grad():
            # G's weights are the same for every D step and the first G step: one forward for all.
            g_saved: list = []
            fakes = G.forward(torch.cat([z_d.transpose(0, 1).reshape(K, -1, z_d.shape[-1]), z_g[0]], 1), g_saved)
            for s in range(c.d_steps):
                pair = torch.stack([real[s], fakes[:, s * B : (s + 1) * B]], 1)  # [K, 2, B, dim]
                d_saved: list = []
                logits_d = D.forward(self.view(pair)[0], d_saved)  # [K, 2, 1]: real row, fake row
                D.backward(d_saved, torch.sigmoid(logits_d).sub_(self.labels))
                D.adam()
            fake_d = fakes[:, (c.d_steps - 1) * B : c.d_steps * B]
            for s in range(c.g_steps):
                if s == 0:  # G's rows of the joint forward
                    fake, saved = fakes[:, c.d_steps * B :], [t[:, c.d_steps * B :] for t in g_saved]
                else:
                    saved = []
                    fake = G.forward(z_g[s], saved)
                x, centred = self.view(fake.unsqueeze(1))
                d_saved = []
                logits_g = D.forward(x, d_saved)
                gx = D.backward(d_saved, torch.sigmoid(logits_g).sub_(1.0), params=False, inputs=True)
                gx = gx.view(K, -1, B * fake.shape[-1])
                if centred is None:
                    g_fake = gx[:, 0]
                else:  # d/dx of [x, (x - m)^2] with m constant: g_x + 2 (x - m) g_dev
                    g_fake = torch.addcmul(gx[:, 0], centred.reshape(K, -1), gx[:, 1], value=2.0)
                G.backward(saved, g_fake.view_as(fake))
                G.adam()

        def losses():  # per member, from the last logits, only when asked (at log time)
            sp = torch.nn.functional.softplus
            return sp(-logits_d[:, 0, 0]), sp(logits_d[:, 1, 0]), sp(-logits_g[:, 0, 0])

        return losses, fake_d
