import numpy as np
import pytest
import torch
from scipy import stats

from ganfit.game.targets import make_target
from ganfit.measure import metrics


@pytest.fixture
def normal_target():
    return make_target("gaussian:mean=4,std=1.25")


def test_moments_ks_and_w1_match_scipy(normal_target):
    rng = np.random.default_rng(0)
    x = np.stack([rng.normal(4, 1.25, 4000), rng.uniform(2, 6, 4000), rng.exponential(1.0, 4000)])
    m = metrics.compute(x, normal_target)
    assert np.allclose(m["mean"], x.mean(1)) and np.allclose(m["std"], x.std(1))
    assert np.allclose(m["skew"], stats.skew(x, axis=1))
    assert np.allclose(m["kurtosis"], stats.kurtosis(x, axis=1))
    for k in range(3):
        assert m["ks"][k] == pytest.approx(stats.kstest(x[k], normal_target.dist.cdf).statistic, abs=1e-12)
        assert metrics.ks_exact(np.sort(x[k : k + 1]), normal_target.dist.cdf)[0] == m["ks"][k]
        # W1 against the exact law, checked against a huge sample of it
        ref = stats.wasserstein_distance(x[k], rng.normal(4, 1.25, 2_000_000))
        assert m["w1"][k] == pytest.approx(ref, abs=5e-3)


def test_w1_of_a_shift_is_the_shift(normal_target):
    # quantiles of the target itself, shifted by 0.3: W1 is 0.3 up to the quadrature
    u = (np.arange(20000) + 0.5) / 20000
    x = normal_target.dist.ppf(u)[None] + 0.3
    assert metrics.compute(x, normal_target)["w1"][0] == pytest.approx(0.3, abs=1e-3)
    assert metrics.compute(x - 0.3, normal_target)["ks"][0] < 1e-4


def test_two_sample_metrics_for_data(tmp_path):
    f = tmp_path / "d.csv"
    data = np.random.default_rng(1).normal(10, 2, 500)
    f.write_text("\n".join(map(str, data)))
    t = make_target(f"csv:path={f}")
    x = np.random.default_rng(2).normal(11, 2, (2, 1000))
    m = metrics.compute(x, t)
    assert m["ks"][1] == pytest.approx(stats.ks_2samp(x[1], data).statistic)
    assert m["w1"][0] == pytest.approx(stats.wasserstein_distance(x[0], data))


def test_learned_criterion_is_the_articles(normal_target):
    mean = np.array([4.0, 4.49, 4.51, 4.0, 4.0])
    std = np.array([1.25, 1.25, 1.25, 1.64, 0.84])
    assert metrics.learned(mean, std, normal_target).tolist() == [True, True, False, True, False]
    assert "|mean - 4| < 0.5 and |std - 1.25| < 0.4" in metrics.criterion(normal_target)


def test_non_finite_members_get_nan_not_errors(normal_target):
    x = np.stack([np.full(100, np.nan), np.random.default_rng(0).normal(4, 1.25, 100)])
    m = metrics.compute(x, normal_target)
    assert np.isnan(m["ks"][0]) and np.isfinite(m["ks"][1])


# ---- the suite's metrics: hand-made sample sets whose answers are known


def on_modes(target, counts, offset=(0.0, 0.0)):
    """counts[j] samples exactly at mode j (plus a fixed offset): [1, sum(counts), 2]."""
    pts = np.concatenate([np.repeat(target.modes[j : j + 1], c, 0) for j, c in enumerate(counts)])
    return (pts + np.asarray(offset))[None]


def test_mode_metrics_on_hand_made_sets():
    ring = make_target("ring")  # 8 modes, std 0.02: high quality means within 0.06 of a mode
    every = metrics.mode_metrics(on_modes(ring, [10] * 8), ring)
    assert every["modes"][0] == 8 and every["hq"][0] == 1 and every["reverse_kl"][0] == pytest.approx(0, abs=1e-12)
    one = metrics.mode_metrics(on_modes(ring, [80, 0, 0, 0, 0, 0, 0, 0]), ring)
    assert one["modes"][0] == 1 and one["reverse_kl"][0] == pytest.approx(np.log(8))  # KL(delta || uniform)
    two = metrics.mode_metrics(on_modes(ring, [30, 10, 0, 0, 0, 0, 0, 0]), ring)
    assert two["reverse_kl"][0] == pytest.approx(0.75 * np.log(0.75 * 8) + 0.25 * np.log(0.25 * 8))
    assert two["mode_props"][0, :2].tolist() == [0.75, 0.25]
    # 2.9 std from a mode is high quality, 3.1 std is not; half the samples far away halve HQ
    near = metrics.mode_metrics(on_modes(ring, [5] * 8, offset=(0, 2.9 * 0.02)), ring)
    far = metrics.mode_metrics(on_modes(ring, [5] * 8, offset=(0, 3.1 * 0.02)), ring)
    assert near["hq"][0] == 1 and far["hq"][0] == 0 and far["modes"][0] == 0 and np.isnan(far["reverse_kl"][0])
    half = np.concatenate([on_modes(ring, [5] * 8), np.full((1, 40, 2), 10.0)], 1)
    h = metrics.mode_metrics(half, ring)
    assert h["hq"][0] == 0.5 and h["modes"][0] == 8
    # only the first 2,500 samples count, as in VEEGAN and PacGAN
    late = np.concatenate([on_modes(ring, [2500, 0, 0, 0, 0, 0, 0, 0]), on_modes(ring, [0, 100, 0, 0, 0, 0, 0, 0])], 1)
    assert metrics.mode_metrics(late, ring)["modes"][0] == 1


