"""D's and G's losses and D's regularisers, per member: every function returns a [K] tensor.

A loss is a function of D's logits (raw outputs, shape [K, rows, 1]); the step sums the per-member
values over members before backward, so each member's gradient is its own.

| loss      | D minimises                               | G minimises              |
|-----------|-------------------------------------------|--------------------------|
| `bce`     | softplus(-D(x)) + softplus(D(G(z)))       | softplus(-D(G(z)))       |
| `ns`      | the same (bce is the non-saturating game) | the same                 |
| `minimax` | the same                                  | -softplus(D(G(z)))       |
| `lsgan`   | (D(x) - 1)^2 / 2 + D(G(z))^2 / 2          | (D(G(z)) - 1)^2 / 2      |
| `hinge`   | relu(1 - D(x)) + relu(1 + D(G(z)))        | -D(G(z))                 |
| `wgan`    | D(G(z)) - D(x)                            | -D(G(z))                 |

each averaged over D's inputs. softplus(-l) is -log sigmoid(l): `bce` is the seed's sigmoid + BCELoss
(G's BCE against label 1 is Goodfellow's non-saturating G loss), and `minimax` is the saturating
original, log(1 - D(G(z))) = -softplus(l).

Regularisers, added to D's loss (gradients are taken with respect to the samples, and a "D input" is
what the view makes of them: one sample, a pack of m, or the whole batch):

- gp (WGAN-GP, Gulrajani et al.): lambda * mean over inputs of (|grad D(x_hat)| - 1)^2, with
  x_hat = eps * x_real + (1 - eps) * x_fake and eps ~ U[0, 1) drawn per sample, not per batch.
- R1 / R2 (Mescheder et al. 2018): gamma / 2 * mean over inputs of |grad D(x)|^2 on real (R1) or
  fake (R2) samples. For a linear D(x) = w.x + b the penalty is gamma/2 |w|^2 and adds gamma * w to
  D's gradient (tests/game/test_losses.py checks both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import custom
from ..config import LOSS_NAMES
from ..errors import GanfitError


@dataclass(frozen=True)
class Loss:
    """Per-logit terms of D's loss on real and fake inputs and of G's loss, and what D's output means."""

    d_real: Callable[[torch.Tensor], torch.Tensor]
    d_fake: Callable[[torch.Tensor], torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    probability: bool = False  # sigmoid(D) is D's probability that its input is real
    ratio_optimum: bool = False  # D's optimal verdict is p_data / (p_data + p_G), as a probability or raw

    def verdict(self, logits: torch.Tensor) -> torch.Tensor:
        """What D says of its inputs: a probability of "real" where the loss makes one, else its raw output."""
        return torch.sigmoid(logits) if self.probability else logits


_BCE = Loss(lambda t: F.softplus(-t), F.softplus, lambda t: F.softplus(-t), probability=True, ratio_optimum=True)

LOSSES = {
    "bce": _BCE,
    "ns": _BCE,
    "minimax": Loss(_BCE.d_real, _BCE.d_fake, lambda t: -F.softplus(t), probability=True, ratio_optimum=True),
    "lsgan": Loss(
        lambda t: 0.5 * (t - 1).square(),
        lambda t: 0.5 * t.square(),
        lambda t: 0.5 * (t - 1).square(),
        ratio_optimum=True,
    ),
    "hinge": Loss(lambda t: F.relu(1 - t), lambda t: F.relu(1 + t), lambda t: -t),
    "wgan": Loss(lambda t: -t, lambda t: t, lambda t: -t),
}
assert tuple(LOSSES) == LOSS_NAMES


@dataclass(frozen=True)
class CustomLoss:
    """A loss from Python: fn(real_logits, fake_logits) -> (D's loss on real, D's loss on fake, G's loss),
    each [K] (per member), from logits [K, rows, 1]. G's loss may use the real logits too (as the
    relativistic losses do): G's step passes D's logits of the epoch's last real batch, without gradient."""

    name: str
    fn: Callable
    probability: bool = False
    ratio_optimum: bool = False
    needs_real: bool = True

    def verdict(self, logits: torch.Tensor) -> torch.Tensor:
        return logits

    def __call__(self, logits_real: torch.Tensor, logits_fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.fn(logits_real, logits_fake)
        K = logits_fake.shape[0]
        if not (isinstance(out, tuple | list) and len(out) == 3 and all(_per_member(t, K) for t in out)):
            got = f"{len(out)} values" if isinstance(out, tuple | list) else type(out).__name__
            raise GanfitError(
                f"loss {self.name}: must return (d_on_real, d_on_fake, g), each of shape [{K}]; got {got}"
            )
        return tuple(out)


def _per_member(t, K: int) -> bool:
    return isinstance(t, torch.Tensor) and tuple(t.shape) == (K,)


def get(loss: str) -> Loss | CustomLoss:
    """A loss by its config name: a built-in one, or custom:NAME from Python."""
    if custom.is_custom(loss):
        return CustomLoss(loss, custom.get(loss))
    return LOSSES[loss]


def d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor, loss: str = "bce") -> tuple[torch.Tensor, ...]:
    """D's loss on real and on fake inputs, per member (for bce: BCE against 1 and 0)."""
    f = get(loss)
    if isinstance(f, CustomLoss):
        return f(logits_real, logits_fake)[:2]
    return f.d_real(logits_real).mean((1, 2)), f.d_fake(logits_fake).mean((1, 2))


def g_loss(logits_fake: torch.Tensor, loss: str = "bce", logits_real: torch.Tensor | None = None) -> torch.Tensor:
    """G's loss, per member (for bce: BCE against label 1, the seed's); a custom loss also gets D's
    logits of real data."""
    f = get(loss)
    if isinstance(f, CustomLoss):
        return f(logits_real, logits_fake)[2]
    return f.g(logits_fake).mean((1, 2))


def input_gradients(D, view, x: torch.Tensor) -> torch.Tensor:
    """grad_x of D's outputs at samples x [K, B, dim], grouped per D input: [K, inputs, samples x dim].

    The graph is kept (create_graph) so that a penalty on it trains D. Summing the outputs before
    differentiating is exact per input wherever inputs do not share batch statistics (sample, pack);
    with minibatch or stddev views the gradient also carries the coupling through those statistics."""
    x = x.detach().requires_grad_(True)
    out = D(view(x))
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return g.reshape(out.shape[0], out.shape[1], -1)


def r1(D, view, x: torch.Tensor, gamma: float) -> torch.Tensor:
    """gamma / 2 * mean over D inputs of |grad D|^2 at x (real: R1; fake: R2), per member."""
    return 0.5 * gamma * input_gradients(D, view, x).square().sum(2).mean(1)


def gradient_penalty(D, view, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor, lam: float) -> torch.Tensor:
    """lambda * mean over D inputs of (|grad D(x_hat)| - 1)^2, x_hat = eps real + (1 - eps) fake, with
    eps [K, B, 1] one uniform per sample; per member."""
    x_hat = eps * real + (1 - eps) * fake
    g = input_gradients(D, view, x_hat)
    norm = (g.square().sum(2) + 1e-12).sqrt()  # the epsilon keeps the norm's gradient finite at 0
    return lam * (norm - 1).square().mean(1)


def penalties(config, D, view, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor | None) -> torch.Tensor | None:
    """The sum of the configured regularisers, per member, or None when there are none."""
    terms = []
    if config.d_penalty:  # a researcher's own, from Python: fn(D, view, real, fake) -> [K]
        term = custom.get(config.d_penalty)(D, view, real, fake)
        if not _per_member(term, real.shape[0]):
            raise GanfitError(
                f"d_penalty {config.d_penalty}: must return one value per member, shape [{real.shape[0]}]"
            )
        terms.append(term)
    if config.r1:
        terms.append(r1(D, view, real, config.r1))
    if config.r2:
        terms.append(r1(D, view, fake, config.r2))
    if config.gp:
        terms.append(gradient_penalty(D, view, real, fake, eps, config.gp))
    return sum(terms) if terms else None
