"""R: the real data. A target turns uniform draws into samples and knows what the metrics need.

Targets are built from specs (specs.py); a CSV file is read by data.py. 1-D: `gaussian`, `uniform`,
`laplace`, `student_t`, `lognormal`, `exponential`, `mog` (a Gaussian mixture,
`mog:means=-2;2,stds=0.5;0.5,weights=0.3;0.7`) and `csv`. 2-D: `ring`, `grid`, `spiral`, `moons`, and
`csv` with `columns=A;B`. Every parameter is in the spec, so it is recorded in config.toml; nothing is
rescaled here (the working frame, if any, is the config's `normalize`).

Sampling is a pure transform of counter-based uniforms (see game/rng.py): `n_uniforms` per sample, so a
member's real batches depend only on its seed and the epoch. What a target knows beyond sampling:
`dist` (1-D closed forms: cdf, ppf, pdf, logpdf), `logpdf` (any closed-form density, 1-D or 2-D), and
for mixtures `modes`, `mode_stds` and `weights`, which the mode metrics use.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import special, stats

from .. import arrays
from ..errors import GanfitError
from ..specs import build, parse_spec
from . import frame, rng
from .data import read_csv_columns, read_npy
from .rng import box_muller

MAX_MODES = 1_000  # a mixture's modes (ring modes, grid n * n, mog means): the mode metrics are [samples, modes]
F32 = np.finfo(np.float32)  # training's numbers: a target's mean and std must be finite in float32


@dataclass(eq=False)
class Target:
    """A distribution to learn: `sample` maps [..., n_uniforms] uniforms to [..., dim] samples."""

    name: str
    dim: int
    n_uniforms: int
    mean: np.ndarray
    std: np.ndarray
    columns: list[str]
    dist: Any = None  # 1-D closed form: a frozen scipy distribution (or Mixture1D): cdf, ppf, pdf, logpdf
    data: np.ndarray | None = None  # [n, dim] where the target is a user's samples
    modes: np.ndarray | None = None  # mixtures: mode centres [M, dim]
    mode_stds: np.ndarray | None = None  # mixtures: each mode's (isotropic) standard deviation [M]
    weights: np.ndarray | None = None  # mixtures: mode probabilities [M], summing to 1
    params: tuple = ()  # the spec's numbers, where a sampler needs them
    _cache: dict = field(default_factory=dict, repr=False)
    on_device = True  # sample() is tensor ops on u's device (a CUDA graph can hold it), not a host round-trip

    def constant(self, name: str, values: np.ndarray, device) -> torch.Tensor:
        """values as a float64 tensor on device, made once (no host copy inside a CUDA graph)."""
        key = (name, str(device))
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(values, dtype=torch.float64, device=device)
        return self._cache[key]

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        """Samples [..., dim] from uniforms [..., n_uniforms] in [0, 1)."""
        raise NotImplementedError

    @property
    def has_density(self) -> bool:
        """Whether the log-density is known in closed form (for the loglik metric)."""
        return self.dist is not None or self.modes is not None

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density of points x [..., dim] (float64), where it is known in closed form."""
        x = np.asarray(x, dtype=np.float64)
        if self.dist is not None:
            return self.dist.logpdf(x[..., 0])
        if self.modes is None:
            raise ValueError(f"{self.name} has no closed-form density")
        d2 = np.square(x[..., None, :] - self.modes).sum(-1)  # [..., M]
        var = np.square(self.mode_stds)
        log_comp = np.log(self.weights) - 0.5 * d2 / var - 0.5 * self.dim * np.log(2 * np.pi * var)
        return special.logsumexp(log_comp, axis=-1)

    def reference(self, n: int) -> np.ndarray:
        """What generated samples are compared with where no closed form is used: the user's data, or n
        samples [n, dim] (float64) from the target's own fixed stream, the same for every run and member."""
        if self.data is not None:
            return self.data
        if n not in self._cache:
            u = rng.fixed(rng.member_keys([0], "reference"), n * self.n_uniforms)
            self._cache[n] = self.sample(u.reshape(n, self.n_uniforms)).double().numpy()
        return self._cache[n]

    def describe(self) -> str:
        """A one-line description for summaries and titles."""
        if self.data is not None:
            return f"{len(self.data)} samples from {self.name}"
        return self.name


