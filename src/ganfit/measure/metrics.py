"""How well each member learned, per member: one value (or row) per member of generated samples.

Samples come in the data's units, shape [K, N, dim] (or [K, N] in 1-D).

1-D: moments (mean, std, skew, excess kurtosis), `ks` (Kolmogorov-Smirnov), `w1` (1-Wasserstein),
`energy` (energy distance, scipy's definition: sqrt(2 * integral of (F_n - F)^2)) and `loglik` (mean
log-density of the samples under the true law). Against a closed-form target the distances use its exact
CDF and quantile function; against a user's data, the data themselves (two-sample statistics).

2-D: `sw` (sliced 1-Wasserstein over 32 evenly spaced directions), `mmd` (unbiased MMD^2, RBF kernel
whose bandwidth is the median pairwise distance of the pooled samples, 1,000 of each) and `loglik`.

Mixtures (1-D or 2-D), on the first 2,500 samples, as VEEGAN and PacGAN define them: a sample is
high quality if it lies within 3 standard deviations of its nearest mode (distance in units of each
mode's std, which is the plain Euclidean nearest mode when the stds are equal); `modes` = how many
modes have at least one high-quality sample; `hq` = the high-quality fraction; `mode_props` = each
mode's share of the high-quality samples; `reverse_kl` = KL(generated || true) between those shares
and the true weights (0 log 0 = 0, so missing modes cost nothing: that is why it is the reverse one).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from ..game.targets import Target

# The article's own test, |mean - 4| < 0.5 and |std - 1.25| < 0.4, written relative to the target's
# std so that it means the same thing at any location and scale.
MEAN_TOL, STD_TOL = 0.4, 0.32
NAMES_1D = ("mean", "std", "skew", "kurtosis", "ks", "w1", "energy", "loglik")
NAMES_2D = ("sw", "mmd", "loglik")
NAMES_MODES = ("modes", "hq", "reverse_kl")
NAMES = tuple(dict.fromkeys(NAMES_1D + NAMES_2D + NAMES_MODES))  # every scalar metric there is
LOSS_COLUMNS = ("d_loss_real", "d_loss_fake", "g_loss")  # the per-member losses every metric row carries
MODE_SAMPLES, MMD_SAMPLES, DIRECTIONS = 2500, 1000, 32
HQ_SIGMAS = 3.0
# A mixture is learned when every mode is captured, >= 90% of samples are high quality and the mode
# shares are close to the weights; a 2-D target without modes when its sliced W1 is small.
MIN_HQ, MAX_RKL, MAX_SW = 0.9, 0.1, 0.05


def validation_names(dim: int) -> tuple[str, ...]:
    """The metrics against held-out samples: the distances of that dimension, prefixed val_."""
    return ("val_ks", "val_w1") if dim == 1 else ("val_sw", "val_mmd")


def against(samples: np.ndarray, data: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Each member's samples [K, N, dim] against held-out samples data [n, dim] (two-sample distances):
    val_ks and val_w1 (in the data's units) in 1-D; in 2-D val_sw and val_mmd with each column divided by
    `scale` (the train part's std), so that a column in larger units does not outweigh the other. NaN
    for a member with non-finite samples."""
    x = np.asarray(samples, dtype=np.float64).reshape(len(samples), np.shape(samples)[1], -1)
    if x.shape[2] > 1:
        x, data = x / scale, data / scale
    out = {n: np.full(len(x), np.nan) for n in validation_names(x.shape[2])}
    finite = np.isfinite(x).all((1, 2))
    if not finite.any():
        return out
    if x.shape[2] == 1:
        ref = data[:, 0]
        parts = {
            "val_ks": [stats.ks_2samp(row, ref).statistic for row in x[finite, :, 0]],
            "val_w1": [stats.wasserstein_distance(row, ref) for row in x[finite, :, 0]],
        }
    else:
        parts = {"val_sw": sliced_w1(x[finite], data), "val_mmd": mmd_rbf(x[finite], data)}
    for n, v in parts.items():
        out[n][finite] = v
    return out


def watchable(target: Target, validation: bool, mmd: bool = True) -> tuple[str, ...]:
    """The metrics a run of this target computes that early stopping and keep_best may watch."""
    base = ("ks", "w1") if target.dim == 1 else ("sw", "mmd")
    base = tuple(n for n in base if mmd or n != "mmd")
    return base + (validation_names(target.dim) if validation else ())


def names(target: Target) -> tuple[str, ...]:
    """The scalar metrics computed for this target, in order."""
    base = NAMES_1D if target.dim == 1 else NAMES_2D
    if not target.has_density:
        base = tuple(n for n in base if n != "loglik")
    return base + (NAMES_MODES if target.modes is not None else ())


