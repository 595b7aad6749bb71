"""Adam with a learning rate and betas per member, for ensembles whose members differ in them, and
plain gradient descent (config.optimizer = "sgd") beside it.

A sweep over learning rates or betas trains its points as one ensemble (config.per_member); then each
parameter's leading member axis gets its own hyperparameters. The arithmetic is torch.optim.Adam's
(single-tensor form, no weight decay), so a member trains as the same member alone does, to float
rounding (tests/game/test_adam.py). Runs whose members share their settings keep torch's fused kernels.
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
    return prepared(
        {k: torch.tensor(values.get(n) or [getattr(config, n)] * K, device=device) for k, n in names.items()}
    )


def prepared(settings: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """lr, beta1 and beta2 [K] in float64, as torch's Adam keeps them (1 - 0.999 in float32 is off by
    1e-5), and the float32 factors the update multiplies the moments by, cast once."""
    s = {k: settings[k].to(torch.float64) for k in ("lr", "beta1", "beta2")}
    return s | {"1-beta1": (1 - s["beta1"]).float(), "beta2_": s["beta2"].float(), "1-beta2": (1 - s["beta2"]).float()}


def step(param, grad, exp_avg, exp_avg_sq, steps, settings: dict[str, torch.Tensor], lr_scale: float = 1.0) -> None:
    """One Adam update of param [K, ...] (float32) in place; `steps` is the count after this update;
    every member's lr is multiplied by lr_scale (config.lr_decay)."""
    shape = (-1,) + (1,) * (param.dim() - 1)
    s = {k: v.view(shape) for k, v in settings.items()}
    t = steps.to(torch.float64)
    exp_avg.lerp_(grad, s["1-beta1"])
    exp_avg_sq.mul_(s["beta2_"]).addcmul_(grad, grad * s["1-beta2"])
    denom = (exp_avg_sq.sqrt() / (1 - s["beta2"] ** t).sqrt().float()).add_(EPS)
    param.sub_(exp_avg / denom * (s["lr"] * lr_scale / (1 - s["beta1"] ** t)).float())


class Adam:
    """torch.optim.Adam's arithmetic (no weight decay) on one model's parameters, without torch.optim,
    which imports torch._dynamo on first use (~1 s of a `ganfit fit`): the flow baseline's optimiser.
    `update(grads, lr_scale)` is one step."""

    def __init__(self, params, lr: float, betas: tuple[float, float]):
        self.params = list(params)
        self.settings = prepared({k: torch.tensor([v]) for k, v in zip(("lr", "beta1", "beta2"), (lr, *betas))})
        self.moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]
        self.steps = 0

    @torch.no_grad()
    def update(self, grads, lr_scale: float = 1.0) -> None:
        self.steps += 1
        steps = torch.tensor([self.steps])
        for p, g, (m, v) in zip(self.params, grads, self.moments):
            step(p, g, m, v, steps, self.settings, lr_scale)


def sgd_step(param, grad, lr: torch.Tensor, lr_scale: float = 1.0) -> None:
    """One step of plain gradient descent of param [K, ...] in place: each member's lr [K] (float64) times
    lr_scale, rounded to float32 once, times its gradient (as the compiled step does it)."""
    param.sub_(grad * (lr * lr_scale).float().view((-1,) + (1,) * (param.dim() - 1)))


def settings_of(config, net: str, device) -> dict[str, torch.Tensor]:
    """member_settings, or the config's own lr and betas for every member where per_member names none."""
    return member_settings(config, net, device) or prepared(
        {
            k: torch.full((config.seeds,), getattr(config, n), dtype=torch.float64, device=device)
            for k, n in (("lr", f"lr_{net}"), ("beta1", "beta1"), ("beta2", "beta2"))
        }
    )


class MemberAdam(torch.optim.Optimizer):
    """torch.optim.Adam's state and step over parameters [K, ...], with per-member settings [K]; with
    sgd, plain gradient descent that counts its steps and leaves Adam's moments as they are."""

    def __init__(self, params, settings: dict[str, torch.Tensor], sgd: bool = False):
        super().__init__(params, {})
        self.settings = prepared(settings)
        self.lr_scale = 1.0
        self.sgd = sgd

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
                if self.sgd:
                    sgd_step(p, p.grad, self.settings["lr"], self.lr_scale)
                    continue
                step(
                    p,
                    p.grad,
                    state["exp_avg"],
                    state["exp_avg_sq"],
                    state["step"].to(p.device),
                    self.settings,
                    self.lr_scale,
                )
