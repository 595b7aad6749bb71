import numpy as np
import pytest
from scipy import stats

from ganfit import metrics
from ganfit.targets import make_target


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
