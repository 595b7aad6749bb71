"""The reference engine: each epoch's gradients from torch's autograd, any loss, view and regulariser.

Each of the `d_steps` D steps labels a real batch 1 and a batch of G's samples 0 (G's output detached)
and adds the configured regularisers; each of the `g_steps` G steps makes D say 1, with only G's
weights updated. Losses are per member and summed before backward, so each member's gradient is its
own. The optimiser is torch's Adam, or adam.MemberAdam where members have their own settings or the
config asks for plain gradient descent.
"""

from __future__ import annotations

import torch

from . import adam, losses
from .adam import MemberAdam
from .engine import Engine
from .models import MLP


class AutogradEngine(Engine):
    name = "autograd"

    def __init__(self, config, G: MLP, D: MLP, view):
        self.config, self.G, self.D, self.view = config, G, D, view
        self.needs_real = getattr(losses.get(config.loss), "needs_real", False)
        self.opts = {}
        for name, net in (("d", D), ("g", G)):
            settings = adam.member_settings(config, name, G.device)
            lr, betas = getattr(config, f"lr_{name}"), (config.beta1, config.beta2)
            if config.optimizer == "sgd":
                self.opts[name] = MemberAdam(net.parameters(), adam.settings_of(config, name, G.device), sgd=True)
            elif settings:
                self.opts[name] = MemberAdam(net.parameters(), settings)
            else:
                self.opts[name] = torch.optim.Adam(net.parameters(), lr=lr, betas=betas, foreach=True)

    def step(self, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor, eps: torch.Tensor | None):
        """One epoch for all members: (losses, fake), losses() giving this epoch's per-member D real, D
        fake and G losses, fake the batch of the last D step."""
        c, G, D, view = self.config, self.G, self.D, self.view
        opt_d, opt_g = self.opts["d"], self.opts["g"]
        for s in range(c.d_steps):
            with torch.no_grad():
                fake = G(z_d[s])
            if D.spectral:
                D.power_iteration()
            logits = D(torch.cat([view(real[s]), view(fake)], 1))
            rows = logits.shape[1] // 2
            l_real, l_fake = losses.d_loss(logits[:, :rows], logits[:, rows:], c.loss)
            total = l_real + l_fake
            reg = losses.penalties(c, D, view, real[s], fake, None if eps is None else eps[s])
            if reg is not None:
                total = total + reg
            opt_d.zero_grad(set_to_none=True)
            total.sum().backward()  # a sum over members: each member's gradient is its own
            opt_d.step()
        real_logits = None
        if self.needs_real:  # a custom loss's G part sees D's verdict on real data, as a constant
            with torch.no_grad():
                real_logits = D(view(real[c.d_steps - 1]))
        for s in range(c.g_steps):
            l_g = losses.g_loss(D(view(G(z_g[s]))), c.loss, real_logits)
            opt_g.zero_grad(set_to_none=True)
            l_g.sum().backward(inputs=list(G.parameters()))  # D's weights are left untouched
            opt_g.step()
        return (lambda: (l_real.detach(), l_fake.detach(), l_g.detach())), fake

    def set_lr_scale(self, scale: float, d_scale: float | None = None) -> None:
        for name, opt in self.opts.items():
            factor = d_scale if name == "d" and d_scale is not None else scale
            if isinstance(opt, MemberAdam):
                opt.lr_scale = factor
            else:
                for group in opt.param_groups:
                    group["lr"] = getattr(self.config, f"lr_{name}") * factor

    def _nets(self):
        return (("G", self.G, self.opts["g"]), ("D", self.D, self.opts["d"]))

    def state(self) -> dict[str, torch.Tensor]:
        out = {}
        for name, net, opt in self._nets():
            for i, p in enumerate(net.parameters()):
                s = opt.state.get(p) or {
                    "step": torch.zeros(()),
                    "exp_avg": torch.zeros_like(p),
                    "exp_avg_sq": torch.zeros_like(p),
                }
                out |= {f"{name}.{i}.param": p.detach()} | {
                    f"{name}.{i}.{k}": s[k] for k in ("step", "exp_avg", "exp_avg_sq")
                }
        return out

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, net, opt in self._nets():
                for i, p in enumerate(net.parameters()):
                    p.copy_(tensors[f"{name}.{i}.param"])
                    opt.state[p] = {
                        k: tensors[f"{name}.{i}.{k}"].clone().to(p.device if k != "step" else "cpu")
                        for k in ("step", "exp_avg", "exp_avg_sq")
                    }
