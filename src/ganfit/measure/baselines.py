"""What a practitioner would fit instead of a GAN: a Gaussian KDE and a Gaussian mixture whose number of
components is chosen by BIC. Both are fitted on the train part and sampled, so that they are scored on
the validation part exactly as G's samples are (metrics.against)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

MAX_COMPONENTS = 8
RESTARTS = 4


@dataclass
class Mixture:
    """A Gaussian mixture with full covariances: weights [k], means [k, d], covariances [k, d, d]."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    loglik: float = -np.inf

    @property
    def k(self) -> int:
        return len(self.weights)

    def log_components(self, x: np.ndarray) -> np.ndarray:
        """log(w_j N(x | mu_j, S_j)) for x [n, d]: [n, k]."""
        d = x.shape[1]
        chol = np.linalg.cholesky(self.covs)  # [k, d, d]
        diff = x[:, None, :] - self.means[None]  # [n, k, d]
        sol = np.linalg.solve(chol[None], diff[..., None])[..., 0]  # L^-1 (x - mu)
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)
        return np.log(self.weights) - 0.5 * (np.square(sol).sum(2) + logdet + d * np.log(2 * np.pi))

    def bic(self, n: int, d: int) -> float:
        params = (self.k - 1) + self.k * d + self.k * d * (d + 1) / 2
        return -2 * self.loglik + params * np.log(n)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        which = rng.choice(self.k, size=n, p=self.weights)
        z = rng.standard_normal((n, self.means.shape[1]))
        return self.means[which] + np.einsum("nij,nj->ni", np.linalg.cholesky(self.covs)[which], z)


def _em(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 300) -> Mixture:
    """EM from a k-means++ start; a small ridge on the covariances keeps every component proper."""
    n, d = x.shape
    ridge = 1e-6 * np.diag(np.var(x, 0) + 1e-300)
    centres = [x[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([np.square(x - c).sum(1) for c in centres], 0)
        centres.append(x[rng.choice(n, p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(n)])
    m = Mixture(np.full(k, 1 / k), np.array(centres), np.repeat((np.cov(x.T).reshape(d, d) + ridge)[None], k, 0))
    previous = -np.inf
    for _ in range(iters):
        log_p = m.log_components(x)
        total = special.logsumexp(log_p, axis=1)
        resp = np.exp(log_p - total[:, None])
        nk = resp.sum(0) + 1e-12
        means = resp.T @ x / nk[:, None]
        diff = x[:, None, :] - means[None]
        covs = np.einsum("nk,nki,nkj->kij", resp, diff, diff) / nk[:, None, None] + ridge
        m = Mixture(nk / n, means, covs, float(total.sum()))
        if m.loglik - previous < 1e-8 * n:
            break
        previous = m.loglik
    m.loglik = float(special.logsumexp(m.log_components(x), axis=1).sum())
    return m


def gaussian_mixture(x: np.ndarray, seed: int = 0) -> Mixture:
    """The mixture of 1 to MAX_COMPONENTS components (at most one per 5 rows) with the lowest BIC, each
    the best of RESTARTS runs of EM."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    best = None
    for k in range(1, max(1, min(MAX_COMPONENTS, n // 5)) + 1):
        fits = []
        for _ in range(RESTARTS if k > 1 else 1):
            try:
                fits.append(_em(x, k, rng))
            except np.linalg.LinAlgError:  # a component collapsed onto one point
                continue
        if fits:
            m = max(fits, key=lambda f: f.loglik)
            if best is None or m.bic(n, d) < best.bic(n, d):
                best = m
    return best


def kde_sample(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n samples [n, d] of scipy's Gaussian KDE of x (Scott's bandwidth, full covariance)."""
    return stats.gaussian_kde(x.T).resample(n, seed=np.random.default_rng(seed)).T


def baseline_samples(train: np.ndarray, n: int, seed: int = 0) -> dict[str, tuple[str, np.ndarray]]:
    """{key: (label, samples [n, d])} of each baseline fitted on train [m, d]."""
    mix = gaussian_mixture(train, seed)
    return {
        "kde": ("KDE (scipy gaussian_kde, Scott's bandwidth)", kde_sample(train, n, seed)),
        "mixture": (
            f"Gaussian mixture ({mix.k} component{'s' * (mix.k > 1)}, by BIC)",
            mix.sample(n, np.random.default_rng(seed)),
        ),
    }
