"""The D-guided sampler (sampler.py): it takes a G's bridge between two clusters away, in the data's
units, repeatably from its seed; the kernel on a sampler's samples (Smoothed) likewise."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganfit.game import adam, native
from ganfit.game.frame import Frame
from ganfit.game.models import MLP
from ganfit.game.noise import make_noise
from ganfit.sampler import CRITICS, DGuided, Smoothed, bandwidths, batches, fit_critic, fit_critics, threshold


class Bridge(torch.nn.Module):
    """A continuous G of normal noise onto [-3, 3] in units `scale` around `shift`: two piles near the
    ends and, as a GAN's continuous map leaves, a bridge of mass between them."""

    def __init__(self, shift: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.shift, self.scale = shift, scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.shift + self.scale * 3 * torch.tanh(2 * z)


def two_clusters(n: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.5, -2.6, 2.6) + 0.35 * rng.standard_normal(n)
    return (shift + scale * x)[:, None]


def in_gap(x: np.ndarray) -> float:
    """The share of samples between the two clusters (the data: 1e-4 of their mass there)."""
    return float(np.mean(np.abs(x) < 1.2))


def sampler(
    seed: int, shift: float = 0.0, scale: float = 1.0, rows: int = 400, critic: str = "smooth"
) -> tuple[DGuided, np.ndarray]:
    G = Bridge(shift, scale)
    frame = Frame(np.array([1 / scale]), np.array([-shift / scale]))  # the data standardised, as a fit trains
    noise = make_noise("normal:dim=1")
    fake = G(torch.randn(20_000, 1, generator=torch.Generator().manual_seed(seed))).double().numpy()
    critic = fit_critic(two_clusters(rows, seed, shift, scale), fake, frame, seed, *CRITICS[critic])
    return DGuided(G, critic, frame, threshold(critic, fake, frame), noise), fake


@pytest.mark.parametrize("critic", list(CRITICS))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_it_removes_most_of_the_mass_between_two_clusters(seed, critic):
    refined, fake = sampler(seed, critic=critic)
    x, cost = refined.sample(20_000, seed=5)
    # seeds 0-7: the plain G puts 0.17 of its mass in the gap, the sampler 0.009-0.022 at 1.4-1.6 draws per
    # sample with the smooth critic, 0.0004-0.0017 at 1.9-2.2 with the sharp one
    assert in_gap(x) < 0.25 * in_gap(fake) and cost < 3
    assert abs(np.mean(x > 0) - 0.5) < 0.07  # the two clusters keep their weights (0.473-0.554 on seeds 0-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_sharp_critic_sees_the_gap_more_sharply_than_the_smooth_one(seed):
    smooth, sharp = (in_gap(sampler(seed, critic=c)[0].sample(20_000, seed=5)[0]) for c in ("smooth", "sharp"))
    assert sharp < 0.3 * smooth  # seeds 0-7: 11-22 times less


def test_its_samples_are_in_the_data_units_and_repeat_from_their_seed():
    refined, _ = sampler(0, shift=1e4, scale=50.0)
    a, b, c = refined.sample(3000, seed=1)[0], refined.sample(3000, seed=1)[0], refined.sample(3000, seed=2)[0]
    assert a.shape == (3000, 1) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert 1e4 - 200 < np.median(a) < 1e4 + 200 and 1e4 - 170 < a.min() and a.max() < 1e4 + 170
    z, u = torch.randn(500, 1), torch.rand(500)
    kept = refined(z, u)  # a module: the rows of G(z) the critic accepts
    assert kept.shape[1] == 1 and 0 < len(kept) <= 500


def test_it_saves_and_loads_as_it_was(tmp_path):
    refined, _ = sampler(0)
    refined.save(tmp_path / "sampler.safetensors")
    again = DGuided.load(tmp_path / "sampler.safetensors", refined.G, refined.frame, refined.noise_law, 1)
    assert np.array_equal(again.sample(1000, seed=3)[0], refined.sample(1000, seed=3)[0])


@pytest.mark.parametrize("inner", ["plain", "d-guided"])
def test_the_kernel_moves_each_sample_by_its_bandwidth_in_the_data_units_repeatably(inner):
    refined, _ = sampler(0, shift=1e4, scale=50.0)
    base = refined if inner == "d-guided" else refined.G
    smooth = Smoothed(base, [7.5], refined.noise_law, 0)
    a, b, c = (smooth.sample(20_000, seed=s)[0] for s in (1, 1, 2))
    assert a.shape == (20_000, 1) and np.array_equal(a, b) and not np.array_equal(a, c)
    if inner == "d-guided":
        unsmoothed = refined.sample(20_000, seed=1)[0]
    else:  # the noise Run.sample feeds the member's G
        from ganfit.game import rng

        u = rng.fixed(rng.member_keys([1], "sample/0"), 20_000 * refined.noise_law.n_uniforms)
        unsmoothed = refined.G(refined.noise_law.sample(u.reshape(20_000, -1))).numpy()
    moved = a - unsmoothed  # h * N(0, 1), h = 7.5 data units
    assert abs(moved.std() - 7.5) < 0.15 and abs(moved.mean()) < 0.15
    e = torch.zeros(600, 1)
    args = (torch.randn(600, 1), torch.rand(600)) if inner == "d-guided" else (torch.randn(600, 1),)
    torch.manual_seed(0)
    x0 = base(*args)
    torch.manual_seed(0)
    assert torch.equal(smooth(*args, e=e), x0)  # a module: with e = 0, the sampler's own rows


def test_silvermans_bandwidth_per_column():
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(0, 1, 4000), rng.normal(0, 100, 4000)]
    h = bandwidths(x)
    assert h[1] / h[0] == pytest.approx(100, rel=0.05)
    assert h[0] == pytest.approx((4000 * 4 / 4) ** (-1 / 6), rel=0.05)  # d = 2: (n (d + 2) / 4)^(-1/(d + 4))
    assert bandwidths(x[:, :1])[0] == pytest.approx(1.06 * 4000**-0.2, rel=0.05)  # Silverman's 1.06 in 1-D


