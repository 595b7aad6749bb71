"""How well each member learned: moments, KS and 1-Wasserstein to the target, and "learned".

All functions take generated samples in the data's units, shape [K, N] (1-D), and return one value per
member. Against a closed-form target the distances use its exact CDF / quantile function; against a
user's data they compare with the data themselves (two-sample statistics).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .targets import Target

# The article's own test, |mean - 4| < 0.5 and |std - 1.25| < 0.4, written relative to the target's
# std so that it means the same thing at any location and scale.
MEAN_TOL, STD_TOL = 0.4, 0.32
NAMES = ("mean", "std", "skew", "kurtosis", "ks", "w1")


def criterion(target: Target) -> str:
    mu, sd = float(target.mean[0]), float(target.std[0])
    return (
        f"|mean - {mu:.6g}| < {MEAN_TOL * sd:.6g} and |std - {sd:.6g}| < {STD_TOL * sd:.6g} "
        f"({MEAN_TOL} and {STD_TOL} target standard deviations; the article's test for N(4, 1.25))"
    )


def learned(mean: np.ndarray, std: np.ndarray, target: Target) -> np.ndarray:
    mu, sd = float(target.mean[0]), float(target.std[0])
    return (np.abs(mean - mu) < MEAN_TOL * sd) & (np.abs(std - sd) < STD_TOL * sd)


def ks_exact(xs: np.ndarray, cdf) -> np.ndarray:
    """Kolmogorov-Smirnov statistic of each (sorted) row of xs against a continuous CDF."""
    n = xs.shape[1]
    f = cdf(xs)
    above = np.arange(1, n + 1) / n - f
    below = f - np.arange(0, n) / n
    return np.maximum(above.max(1), below.max(1))


def w1_exact(xs: np.ndarray, ppf, points: int = 8) -> np.ndarray:
    """W1 = integral over u of |F_n^-1(u) - F^-1(u)| for each (sorted) row of xs, with `points`
    midpoints in each of the n cells of the empirical quantile function (exact to well below sampling
    error)."""
    q = _quantile_grid(ppf, xs.shape[1], points)  # [n, points]
    return np.array([np.abs(row[:, None] - q).mean() for row in xs])


_GRIDS: dict = {}


def _quantile_grid(ppf, n: int, points: int) -> np.ndarray:
    key = (ppf, n, points)  # a bound method of one frozen distribution: the same law every log
    if key not in _GRIDS:
        if len(_GRIDS) > 8:
            _GRIDS.clear()
        _GRIDS[key] = ppf((np.arange(n)[:, None] + (np.arange(points) + 0.5) / points) / n)
    return _GRIDS[key]


def compute(samples: np.ndarray, target: Target) -> dict[str, np.ndarray]:
    """Metrics per member for samples [K, N] (or [K, N, 1]) in the data's units."""
    x = np.asarray(samples, dtype=np.float64).reshape(samples.shape[0], -1)
    finite = np.isfinite(x).all(1)
    out = {name: np.full(len(x), np.nan) for name in NAMES}
    if not finite.any():
        return out
    y = x[finite]
    out["mean"][finite] = y.mean(1)
    out["std"][finite] = y.std(1)
    with np.errstate(all="ignore"):  # a collapsed member (std 0) has no skew: NaN, not a warning
        out["skew"][finite] = stats.skew(y, axis=1)
        out["kurtosis"][finite] = stats.kurtosis(y, axis=1)
    if target.dist is not None:
        ys = np.sort(y, axis=1)
        out["ks"][finite] = ks_exact(ys, target.dist.cdf)
        out["w1"][finite] = w1_exact(ys, target.dist.ppf)
    else:
        data = target.data[:, 0]
        out["ks"][finite] = [stats.ks_2samp(row, data).statistic for row in y]
        out["w1"][finite] = [stats.wasserstein_distance(row, data) for row in y]
    return out
