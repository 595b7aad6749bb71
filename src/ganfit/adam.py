"""Adam with a learning rate and betas per member, for ensembles whose members differ in them.

A sweep over learning rates or betas trains its points as one ensemble (config.per_member); then each
parameter's leading member axis gets its own hyperparameters. The arithmetic is torch.optim.Adam's
(single-tensor form, no weight decay), so a member trains as the same member alone does, to float
rounding (tests/test_adam.py). Runs whose members share their settings keep torch's fused kernels.
"""

from __future__ import annotations

import torch

EPS = 1e-8


def member_settings(config, net: str, device) -> dict[str, torch.Tensor] | None:
    """{lr, beta1, beta2} as [K] tensors for net "d" or "g", or None when per_member names none of them."""
    values = config.member_values()
    names = {"lr": f"lr_{net}", "beta1": "beta1", "beta2": "beta2"}
    if not any(n in values for n in names.values()):
        return None
    K = config.seeds
    return {
        k: torch.tensor(values.get(n) or [getattr(config, n)] * K, dtype=torch.float32, device=device)
        for k, n in names.items()
    }


def step(param, grad, exp_avg, exp_avg_sq, steps, settings: dict[str, torch.Tensor]) -> None:
    """One Adam update of param [K, ...] in place; `steps` is the count after this update (a tensor)."""
    shape = (-1,) + (1,) * (param.dim() - 1)
    lr, b1, b2 = (settings[k].view(shape) for k in ("lr", "beta1", "beta2"))
    exp_avg.lerp_(grad, 1 - b1)
    exp_avg_sq.mul_(b2).addcmul_(grad, grad * (1 - b2))
    bias1, bias2 = 1 - b1**steps, 1 - b2**steps
    denom = (exp_avg_sq.sqrt() / bias2.sqrt()).add_(EPS)
    param.sub_(exp_avg / denom * (lr / bias1))


class MemberAdam(torch.optim.Optimizer):
    """torch.optim.Adam's state and step over parameters [K, ...], with per-member settings [K]."""

    def __init__(self, params, settings: dict[str, torch.Tensor]):
        super().__init__(params, {})
        self.settings = settings

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state |= {
                        "step": torch.zeros(()),
                        "exp_avg": torch.zeros_like(p),
                        "exp_avg_sq": torch.zeros_like(p),
                    }
                state["step"] += 1
                steps = state["step"].to(p.device)
                step(p, p.grad, state["exp_avg"], state["exp_avg_sq"], steps, self.settings)
