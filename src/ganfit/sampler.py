"""The D-guided sampler: Discriminator Rejection Sampling (Azadi et al. 2018) on one member's G.

A discriminator at its optimum, D* = p_data / (p_data + p_G), is a density ratio: logit D*(x) =
log p_data(x) - log p_G(x). Accepting each of G's samples with probability min(1, exp(logit D(x) - M))
then draws from (about) p_G * min(exp(M), p_data / p_G): where G puts mass the data lack (a bridge
between two clusters), the ratio is small and the sample is mostly rejected.

Which D: the trained one sees G's live weights, not the averaged G that is saved (`g_ema`), and the
seed's minibatch D and PacGAN's pack D give one verdict per batch or pack, not per sample. So the
sampler fits its own per-sample `critic` after training, as DRS fine-tunes D on the final G: an MLP on
the train part (label 1) against the chosen member's samples (label 0), with R1 on the real rows so
that it stays smooth where a few hundred rows leave gaps. How smooth is a trade: at R1 0.1 the logit of
a critic fitted on ~160 rows moves by only about 0.3 across the eruptions' gap, so little of a bridge is
rejected; at R1 0.01 and 1,500 steps it sees the gap more sharply (on the two-cluster toy of the tests
it leaves 4-9% of the smooth critic's mass there) but may carve a cluster's inside too. A fit tries
both (`CRITICS`) and lets the validation part choose. M is the `quantile` of the critic's logits over
G's samples (DRS's max, robust to one extreme value).

`DGuided` is a torch module in the data's units: `forward(z, u)` keeps the rows of G(z) that the
critic accepts against the uniforms u; `sample(n, seed)` draws until n are kept, repeatably from seed.

`Smoothed` puts a Gaussian kernel on a sampler's output (each sample moved by h * N(0, I), h per column in
the data's units): G's map piles samples at the edges of what it learned from a few hundred rows, and a
little smoothing, chosen on the validation part as a KDE's bandwidth is, takes the spikes off. The
smoothed sampler is a KDE over G's infinitely many samples, as a KDE is one over the data's few.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import GanfitError
from .files import atomic_write
from .game import compiled, native, rng
from .game.fast import LOSS_GRADS, FlatNet
from .game.frame import Frame
from .game.models import MLP
from .game.plan import idle_cores, one_thread

# minibatches of 256 real and 256 of G's rows: 512 gave the same fits to within ±0.002 on twenty splits of
# the eight real sets (docs/benchmarks.md, section 5) in 1.5-2.0x the critics' time
CRITIC_HIDDEN, CRITIC_STEPS, CRITIC_BATCH, CRITIC_R1 = 64, 600, 256, 0.1
CRITICS = {"smooth": (CRITIC_R1, CRITIC_STEPS), "sharp": (0.01, 1500)}  # (R1, steps) a fit tries
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


def fit_critic(
    real: np.ndarray, fake: np.ndarray, frame: Frame, seed: int, r1: float = CRITIC_R1, steps: int = CRITIC_STEPS
) -> MLP:
    """One critic: fit_critics' for one spec."""
    return fit_critics(real, [fake], frame, seed, [(r1, steps)])[0]


def fit_critics(
    real: np.ndarray, fakes: list[np.ndarray], frame: Frame, seed: int, specs: list[tuple[float, int]]
) -> list[MLP]:
    """Per-sample critics [1, N, dim] -> logits: critic i trained on the real rows against G's samples
    fakes[i] (both in data units, fitted in the working frame) for specs[i] = (R1 weight, steps), each as
    it would be alone: non-saturating loss with R1 on the real rows, Adam at a rate that falls to 0 in a
    straight line (the critic ends where it settled), its batches drawn from `seed` (batches). The
    gradients are the game's, derived by hand, R1's double backward included: in kernel.c, the critics
    split across the idle cores, where it is built (game/compiled.train_critics), else torch's
    (game/fast.FlatNet); the same weights as autograd's to float rounding."""
    order = sorted(range(len(specs)), key=lambda k: -specs[k][1])  # the longest first: the threads end together
    fakes, specs = [fakes[k] for k in order], [specs[k] for k in order]
    to = lambda x: frame.to_frame(torch.as_tensor(x, dtype=torch.float64)).float()  # noqa: E731
    real_t, K, dim, most = to(real), len(specs), real.shape[1], max(steps for _, steps in specs)
    xr, xf = torch.zeros(2, K, most, CRITIC_BATCH, dim)
    for k, (fake, (_, steps)) in enumerate(zip(fakes, specs)):
        fake_t = to(fake)
        r, f = batches(len(real_t), len(fake_t), seed, steps)
        xr[k, :steps], xf[k, :steps] = real_t[r], fake_t[f]
    critic = MLP([dim, CRITIC_HIDDEN, CRITIC_HIDDEN, 1], ["elu", "elu"], [seed] * K, "critic")
    net = FlatNet(critic, 1e-3, (0.5, 0.999))
    if native.kernel() is not None:
        r1s, steps = zip(*specs)
        compiled.train_critics(net, critic, xr, xf, list(steps), list(r1s), min(K, idle_cores()))
        critics = [critic.member(k) for k in range(K)]
    else:
        critics = [_torch_critic(critic.member(k), xr[k], xf[k], *spec) for k, spec in enumerate(specs)]
    return [critics[order.index(k)] for k in range(K)]


