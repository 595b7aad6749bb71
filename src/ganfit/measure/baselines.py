"""What an expert would fit instead of a GAN, each at its best, on the same train part:

- a Gaussian KDE with the Improved Sheather-Jones bandwidth (1-D; KDEpy's `FFTKDE(bw="ISJ")`);
- a Gaussian KDE whose bandwidth is chosen by 5-fold cross-validated log-likelihood (scikit-learn's
  `KernelDensity` and `GridSearchCV`, on data standardised by a robust scale);
- a Gaussian mixture of 1-8 full-covariance components chosen by BIC (scikit-learn's `GaussianMixture`);
- scipy's `gaussian_kde` with Scott's bandwidth, the weakest of them, kept as a reference row.

Each is sampled so that it is scored exactly as G's samples are (metrics.against). Their cost is
bounded: the mixture sees at most ROW_BUDGET rows and the cross-validation CV_BUDGET (a seeded
subsample beyond; a bandwidth chosen on 1,000 rows is at most about 1.4x the one for 10,000 at the n^-1/5
rate, and the KDE itself still centres its kernels on every row).
A baseline that cannot be fitted to these data is skipped with its reason, never a crash.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from KDEpy import FFTKDE
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KernelDensity

MAX_COMPONENTS = 8
ROW_BUDGET = 4000  # rows the mixture sees at most
CV_BUDGET = 1000  # rows the bandwidth's cross-validation sees at most (its cost grows with their square)
BANDWIDTHS = np.geomspace(0.02, 1.5, 20)  # in robust-standardised units
LABELS = {
    "isj": "KDE, Improved Sheather-Jones bandwidth (KDEpy)",
    "cv": "KDE, 5-fold cross-validated bandwidth (scikit-learn)",
    "mixture": "Gaussian mixture ({k} component{s}, by BIC)",
    "scott": "KDE, Scott's bandwidth (scipy gaussian_kde; reference)",
}


@dataclass
class Baseline:
    """One fitted baseline: its key, its label, and its samples [n, d] (None when skipped, with why)."""

    key: str
    label: str
    samples: np.ndarray | None
    skipped: str = ""


def robust_scale(x: np.ndarray) -> np.ndarray:
    """Per column: the IQR / 1.349 (a normal's std), or the std where half the values are one value;
    one extreme outlier does not inflate it as it does the std."""
    q75, q25 = np.percentile(x, [75, 25], axis=0)
    scale = (q75 - q25) / 1.349
    std = x.std(0)
    return np.where(scale > 0, scale, np.where(std > 0, std, 1.0))


def _budget(x: np.ndarray, rng: np.random.Generator, rows: int = ROW_BUDGET) -> np.ndarray:
    return x if len(x) <= rows else x[rng.choice(len(x), rows, replace=False)]


def isj_kde(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """n samples of the 1-D Gaussian KDE with ISJ's bandwidth (a data point plus a kernel draw), and it."""
    bw = float(FFTKDE(bw="ISJ").fit(x[:, 0]).bw)
    if not np.isfinite(bw) or bw <= 0:
        raise ValueError(f"ISJ gave bandwidth {bw}")
    return x[rng.integers(len(x), size=n)] + bw * rng.standard_normal((n, 1)), bw


def cv_kde(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """n samples of the Gaussian KDE (standardised data) whose bandwidth maximises the held-out
    log-likelihood over 5 folds, and that bandwidth in standardised units."""
    centre, scale = np.median(x, 0), robust_scale(x)
    z = (x - centre) / scale
    folds = KFold(5, shuffle=True, random_state=int(rng.integers(2**31)))
    search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": BANDWIDTHS}, cv=folds)
    search.fit(_budget(z, rng, CV_BUDGET))
    bw = float(search.best_params_["bandwidth"])
    samples = z[rng.integers(len(z), size=n)] + bw * rng.standard_normal((n, x.shape[1]))
    return centre + samples * scale, bw


def mixture(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """n samples of the Gaussian mixture with the lowest BIC (1 to MAX_COMPONENTS components, at most one
    per 5 rows; 3 initialisations each), and its number of components."""
    centre, scale = np.median(x, 0), robust_scale(x)
    z = _budget((x - centre) / scale, rng)
    seed = int(rng.integers(2**31))
    best, best_bic = None, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in range(1, max(1, min(MAX_COMPONENTS, len(z) // 5)) + 1):
            m = GaussianMixture(k, covariance_type="full", n_init=3, reg_covar=1e-4, random_state=seed).fit(z)
            bic = m.bic(z)
            if bic < best_bic:
                best, best_bic = m, bic
    samples, _ = best.sample(n)
    samples = samples[rng.permutation(n)]  # sklearn returns them grouped by component
    return centre + samples * scale, best.n_components


def scott_kde(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of scipy's Gaussian KDE of x (Scott's bandwidth, full covariance)."""
    return stats.gaussian_kde(x.T).resample(n, seed=rng).T


def baselines(train: np.ndarray, n: int, seed: int = 0) -> list[Baseline]:
    """Every baseline fitted on train [m, d] and sampled n times, each from its own seeded stream."""
    out = []
    fits = {"isj": isj_kde, "cv": cv_kde, "mixture": mixture, "scott": scott_kde}
    for i, (key, fn) in enumerate(fits.items()):
        if key == "isj" and train.shape[1] != 1:
            continue
        rng = np.random.default_rng([seed, i])
        try:
            got = fn(train, n, rng)
        except (ValueError, np.linalg.LinAlgError, ArithmeticError) as e:
            out.append(Baseline(key, LABELS[key].format(k="?", s="s"), None, f"{type(e).__name__}: {e}"))
            continue
        samples, extra = got if isinstance(got, tuple) else (got, None)
        label = LABELS[key].format(k=extra, s="s" * (extra != 1)) if key == "mixture" else LABELS[key]
        out.append(Baseline(key, label, np.asarray(samples, dtype=np.float64)))
    return out