def autograd_critic(real, fake, seed: int, r1: float, steps: int) -> MLP:
    """fit_critic's loss and schedule through autograd (its double backward for R1), in a frame of ones."""
    real_t, fake_t = torch.as_tensor(real).float(), torch.as_tensor(fake).float()
    critic = MLP([1, 64, 64, 1], ["elu", "elu"], [seed], "critic")
    opt = adam.Adam(critic.parameters(), 1e-3, (0.5, 0.999))
    rows_r, rows_f = batches(len(real_t), len(fake_t), seed, steps)
    for t in range(steps):
        xr = real_t[rows_r[t]][None].requires_grad_(True)
        xf = fake_t[rows_f[t]][None]
        on_real, on_fake = critic(xr), critic(xf)
        (grad,) = torch.autograd.grad(on_real.sum(), xr, create_graph=True)
        loss = F.softplus(-on_real).mean() + F.softplus(on_fake).mean() + r1 / 2 * grad.square().sum(2).mean()
        opt.update(torch.autograd.grad(loss, opt.params), 1 - t / steps)
    return critic


@pytest.mark.parametrize("r1", [0.01, 1.0])
def test_the_critics_hand_derived_steps_are_autograds(r1):
    real, fake = two_clusters(300, 0), two_clusters(2000, 1) * 0.7
    ours = fit_critic(real, fake, Frame(np.ones(1), np.zeros(1)), 3, r1, 40)
    ref = autograd_critic(real, fake, 3, r1, 40)
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b.detach(), rtol=1e-4, atol=1e-5)
    x = torch.linspace(-4, 4, 50)[None, :, None]
    untrained = MLP([1, 64, 64, 1], ["elu", "elu"], [3], "critic")
    assert (ours(x) - ref(x)).abs().max() < 1e-4 < (ours(x) - untrained(x)).abs().max()


@pytest.mark.skipif(native.kernel() is None, reason="no compiled kernel here")
def test_critics_fitted_together_in_c_are_each_as_fitted_alone_and_as_torchs(monkeypatch):
    """kernel.c's critics, four at once on the idle cores: each one's bits as when it is fitted alone, and
    the torch ops' weights (GANFIT_COMPILED=0) to float rounding, after the whole of its steps."""
    real, fakes = two_clusters(300, 0), [two_clusters(2000, 1) * 0.7, Bridge()(torch.randn(2000, 1)).double().numpy()]
    specs, frame = [(0.01, 300), (1.0, 120)], Frame(np.array([0.5]), np.array([0.1]))
    together = fit_critics(real, [f for f in fakes for _ in specs], frame, 4, specs * 2)
    alone = [fit_critic(real, f, frame, 4, *spec) for f in fakes for spec in specs]
    monkeypatch.setenv("GANFIT_COMPILED", "0")
    torchs = fit_critics(real, [f for f in fakes for _ in specs], frame, 4, specs * 2)
    x = torch.linspace(-4, 4, 50)[None, :, None]
    for a, b, t in zip(together, alone, torchs):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
        torch.testing.assert_close(a(x), t(x), rtol=1e-3, atol=1e-4)
    assert (together[0](x) - together[2](x)).abs().max() > 0.1  # each learnt its own fake
    assert not any(p.requires_grad for c in together + torchs for p in c.parameters())  # fitted, not to train


def test_fitting_the_critic_leaves_torch_dynamo_unimported():
    """torch.optim imports torch._dynamo on first use, ~1 s of every `ganfit fit`; the critic does without."""
    code = (
        "import sys, numpy as np; from ganfit.game.frame import Frame; from ganfit.sampler import fit_critic\n"
        "x = np.random.default_rng(0).normal(size=(50, 1)); fit_critic(x, x + 1, Frame(np.ones(1), np.zeros(1)), 0)\n"
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