def batches(n_real: int, n_fake: int, seed: int, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which real rows and which of G's samples each of a critic's steps trains on: [steps, CRITIC_BATCH]
    indices each, from a generator seeded with `seed`."""
    picks = torch.Generator().manual_seed(seed)
    shape = (steps, CRITIC_BATCH)
    return torch.randint(n_real, shape, generator=picks), torch.randint(n_fake, shape, generator=picks)


def _torch_critic(critic: MLP, xr: torch.Tensor, xf: torch.Tensor, r1: float, steps: int) -> MLP:
    """fit_critics' training of one critic with torch's ops, on its batches xr and xf [>= steps, B, dim]."""
    critic = critic.sharing([p.clone() for p in critic.parameters()])  # its own buffers, not the K critics'
    net = FlatNet(critic, 1e-3, (0.5, 0.999))
    on_real, on_fake, _ = LOSS_GRADS["ns"]
    with one_thread(), torch.no_grad():  # small ops: one thread is faster under the CLI's OpenMP settings
        for t in range(steps):
            saved: list = []
            logits = net.forward(torch.cat([xr[t], xf[t]])[None], saved)
            grad = torch.cat([on_real(logits[:, :CRITIC_BATCH]), on_fake(logits[:, CRITIC_BATCH:])], 1)
            extra: list = []
            net.penalty(saved, slice(0, CRITIC_BATCH), r1, extra)
            net.backward(saved, grad.div_(CRITIC_BATCH), extra=extra)
            net.lr_scale = 1 - t / steps
            net.adam()
    return critic


def threshold(critic: MLP, fake: np.ndarray, frame: Frame) -> float:
    """M: the QUANTILE of the critic's logits over G's samples."""
    with torch.no_grad():
        z = frame.to_frame(torch.as_tensor(fake, dtype=torch.float64)).float()
        return float(torch.quantile(critic(z[None])[0, :, 0].double(), QUANTILE))


class Smoothed(nn.Module):
    """A sampler (one member's plain G, or a DGuided) followed by a Gaussian kernel of bandwidth h [dim]
    in the data's units: `forward(*inputs, e)` is the sampler's rows plus h * e (e [N, dim] standard
    normal, its first rows used); `sample(n, seed)` is repeatable from seed."""

    def __init__(self, inner: nn.Module, bandwidth, noise, member: int):
        super().__init__()
        self.inner, self.noise_law, self.member = inner, noise, member
        self.register_buffer("h", torch.as_tensor(np.asarray(bandwidth, dtype=np.float64)))

    @property
    def dguided(self) -> DGuided | None:
        return self.inner if isinstance(self.inner, DGuided) else None

    def forward(self, *inputs: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        x = self.inner(*inputs)
        return x + (self.h * e[: len(x)].double()).to(x.dtype)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, float]:
        if self.dguided is not None:
            x, cost = self.dguided.sample(n, seed)
            x = torch.as_tensor(x)
        else:  # the noise `Run.sample` feeds this member's G
            law = self.noise_law
            u = rng.fixed(rng.member_keys([seed], f"sample/{self.member}"), n * law.n_uniforms)
            x, cost = self.inner(law.sample(u.reshape(n, law.n_uniforms))), 1.0
        dim = x.shape[1]
        u = rng.fixed(rng.member_keys([seed], f"smooth/{self.member}"), 2 * n * dim).reshape(2, n, dim)
        return (x.double() + self.h * rng.box_muller(u[0], u[1]).double()).to(x.dtype).numpy(), cost

    def save(self, path: Path) -> None:
        """The D-guided step's file where there is one (the bandwidth is in summary.json's `sampler`)."""
        if self.dguided is not None:
            self.dguided.save(path)


def bandwidths(train: np.ndarray) -> np.ndarray:
    """Silverman's rule per column [dim] in the data's units: sigma (n (d + 2) / 4)^(-1/(d + 4)), sigma the
    smaller of the std and the IQR / 1.349 (the std where the IQR is 0: data piled on a few values)."""
    n, d = train.shape
    q75, q25 = np.percentile(train, [75, 25], axis=0)
    sd = train.std(0)
    sigma = np.where(q75 > q25, np.minimum(sd, (q75 - q25) / 1.349), sd)
    return sigma * (n * (d + 2) / 4) ** (-1 / (d + 4))