def test_mode_proportions_of_a_one_d_mixture_use_the_true_weights():
    t = make_target("mog:means=-2;2,stds=0.5;0.5,weights=0.3;0.7")
    x = np.concatenate([np.full(30, -2.0), np.full(70, 2.1)])[None, :, None]
    m = metrics.compute(x, t)
    assert m["mode_props"][0].tolist() == [0.3, 0.7] and m["reverse_kl"][0] == pytest.approx(0, abs=1e-12)
    assert m["modes"][0] == 2 and m["hq"][0] == 1 and bool(metrics.judge(m, t)[0])
    skewed = metrics.compute(np.concatenate([np.full(90, -2.0), np.full(10, 2.0)])[None], t)
    assert skewed["reverse_kl"][0] == pytest.approx(0.9 * np.log(0.9 / 0.3) + 0.1 * np.log(0.1 / 0.7))
    assert not metrics.judge(skewed, t)[0]
    # unequal stds: a sample is assigned by its distance in each mode's own stds
    t2 = make_target("mog:means=0;3,stds=0.1;2")
    assert metrics.mode_metrics(np.array([[[1.0]]]), t2)["mode_props"][0].tolist() == [0, 1]


def test_energy_distance_and_loglik(normal_target):
    rng = np.random.default_rng(3)
    a, b = np.sort(rng.normal(0, 1, 700)), np.sort(rng.exponential(1, 900))
    assert metrics.energy_1d(a[None], b)[0] == pytest.approx(stats.energy_distance(a, b), rel=1e-10)
    x = rng.normal(4, 1.25, (2, 5000))
    x[1] += 1.0
    m = metrics.compute(x, normal_target)
    assert m["loglik"] == pytest.approx(stats.norm(4, 1.25).logpdf(x).mean(1))
    assert m["energy"][0] < 0.03 < 0.3 < m["energy"][1]  # a shift of 0.8 std is far; sampling noise is not
    ref = stats.energy_distance(x[1], stats.norm(4, 1.25).ppf((np.arange(200000) + 0.5) / 200000))
    assert m["energy"][1] == pytest.approx(ref, rel=1e-3)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 1000])
def test_the_mmd_bandwidths_median_is_torchs_lower_median(n):
    rng = np.random.default_rng(n)
    for x in (rng.normal(size=n), rng.integers(0, 3, size=n).astype(float)):  # ties too
        assert metrics.lower_median(x) == torch.as_tensor(x).median().item()
        grid = rng.normal(size=(n, n + 1))[:, :-1]  # a strided view, as mmd_rbf's off-diagonal entries
        assert metrics.lower_median(grid) == torch.as_tensor(grid).median().item()


def test_sliced_w1_of_a_shift_and_mmd():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, (4000, 2))
    shift = np.array([0.3, 0.4])  # |shift| = 0.5; over evenly spread directions, mean |cos| = 2 / pi
    sw = metrics.sliced_w1(np.stack([ref, ref + shift]), ref)
    assert sw[0] == pytest.approx(0, abs=1e-12) and sw[1] == pytest.approx(0.5 * 2 / np.pi, rel=0.01)
    same = rng.normal(0, 1, (1, 1000, 2))
    moved = rng.normal(0, 1, (1, 1000, 2)) + 1.0
    mmd = metrics.mmd_rbf(np.concatenate([same, moved]), ref)
    assert abs(mmd[0]) < 0.01 < 0.1 < mmd[1]


def test_two_d_compute_judge_and_criterion():
    ring = make_target("ring")
    good = np.concatenate([on_modes(ring, [300] * 8)] * 2)
    good[1] *= 1.5  # member 1: every sample 1 away from the ring
    m = metrics.compute(good, ring)
    assert set(m) == set(metrics.names(ring)) | {"mode_props"}
    assert metrics.names(ring) == ("sw", "mmd", "loglik", "modes", "hq", "reverse_kl")
    assert metrics.judge(m, ring).tolist() == [True, False]
    assert m["loglik"][0] > m["loglik"][1]
    assert "all 8 modes captured" in metrics.criterion(ring) and "2500 samples" in metrics.criterion(ring)
    moons = make_target("moons")
    assert metrics.names(moons) == ("sw", "mmd") and "sliced W1 <" in metrics.criterion(moons)


def test_without_the_mmd_the_other_two_d_metrics_keep_their_bits_and_the_mmd_is_nan():
    moons = make_target("moons")
    x = np.random.default_rng(0).normal(size=(3, 400, 2))
    full, cheap = metrics.compute(x, moons), metrics.compute(x, moons, mmd=False)
    assert set(cheap) == set(full) and np.isfinite(full["mmd"]).all() and np.isnan(cheap["mmd"]).all()
    assert cheap["sw"].tobytes() == full["sw"].tobytes()
    assert metrics.watchable(moons, True, mmd=False) == ("sw", "val_sw", "val_mmd")
