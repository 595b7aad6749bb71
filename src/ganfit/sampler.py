"""The D-guided sampler: Discriminator Rejection Sampling (Azadi et al. 2018) on one member's G.

A discriminator at its optimum, D* = p_data / (p_data + p_G), is a density ratio: logit D*(x) =
log p_data(x) - log p_G(x). Accepting each of G's samples with probability min(1, exp(logit D(x) - M))
then draws from (about) p_G * min(exp(M), p_data / p_G): where G puts mass the data lack (a bridge
between two clusters), the ratio is small and the sample is mostly rejected.

Which D: the trained one sees G's live weights, not the averaged G that is saved (`g_ema`), and the
seed's minibatch D and PacGAN's pack D give one verdict per batch or pack, not per sample. So the
sampler fits its own per-sample `critic` after training, as DRS fine-tunes D on the final G: an MLP on
the train part (label 1) against the chosen member's samples (label 0), with R1 on the real rows so
that it stays smooth where a few hundred rows leave gaps. M is the `quantile` of the critic's logits
over G's samples (DRS's max, robust to one extreme value).

`DGuided` is a torch module in the data's units: `forward(z, u)` keeps the rows of G(z) that the
critic accepts against the uniforms u; `sample(n, seed)` draws until n are kept, repeatably from seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import GanfitError
from .files import atomic_write
from .game import rng
from .game.frame import Frame
from .game.models import MLP

CRITIC_HIDDEN, CRITIC_STEPS, CRITIC_BATCH, CRITIC_R1 = 64, 600, 512, 0.1
QUANTILE = 0.95
CHUNK = 1 << 18  # candidates per block: G's hidden layers for them stay near 50 MB
MAX_DRAWS = 1000  # candidates per sample kept at most: past it, sample() says the critic rejects nearly all


class DGuided(nn.Module):
    """One member's G (data units) followed by the critic's rejection step; see the module's doc."""

    def __init__(self, G: nn.Module, critic: MLP, frame: Frame, threshold: float, noise, member: int = 0):
        super().__init__()
        self.G, self.critic, self.frame = G, critic, frame
        self.threshold, self.noise_law, self.member = float(threshold), noise, member

    def log_ratio(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's logit, log p_data/p_G up to a constant, at samples x [N, dim] in the data's units."""
        z = self.frame.to_frame(x.double()).float()
        return self.critic(z.unsqueeze(0))[0, :, 0]

    def forward(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The rows of G(z) [N, dim] that the critic accepts, u [N] uniforms on [0, 1): [M <= N, dim]."""
        x = self.G(z)
        accept = torch.exp((self.log_ratio(x) - self.threshold).clamp(max=0.0))
        return x[u < accept]

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, float]:
        """(n samples [n, dim] in the data's units, candidates drawn per sample kept), repeatable from seed."""
        kept, drawn, chunk = [], 0, min(max(1024, 2 * n), CHUNK)
        for block in range(1 << 20):
            keys = rng.member_keys([seed], f"drs/{self.member}/{block}")
            u = rng.fixed(keys, chunk * (self.noise_law.n_uniforms + 1)).reshape(chunk, -1)
            rows = self.forward(self.noise_law.sample(u[:, 1:]), u[:, 0])
            kept.append(rows)
            drawn += chunk
            if sum(len(k) for k in kept) >= n or drawn > MAX_DRAWS * n:
                break
        x = torch.cat(kept)
        if len(x) < n:
            raise GanfitError(f"the D-guided sampler's critic accepted {len(x)} of {drawn:,} candidates")
        return x[:n].numpy(), drawn / max(1, len(x))

    def save(self, path: Path) -> None:
        """The critic's weights and the threshold, as safetensors (sampler.safetensors in a fit run)."""
        tensors = {f"critic.{k}": p.detach().contiguous() for k, p in self.critic.named_parameters()}
        meta = {"ganfit": json.dumps({"threshold": self.threshold, "member": self.member, "hidden": CRITIC_HIDDEN})}
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))

    @classmethod
    def load(cls, path: Path, G: nn.Module, frame: Frame, noise, dim: int) -> DGuided:
        """Read save()'s file back over one member's G; every problem one GanfitError line."""
        try:
            tensors = load_file(path)
            with safe_open(path, "pt") as fh:
                info = json.loads((fh.metadata() or {})["ganfit"])
            critic = MLP([dim, int(info["hidden"]), int(info["hidden"]), 1], ["elu", "elu"], [0], "critic")
            with torch.no_grad():
                for k, p in critic.named_parameters():
                    p.copy_(tensors[f"critic.{k}"])
                    p.requires_grad_(False)
            return cls(G, critic, frame, float(info["threshold"]), noise, int(info["member"]))
        except (SafetensorError, OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
            raise GanfitError(f"{path}: not a ganfit sampler file ({e})") from None


def fit_critic(real: np.ndarray, fake: np.ndarray, frame: Frame, seed: int) -> MLP:
    """A per-sample critic [1, N, dim] -> logits, trained on real rows vs G's samples (both in data units,
    fitted in the working frame), non-saturating loss with R1 on the real rows; seeded."""
    to = lambda x: frame.to_frame(torch.as_tensor(x, dtype=torch.float64)).float()  # noqa: E731
    real_t, fake_t = to(real), to(fake)
    critic = MLP([real.shape[1], CRITIC_HIDDEN, CRITIC_HIDDEN, 1], ["elu", "elu"], [seed], "critic")
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.999))
    # the rate falls to 0 in a straight line: the critic ends where it settled, not at its last minibatch
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / CRITIC_STEPS)
    picks = torch.Generator().manual_seed(seed)
    for _ in range(CRITIC_STEPS):
        xr = real_t[torch.randint(len(real_t), (CRITIC_BATCH,), generator=picks)][None].requires_grad_(True)
        xf = fake_t[torch.randint(len(fake_t), (CRITIC_BATCH,), generator=picks)][None]
        on_real, on_fake = critic(xr), critic(xf)
        (grad,) = torch.autograd.grad(on_real.sum(), xr, create_graph=True)
        loss = F.softplus(-on_real).mean() + F.softplus(on_fake).mean() + CRITIC_R1 / 2 * grad.square().sum(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    for p in critic.parameters():
        p.requires_grad_(False)
    return critic


def threshold(critic: MLP, fake: np.ndarray, frame: Frame) -> float:
    """M: the QUANTILE of the critic's logits over G's samples."""
    with torch.no_grad():
        z = frame.to_frame(torch.as_tensor(fake, dtype=torch.float64)).float()
        return float(torch.quantile(critic(z[None])[0, :, 0].double(), QUANTILE))