def criterion(target: Target) -> str:
    if target.modes is not None:
        return (
            f"all {len(target.modes)} modes captured, high-quality fraction >= {MIN_HQ} and reverse KL <"
            f" {MAX_RKL} (high quality: within {HQ_SIGMAS:g} std of the nearest mode, on {MODE_SAMPLES} samples)"
        )
    if target.dim > 1:
        return f"sliced W1 < {MAX_SW} x the target's mean per-dimension std ({MAX_SW * target.std.mean():.6g})"
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


def energy_1d(xs: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Energy distance (2 E|X-Y| - E|X-X'| - E|Y-Y'|)^(1/2) of each sorted row of xs against the sorted
    sample `ref` (scipy.stats.energy_distance's definition), exact for the two empirical laws. All rows
    at once in O(N log M): with prefix sums of ref, sum_j |x - y_j| needs only where x falls in ref."""
    n, m = xs.shape[1], len(ref)
    prefix = np.concatenate([[0.0], np.cumsum(ref)])
    at = np.searchsorted(ref, xs)  # how many of ref lie below each x
    e_xy = (at * xs - prefix[at] + (prefix[-1] - prefix[at]) - (m - at) * xs).sum(1) / (n * m)
    e_xx = 2 * ((2 * np.arange(1, n + 1) - n - 1) * xs).sum(1) / n**2  # sorted: sum_i<j (x_j - x_i)
    e_yy = 2 * ((2 * np.arange(1, m + 1) - m - 1) * ref).sum() / m**2
    return np.sqrt(np.maximum(2 * e_xy - e_xx - e_yy, 0.0))


def _quantiles(sorted_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The empirical quantile function of sorted rows [..., n] at u in (0, 1): [..., len(u)]."""
    n = sorted_rows.shape[-1]
    return sorted_rows[..., np.minimum((u * n).astype(np.int64), n - 1)]


def sliced_w1(x: np.ndarray, ref: np.ndarray, directions: int = DIRECTIONS) -> np.ndarray:
    """Mean over `directions` evenly spaced unit vectors (angles pi j / directions, 2-D) of the W1 of
    the projections, each member's samples x [K, N, 2] against ref [M, 2]."""
    angles = np.pi * np.arange(directions) / directions
    dirs = np.stack([np.cos(angles), np.sin(angles)])  # [2, P]
    a = np.sort(x @ dirs, axis=1).transpose(0, 2, 1)  # [K, P, N]
    b = np.sort(ref @ dirs, axis=0).T  # [P, M]
    points = 4 * max(a.shape[-1], b.shape[-1])
    u = (np.arange(points) + 0.5) / points
    return np.abs(_quantiles(a, u) - _quantiles(b, u)).mean((1, 2))


def shown(name: str, v):
    """A metric as a person is shown it: the unbiased MMD^2 estimate falls below 0 when the two samples
    are closer than its noise, and an MMD^2 is never negative, so it shows as 0. Files keep the estimate."""
    if "mmd" in name and isinstance(v, float) and v < 0:
        return 0.0
    return v


def mmd_rbf(x: np.ndarray, ref: np.ndarray, n: int = MMD_SAMPLES) -> np.ndarray:
    """Unbiased MMD^2 of the first n samples of each member against the first n of ref, with the RBF
    kernel exp(-d^2 / (2 h^2)), h the median distance between distinct points of the pooled sample."""
    y = torch.as_tensor(ref[:n], dtype=torch.float64)
    out = np.empty(len(x))
    for k in range(len(x)):
        a = torch.as_tensor(x[k, :n], dtype=torch.float64)
        pooled = torch.cat([a, y])
        d2 = torch.cdist(pooled, pooled).square_()  # in place, here and below: the same bits, 1.4x faster
        m = len(pooled)
        off = d2.flatten()[1:].view(m - 1, m + 1)[:, :-1]  # the off-diagonal entries, 10x faster than a mask
        h2 = torch.as_tensor(lower_median(off.numpy())).sqrt().square().clamp_min(1e-12)  # sqrt is monotone
        kern = d2.neg_().div_(2 * h2).exp_()
        na = len(a)
        kxx, kyy, kxy = kern[:na, :na], kern[na:, na:], kern[:na, na:]
        out[k] = (
            (kxx.sum() - kxx.diagonal().sum()) / (na * (na - 1))
            + (kyy.sum() - kyy.diagonal().sum()) / (len(y) * (len(y) - 1))
            - 2 * kxy.mean()
        ).item()
    return out


def lower_median(x: np.ndarray) -> np.float64:
    """torch.median's value (the lower of the two middle ones), by selection: 3-4x faster on the 10^6
    distances of an MMD than torch's on a strided view."""
    k = (x.size - 1) // 2
    return np.partition(x, k, axis=None)[k]


def mode_distances(x: np.ndarray, target: Target) -> np.ndarray:
    """Each sample's distance to each mode centre, in units of that mode's std: x [..., dim] -> [..., M]."""
    return np.sqrt(np.square(x[..., None, :] - target.modes).sum(-1)) / target.mode_stds


def mode_metrics(x: np.ndarray, target: Target, n: int = MODE_SAMPLES) -> dict[str, np.ndarray]:
    """VEEGAN/PacGAN mode metrics on the first n samples of each member, x [K, N, dim]."""
    z = mode_distances(x[:, :n], target)  # [K, n, M]
    nearest = z.argmin(2)
    hq = np.take_along_axis(z, nearest[..., None], 2)[..., 0] < HQ_SIGMAS
    M = len(target.modes)
    counts = np.stack([np.bincount(nearest[k][hq[k]], minlength=M) for k in range(len(x))])  # [K, M]
    total = counts.sum(1, keepdims=True)
    with np.errstate(all="ignore"):
        props = np.where(total > 0, counts / total, np.nan)
        terms = np.where(counts > 0, props * np.log(props / target.weights), 0.0)
    return {
        "modes": (counts > 0).sum(1).astype(np.float64),
        "hq": hq.mean(1),
        "reverse_kl": np.where(total[:, 0] > 0, terms.sum(1), np.nan),
        "mode_props": props,
    }


def judge(row: dict[str, np.ndarray], target: Target) -> np.ndarray:
    """Which members learned, by the criterion `criterion(target)` states."""
    if target.modes is not None:
        with np.errstate(invalid="ignore"):
            return (row["modes"] == len(target.modes)) & (row["hq"] >= MIN_HQ) & (row["reverse_kl"] < MAX_RKL)
    if target.dim > 1:
        with np.errstate(invalid="ignore"):
            return row["sw"] < MAX_SW * target.std.mean()
    return learned(row["mean"], row["std"], target)


CHUNK = 1 << 20  # samples per metrics pass


def compute(samples: np.ndarray, target: Target, mmd: bool = True) -> dict[str, np.ndarray]:
    """Metrics per member for samples [K, N, dim] (or [K, N] in 1-D) in the data's units: the scalars
    of names(target), one value each per member (NaN for a member with non-finite samples, and for the
    MMD² where `mmd` is off: the costliest of them, config.target_mmd), plus `mode_props` [K, M] for
    mixtures."""
    samples = np.asarray(samples)
    step = max(1, CHUNK // max(1, samples[0].size))
    if len(samples) > step:  # a few members at a time: float64 temporaries stay small at K = 1,024
        parts = [compute(samples[lo : lo + step], target, mmd) for lo in range(0, len(samples), step)]
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    samples = samples.astype(np.float64)
    x = samples.reshape(samples.shape[0], samples.shape[1], -1) if samples.ndim > 1 else samples[:, None, None]
    finite = np.isfinite(x).all((1, 2))
    out = {name: np.full(len(x), np.nan) for name in names(target)}
    if target.modes is not None:
        out["mode_props"] = np.full((len(x), len(target.modes)), np.nan)
    if not finite.any():
        return out
    part = _compute_1d(x[finite, :, 0], target) if target.dim == 1 else _compute_2d(x[finite], target, mmd)
    if target.has_density:
        with np.errstate(all="ignore"):  # a sample outside a bounded support has log-density -inf
            part["loglik"] = target.logpdf(x[finite]).mean(1)
    if target.modes is not None:
        part |= mode_metrics(x[finite], target)
    for name, values in part.items():
        out[name][finite] = values
    return out


def _compute_1d(y: np.ndarray, target: Target) -> dict[str, np.ndarray]:
    out = {"mean": y.mean(1), "std": y.std(1)}
    centred = y - out["mean"][:, None]
    sq = centred * centred  # products, not np.power: 10x faster for the third and fourth moments
    m2, m3, m4 = sq.mean(1), (sq * centred).mean(1), (sq * sq).mean(1)  # scipy's skew / kurtosis formulas
    with np.errstate(all="ignore"):  # a collapsed member (std 0) has no skew: NaN, not a warning
        out["skew"] = np.where(m2 > 0, m3 / m2**1.5, np.nan)
        out["kurtosis"] = np.where(m2 > 0, m4 / m2**2 - 3.0, np.nan)
    ys = np.sort(y, axis=1)
    if target.dist is not None:
        out["ks"] = ks_exact(ys, target.dist.cdf)
        out["w1"] = w1_exact(ys, target.dist.ppf)
        ref = _quantile_grid(target.dist.ppf, 4 * y.shape[1], 1)[:, 0]  # the law's quantiles: a fine proxy
    else:
        data = target.data[:, 0]
        out["ks"] = np.array([stats.ks_2samp(row, data).statistic for row in y])
        out["w1"] = np.array([stats.wasserstein_distance(row, data) for row in y])
        ref = np.sort(data)
    out["energy"] = energy_1d(ys, ref)
    return out


def _compute_2d(x: np.ndarray, target: Target, mmd: bool = True) -> dict[str, np.ndarray]:
    ref = target.reference(max(x.shape[1], MMD_SAMPLES))
    return {"sw": sliced_w1(x, ref)} | ({"mmd": mmd_rbf(x, ref)} if mmd else {})
