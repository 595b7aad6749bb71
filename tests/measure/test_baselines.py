"""The expert baselines (measure/baselines.py): each better than Scott's KDE where it should be, and
their cost bounded."""

import numpy as np
import pytest
import torch
from scipy import stats

from ganfit.measure import baselines as B


def _two_clusters(rng, n):
    return np.where(rng.random(n) < 0.4, -3.0, 3.0) + 0.5 * rng.standard_normal(n)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_expert_baselines_beat_scotts_kde_on_two_separated_clusters(seed):
    rng = np.random.default_rng(seed)
    train, truth = _two_clusters(rng, 200)[:, None], _two_clusters(rng, 50_000)
    fitted = {b.key: b.samples for b in B.baselines(train, 20_000, seed)}
    ks = {k: stats.ks_2samp(v[:, 0], truth).statistic for k, v in fitted.items()}
    for key in ("isj", "cv", "mixture"):  # seeds 0-3: KS 0.021-0.058 against Scott's 0.114-0.122
        assert ks[key] < 0.6 * ks["scott"], ks


def test_a_baseline_that_cannot_fit_is_skipped_with_its_reason():
    x = np.r_[np.zeros(50), 1.0][:, None]  # 50 ties: ISJ has no bandwidth to find
    out = {b.key: b for b in B.baselines(x, 100, 0)}
    assert all((b.samples is None) == bool(b.skipped) for b in out.values())


def test_the_row_budget_bounds_what_the_mixture_and_the_cross_validation_see(monkeypatch):
    seen = []
    fit = B.GaussianMixture.fit
    monkeypatch.setattr(B.GaussianMixture, "fit", lambda self, z: seen.append(len(z)) or fit(self, z))
    rng = np.random.default_rng(0)
    B.baselines(rng.normal(size=(30_000, 2)), 100, 0)
    assert seen and max(seen) == B.ROW_BUDGET


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_flow_beats_scotts_kde_on_two_separated_clusters_and_repeats_from_its_seed(seed):
    rng = np.random.default_rng(seed)
    train, truth = _two_clusters(rng, 200)[:, None], _two_clusters(rng, 50_000)
    before = torch.random.get_rng_state()
    fitted = {b.key: b for b in B.baselines(train, 20_000, seed, flow=True)}
    assert torch.equal(torch.random.get_rng_state(), before)  # torch's global stream untouched
    ks = {k: stats.ks_2samp(b.samples[:, 0], truth).statistic for k, b in fitted.items()}
    assert ks["flow"] < 0.7 * ks["scott"], ks  # seeds 0-7: 0.25-0.59 times Scott's
    again = B.fit_flow(train, 20_000, np.random.default_rng([seed, B.STREAMS["flow"]]))[0]
    assert np.array_equal(again, fitted["flow"].samples)


def test_the_flow_is_fitted_only_when_asked_and_says_when_zuko_is_missing(monkeypatch):
    x = np.random.default_rng(0).normal(size=(60, 1))
    assert "flow" not in {b.key for b in B.baselines(x, 100, 0)}
    monkeypatch.setattr(B, "zuko", None)
    (row,) = [b for b in B.baselines(x, 100, 0, flow=True) if b.key == "flow"]
    assert row.samples is None and "pip install 'ganfit[flow]'" in row.skipped


def test_a_flow_that_torch_cannot_train_is_skipped_not_a_crash(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(B.zuko.flows, "NSF", broken)
    out = {b.key: b for b in B.baselines(np.random.default_rng(0).normal(size=(60, 1)), 100, 0, flow=True)}
    assert out["flow"].samples is None and "RuntimeError" in out["flow"].skipped
    assert out["cv"].samples is not None
