"""What an expert would fit instead of a GAN, each at its best, on the same train part:

- a Gaussian KDE with the Improved Sheather-Jones bandwidth (1-D; KDEpy's `FFTKDE(bw="ISJ")`);
- a Gaussian KDE whose bandwidth is chosen by 5-fold cross-validated log-likelihood (scikit-learn's
  `KernelDensity` and `GridSearchCV`, on data standardised by a robust scale);
- a Gaussian mixture of 1-8 full-covariance components chosen by BIC (scikit-learn's `GaussianMixture`);
- with the `flow` extra (zuko), a normalizing flow: a neural spline flow (Durkan et al. 2019) fitted by
  maximum likelihood on 80% of the train part, stopped and kept at its best log-likelihood on the other 20%;
- scipy's `gaussian_kde` with Scott's bandwidth, the weakest of them, kept as a reference row.

Each is sampled so that it is scored exactly as G's samples are (metrics.against). Their cost is
bounded: the mixture and the flow see at most ROW_BUDGET rows and the cross-validation CV_BUDGET (a seeded
subsample beyond; a bandwidth chosen on 1,000 rows is at most about 1.4x the one for 10,000 at the n^-1/5
rate, and the KDE itself still centres its kernels on every row).
A baseline that cannot be fitted to these data is skipped with its reason, never a crash.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from KDEpy import FFTKDE
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KernelDensity

from ..game import adam

try:
    import zuko
except ImportError:  # the flow extra: pip install 'ganfit[flow]'
    zuko = None

MAX_COMPONENTS = 8
ROW_BUDGET = 4000  # rows the mixture sees at most
CV_BUDGET = 1000  # rows the bandwidth's cross-validation sees at most (its cost grows with their square)
BANDWIDTHS = np.geomspace(0.02, 1.5, 20)  # in robust-standardised units
# The flow: 3 rational-quadratic spline transforms of 8 bins, conditioners 64 x 64; Adam, full batch,
# held-out log-likelihood every FLOW_EVERY epochs, stopped FLOW_PATIENCE checks after its best. Its rate
# by dimension: on the eight sets of docs/benchmarks.md (splits 0-4), 1e-2 did better than 3e-3 on 3 of
# the 5 1-D sets and 3e-3 better on all 3 2-D sets (sliced W1 0.160 -> 0.124 on faithful's pair).
FLOW_TRANSFORMS, FLOW_HIDDEN, FLOW_BINS, FLOW_LR = 3, 64, 8, {1: 1e-2, 2: 3e-3}
FLOW_EPOCHS, FLOW_EVERY, FLOW_PATIENCE = 1000, 5, 30
FIT_ERRORS = (ValueError, np.linalg.LinAlgError, ArithmeticError, RuntimeError)  # RuntimeError: torch's (flow)
STREAMS = {"isj": 0, "cv": 1, "mixture": 2, "scott": 3, "flow": 4}  # each baseline's random stream
LABELS = {
    "isj": "KDE, Improved Sheather-Jones bandwidth (KDEpy)",
    "cv": "KDE, 5-fold cross-validated bandwidth (scikit-learn)",
    "mixture": "Gaussian mixture ({k} component{s}, by BIC)",
    "flow": "normalizing flow (zuko spline flow, kept at epoch {k} on held-out rows)",
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


def fit_flow(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """n samples of a neural spline flow fitted to x (standardised by mean and std, so that every row lies
    inside the splines' [-5, 5], where a robust scale would leave an outlying cluster outside them), and
    the epoch it was kept at."""
    x = _budget(x, rng)
    centre, scale = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0)
    z = torch.as_tensor((x - centre) / scale, dtype=torch.float32)
    order = torch.as_tensor(rng.permutation(len(z)))
    held, fit_on = z[order[: max(1, len(z) // 5)]], z[order[max(1, len(z) // 5) :]]
    with torch.random.fork_rng(devices=[]):  # its weights and samples from this rng, torch's global one untouched
        torch.manual_seed(int(rng.integers(2**31)))
        nsf = zuko.flows.NSF(x.shape[1], transforms=FLOW_TRANSFORMS, hidden_features=(FLOW_HIDDEN,) * 2, bins=FLOW_BINS)
        opt = adam.Adam(nsf.parameters(), FLOW_LR[x.shape[1]], (0.9, 0.999))
        best, kept, since, state = np.inf, 0, 0, []
        for epoch in range(1, FLOW_EPOCHS + 1):
            opt.update(torch.autograd.grad(-nsf().log_prob(fit_on).mean(), opt.params))
            if epoch % FLOW_EVERY:
                continue
            with torch.no_grad():
                loss = float(-nsf().log_prob(held).mean())
            if loss < best:
                best, kept, since, state = loss, epoch, 0, [p.detach().clone() for p in opt.params]
            elif (since := since + 1) >= FLOW_PATIENCE:
                break
        if not np.isfinite(best):
            raise ArithmeticError("the flow's held-out log-likelihood was never finite")
        with torch.no_grad():
            for p, saved in zip(opt.params, state):
                p.copy_(saved)
            samples = nsf().sample((n,)).double().numpy()
    return centre + samples * scale, kept


def flow_missing() -> str:
    """Why the flow cannot be fitted here ("" where it can)."""
    return "" if zuko is not None else "zuko is not installed: pip install 'ganfit[flow]'"


def scott_kde(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of scipy's Gaussian KDE of x (Scott's bandwidth, full covariance)."""
    return stats.gaussian_kde(x.T).resample(n, seed=rng).T


def baselines(train: np.ndarray, n: int, seed: int = 0, flow: bool = False) -> list[Baseline]:
    """Every baseline fitted on train [m, d] and sampled n times, each from its own seeded stream; the
    normalizing flow only with `flow` (and zuko installed)."""
    out = []
    fits = {"isj": isj_kde, "cv": cv_kde, "mixture": mixture, "scott": scott_kde, "flow": fit_flow}
    for key, fn in fits.items():
        if (key == "isj" and train.shape[1] != 1) or (key == "flow" and not flow):
            continue
        if key == "flow" and flow_missing():  # asked for (a fit resumed where the extra is missing, say)
            out.append(Baseline(key, LABELS[key].format(k="?"), None, flow_missing()))
            continue
        rng = np.random.default_rng([seed, STREAMS[key]])
        try:
            got = fn(train, n, rng)
        except FIT_ERRORS as e:
            out.append(Baseline(key, LABELS[key].format(k="?", s="s"), None, f"{type(e).__name__}: {e}"))
            continue
        samples, extra = got if isinstance(got, tuple) else (got, None)
        label = LABELS[key].format(k=extra, s="s" * (extra != 1))
        out.append(Baseline(key, label, np.asarray(samples, dtype=np.float64)))
    return out