class Gaussian(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        z = box_muller(u[..., 0], u[..., 1])
        return (float(self.mean[0]) + float(self.std[0]) * z).unsqueeze(-1)


class Uniform(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        low, high = self.dist.support()
        return (low + (high - low) * u[..., :1]).to(torch.float32)


def _midpoint(u: torch.Tensor) -> np.ndarray:
    """Uniforms on the 2**-24 grid to the centres of their cells: strictly inside (0, 1), so that an
    inverse CDF stays finite (the tails are cut at the quantiles 2**-25 and 1 - 2**-25)."""
    return u.detach().cpu().double().numpy() + 2.0**-25


class Quantile(Target):
    """Inverse-CDF sampling with the closed-form quantile function, in float64 (scipy's, on the host)."""

    on_device = False

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        x = self.dist.ppf(_midpoint(u[..., 0]))
        return torch.as_tensor(x, dtype=torch.float32).to(u.device).unsqueeze(-1)


class Exponential(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        loc, rate = self.params
        x = loc - torch.log1p(-u[..., 0].double()) / rate  # u < 1: always finite
        return x.to(torch.float32).unsqueeze(-1)


class Lognormal(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        mu, sigma = self.params
        z = box_muller(u[..., 0].double(), u[..., 1].double())
        return torch.exp(mu + sigma * z).to(torch.float32).unsqueeze(-1)


def _pick(u: torch.Tensor, cum: torch.Tensor) -> torch.Tensor:
    """The mixture component for each uniform: the first whose cumulative weight (cum) exceeds it."""
    return torch.searchsorted(cum, u.double().contiguous(), right=True)


def _normals(u1: torch.Tensor, u2: torch.Tensor, dim: int) -> torch.Tensor:
    """dim (1 or 2) independent normals from a pair of uniforms, in float64, on a last axis."""
    return box_muller(u1.double(), u2.double(), both=True)[..., :dim]


class Mixture(Target):
    """Isotropic Gaussian mixture in 1-D or 2-D: one uniform picks the mode, two make its normal(s)."""

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        k = _pick(u[..., 0], self.constant("cum", np.cumsum(self.weights)[:-1], u.device))
        centres = self.constant("modes", self.modes, u.device)[k]
        stds = self.constant("stds", self.mode_stds, u.device)[k]
        x = centres + stds.unsqueeze(-1) * _normals(u[..., 1], u[..., 2], self.dim)
        return x.to(torch.float32)


class Spiral(Target):
    """The swiss roll: t (cos t, sin t) with t uniform on [1.5 pi, 4.5 pi], plus isotropic noise, all
    divided by `scale` (sklearn's make_swiss_roll, columns x and z, as in the WGAN-GP toy)."""

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        noise, scale = self.params
        t = 1.5 * torch.pi * (1.0 + 2.0 * u[..., 0].double())
        x = torch.stack([t * torch.cos(t), t * torch.sin(t)], -1) + noise * _normals(u[..., 1], u[..., 2], 2)
        return (x / scale).to(torch.float32)


class Moons(Target):
    """sklearn's two moons: half the samples on the upper unit half-circle, half on the lower one
    shifted to (1, 0.5), each plus isotropic Gaussian noise of std `noise`."""

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        (noise,) = self.params
        theta = torch.pi * u[..., 1].double()
        lower = u[..., 0] >= 0.5
        x = torch.where(lower, 1.0 - torch.cos(theta), torch.cos(theta))
        y = torch.where(lower, 0.5 - torch.sin(theta), torch.sin(theta))
        pts = torch.stack([x, y], -1) + noise * _normals(u[..., 2], u[..., 3], 2)
        return pts.to(torch.float32)


class Samples(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        key = str(u.device)
        if key not in self._cache:  # float64 where float32 would quantise the data (game/frame.py)
            dtype = torch.float64 if frame.wide(self.mean, self.std) else torch.float32
            self._cache[key] = torch.as_tensor(self.data, dtype=dtype, device=u.device)
        data = self._cache[key]
        index = (u[..., 0] * len(data)).long().clamp_(max=len(data) - 1)
        return data[index]


def _finite(name: str, **values: float) -> None:
    for key, v in values.items():
        if not math.isfinite(v):
            raise GanfitError(f"target {name!r}: {key}={v} is not a finite number")


def gaussian(*, mean: float = 4.0, std: float = 1.25) -> Target:
    _finite("gaussian", mean=mean, std=std)
    if std <= 0:
        raise GanfitError(f"target 'gaussian': std must be > 0, got {std}")
    return Gaussian(
        f"gaussian(mean={mean:g}, std={std:g})",
        1,
        2,
        np.array([mean]),
        np.array([std]),
        ["x"],
        dist=stats.norm(mean, std),
    )


def uniform(*, low: float = 0.0, high: float = 1.0) -> Target:
    _finite("uniform", low=low, high=high)
    if not high > low:
        raise GanfitError(f"target 'uniform': high must exceed low, got low={low:g}, high={high:g}")
    dist = stats.uniform(low, high - low)
    return Uniform(
        f"uniform(low={low:g}, high={high:g})", 1, 1, np.array([dist.mean()]), np.array([dist.std()]), ["x"], dist=dist
    )


def _positive(name: str, **values: float) -> None:
    _finite(name, **values)
    for key, v in values.items():
        if v <= 0:
            raise GanfitError(f"target {name!r}: {key} must be > 0, got {v:g}")


def _moments(dist) -> tuple[np.ndarray, np.ndarray]:
    return np.array([float(dist.mean())]), np.array([float(dist.std())])


def laplace(*, loc: float = 0.0, scale: float = 1.0) -> Target:
    _finite("laplace", loc=loc)
    _positive("laplace", scale=scale)
    dist = stats.laplace(loc, scale)
    return Quantile(f"laplace(loc={loc:g}, scale={scale:g})", 1, 1, *_moments(dist), ["x"], dist=dist)


def student_t(*, df: float = 3.0, loc: float = 0.0, scale: float = 1.0) -> Target:
    _finite("student_t", loc=loc)
    _positive("student_t", df=df, scale=scale)
    if df <= 2:  # the working frame and the moment metrics need a finite variance
        raise GanfitError(f"target 'student_t': df must be > 2 (finite variance), got {df:g}")
    dist = stats.t(df, loc, scale)
    return Quantile(f"student_t(df={df:g}, loc={loc:g}, scale={scale:g})", 1, 1, *_moments(dist), ["x"], dist=dist)


def lognormal(*, mu: float = 0.0, sigma: float = 0.5) -> Target:
    """exp(N(mu, sigma^2)): mu and sigma are the log's mean and std."""
    _finite("lognormal", mu=mu)
    _positive("lognormal", sigma=sigma)
    dist = stats.lognorm(sigma, scale=math.exp(mu))
    return Lognormal(
        f"lognormal(mu={mu:g}, sigma={sigma:g})", 1, 2, *_moments(dist), ["x"], dist=dist, params=(mu, sigma)
    )


def exponential(*, rate: float = 1.0, loc: float = 0.0) -> Target:
    _finite("exponential", loc=loc)
    _positive("exponential", rate=rate)
    dist = stats.expon(loc, 1.0 / rate)
    return Exponential(
        f"exponential(rate={rate:g}, loc={loc:g})", 1, 1, *_moments(dist), ["x"], dist=dist, params=(loc, rate)
    )


class Mixture1D:
    """A 1-D Gaussian mixture with scipy's frozen-distribution methods (cdf, ppf, pdf, logpdf)."""

    def __init__(self, means: np.ndarray, stds: np.ndarray, weights: np.ndarray):
        self.means, self.stds, self.weights = means, stds, weights

    def cdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        return (self.weights * special.ndtr((x[..., None] - self.means) / self.stds)).sum(-1)

    def logpdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        z = (x[..., None] - self.means) / self.stds
        return special.logsumexp(np.log(self.weights / self.stds) - 0.5 * z * z - 0.5 * np.log(2 * np.pi), axis=-1)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def ppf(self, q):
        """Bisection to float64 resolution, vectorised (the CDF is monotone and continuous)."""
        q = np.asarray(q, dtype=np.float64)
        lo = np.full(q.shape, (self.means - 40 * self.stds).min())
        hi = np.full(q.shape, (self.means + 40 * self.stds).max())
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def mean(self) -> float:
        return float(self.weights @ self.means)

    def std(self) -> float:
        return float(np.sqrt(self.weights @ (self.stds**2 + self.means**2) - self.mean() ** 2))


def _mixture_parts(name: str, means: list, stds: list, weights: list, modes: int) -> tuple[np.ndarray, ...]:
    """stds and weights: one per mode, or one std for all, or no weights (equal); checked, never rescaled."""
    stds = list(stds) * modes if len(stds) == 1 else list(stds)
    weights = [1.0 / modes] * modes if not weights else list(weights)
    for key, values in (("stds", stds), ("weights", weights)):
        if len(values) != modes:
            raise GanfitError(f"target {name!r}: {key} has {len(values)} items, expected {modes} (one per mode)")
    _positive(name, **{f"stds[{i}]": v for i, v in enumerate(stds)})
    _positive(name, **{f"weights[{i}]": v for i, v in enumerate(weights)})
    if abs(sum(weights) - 1.0) > 1e-6:
        raise GanfitError(f"target {name!r}: weights must sum to 1, got {sum(weights):.6g}")
    return np.array(stds, dtype=np.float64), np.array(weights, dtype=np.float64)


def _mixture_moments(modes: np.ndarray, stds: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = weights @ modes
    var = weights @ (stds[:, None] ** 2 + modes**2) - mean**2
    return mean, np.sqrt(var)


def _g(values) -> str:
    return ";".join(f"{v:g}" for v in values)


def _modes(name: str, modes: int, what: str) -> None:
    if modes > MAX_MODES:
        raise GanfitError(f"target {name!r}: {what} gives {modes:,} modes, at most {MAX_MODES:,}")


def mog(*, means: list[float], stds: list[float] = (1.0,), weights: list[float] = ()) -> Target:
    """A 1-D Gaussian mixture: `mog:means=-2;2,stds=0.5;0.5,weights=0.3;0.7` (equal weights if none)."""
    _modes("mog", len(means), "means")
    _finite("mog", **{f"means[{i}]": v for i, v in enumerate(means)})
    sd, w = _mixture_parts("mog", means, stds, weights, len(means))
    centres = np.array(means, dtype=np.float64)[:, None]
    return Mixture(
        f"mog(means={_g(means)}, stds={_g(sd)}, weights={_g(w)})",
        1,
        3,
        *_mixture_moments(centres, sd, w),
        ["x"],
        dist=Mixture1D(centres[:, 0], sd, w),
        modes=centres,
        mode_stds=sd,
        weights=w,
    )


def _mixture_2d(name: str, label: str, centres: np.ndarray, std: float) -> Target:
    sd, w = np.full(len(centres), std), np.full(len(centres), 1.0 / len(centres))
    mean, spread = _mixture_moments(centres, sd, w)
    return Mixture(label, 2, 3, mean, spread, ["x", "y"], modes=centres, mode_stds=sd, weights=w)


def ring(*, modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Target:
    """`modes` equal Gaussians at angles 2 pi k / modes, k = 0..modes-1, on a circle: all distinct (the
    copied `linspace(0, 2 pi, 8)` puts its last mode on its first)."""
    _modes("ring", modes, "modes")
    _positive("ring", modes=modes, radius=radius, std=std)
    angles = 2 * np.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    return _mixture_2d("ring", f"ring(modes={modes}, radius={radius:g}, std={std:g})", centres, std)


def grid(*, n: int = 5, spacing: float = 2.0, std: float = 0.05) -> Target:
    """n x n equal Gaussians at spacing * ({0..n-1} - (n-1)/2) in each coordinate: the default is the
    VEEGAN/PacGAN grid, means {-4, -2, 0, 2, 4}^2, std 0.05."""
    _modes("grid", n * n, f"n={n}")
    _positive("grid", n=n, spacing=spacing, std=std)
    axis = spacing * (np.arange(n) - (n - 1) / 2)
    centres = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return _mixture_2d("grid", f"grid(n={n}, spacing={spacing:g}, std={std:g})", centres, std)


def _grid_moments(points: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a curve sampled at cell midpoints of its uniform parameter, plus isotropic noise."""
    return points.mean(0), np.sqrt(points.var(0) + noise**2)


def spiral(*, noise: float = 0.25, scale: float = 7.5) -> Target:
    """The swiss roll of the WGAN-GP toy: t (cos t, sin t) + noise N(0, I), t ~ U[1.5 pi, 4.5 pi], / scale."""
    _finite("spiral", noise=noise)
    _positive("spiral", scale=scale)
    if noise < 0:
        raise GanfitError(f"target 'spiral': noise must be >= 0, got {noise:g}")
    t = 1.5 * np.pi * (1 + 2 * (np.arange(200_000) + 0.5) / 200_000)
    mean, std = _grid_moments(np.stack([t * np.cos(t), t * np.sin(t)], 1), noise)
    return Spiral(
        f"spiral(noise={noise:g}, scale={scale:g})", 2, 3, mean / scale, std / scale, ["x", "y"], params=(noise, scale)
    )


def moons(*, noise: float = 0.1) -> Target:
    """sklearn's make_moons: two interleaved half circles of radius 1, plus N(0, noise^2 I)."""
    _finite("moons", noise=noise)
    if noise < 0:
        raise GanfitError(f"target 'moons': noise must be >= 0, got {noise:g}")
    th = np.pi * (np.arange(100_000) + 0.5) / 100_000
    pts = np.concatenate([np.stack([np.cos(th), np.sin(th)], 1), np.stack([1 - np.cos(th), 0.5 - np.sin(th)], 1)])
    return Moons(f"moons(noise={noise:g})", 2, 4, *_grid_moments(pts, noise), ["x", "y"], params=(noise,))


def csv_target(*, path: str, column: str = "", columns: list[str] = ()) -> Target:
    """A user's samples: one column (1-D; `column=NAME` picks it from a wider file) or `columns=A;B` (2-D)."""
    if column and columns:
        raise GanfitError("target 'csv': give column=NAME (1-D) or columns=A;B (2-D), not both")
    if columns and len(columns) > 2:
        raise GanfitError(f"target 'csv': ganfit learns 1-D or 2-D data; columns= names {len(columns)}")
    if len(set(columns)) != len(columns):
        raise GanfitError("target 'csv': columns= names the same column twice")
    data, names = read_csv_columns(path, list(columns) or ([column] if column else None))
    return samples(f"csv({path})", data, names)


def samples(label: str, data: np.ndarray, names: list[str]) -> Target:
    """A target made of a user's samples [n, dim] (float64), however they arrived."""
    return Samples(label, data.shape[1], 1, data.mean(0), data.std(0), list(names), data=data)


def npy_target(*, path: str, columns: list[str] = ()) -> Target:
    """A user's samples in a .npy file, [n] (1-D) or [n, 2] (2-D); `columns=A;B` names them."""
    data, names = read_npy(path, list(columns))
    return samples(f"npy({path})", data, names)


def array_target(*, sha256: str, rows: int = 0, columns: list[str] = ()) -> Target:
    """Data given in memory (Config(target=array)): held in this process under its sha256."""
    data, names = arrays.held(sha256)
    if rows and rows != len(data):
        raise GanfitError(f"target 'array': {sha256[:12]}... holds {len(data)} rows, the spec says {rows}")
    return samples(f"array({sha256[:12]})", data, list(columns) or names)


TARGETS = {
    "gaussian": gaussian,
    "uniform": uniform,
    "laplace": laplace,
    "student_t": student_t,
    "lognormal": lognormal,
    "exponential": exponential,
    "mog": mog,
    "csv": csv_target,
    "npy": npy_target,
    "array": array_target,
    "ring": ring,
    "grid": grid,
    "spiral": spiral,
    "moons": moons,
}


def make_target(spec: str) -> Target:
    """Build a target from its spec; every problem is a GanfitError naming it (a mean or std that is
    not finite in float32 too: training's numbers are float32)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an overflow is refused below, in one line
            target = build(spec, TARGETS, "target")
    except OverflowError:  # math.exp(800), 1e200 ** 2
        target = None
    if target is None or not _representable(target.mean, target.std):
        name, params = parse_spec(spec, "target")
        given = ", ".join(f"{k}={v}" for k, v in params.items())
        given = given if len(given) <= 60 else given[:57] + "..."
        moments = "overflow" if target is None else f"are {_g(target.mean)} and {_g(target.std)}"
        raise GanfitError(
            f"target {name!r}: with {given} its mean and std {moments}, not finite positive float32 numbers"
            f" (at most {F32.max:.3g}): choose other parameters"
        )
    return target


def _representable(mean: np.ndarray, std: np.ndarray) -> bool:
    return bool(np.all(np.abs(mean) <= F32.max) and np.all((std <= F32.max) & (std >= F32.tiny)))
