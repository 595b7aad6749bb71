"""The article's pictures: real-vs-fake mean and std over epochs, and the final histogram."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .run import Run, atomic_write  # noqa: E402
from .targets import Target  # noqa: E402


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def moments(run: Run, target: Target, path: Path) -> None:
    """Fake mean and std over epochs: every member faint, member 0 bold, the target dashed. In 2-D:
    sliced W1 and, for mixtures, the high-quality fraction (no truth line: the target's is 0 and 1)."""
    if target.dim > 1:
        pairs = [("sw", None)] + ([("hq", 1.0)] if target.modes is not None else [])
    else:
        pairs = [("mean", target.mean[0]), ("std", target.std[0])]
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.5 * len(pairs), 3.8), squeeze=False)
    axes = axes[0]
    for ax, (name, truth) in zip(axes, pairs):
        for k in range(run.members - 1, -1, -1):
            epochs, values = run.member_history(name, k)
            if k == 0:
                ax.plot(epochs, values, color="C0", lw=2, label="fake, member 0", zorder=3)
            else:
                ax.plot(epochs, values, color="C0", lw=0.8, alpha=0.25, label="fake, other members" if k == 1 else None)
        if truth is not None:
            ax.axhline(truth, color="C3", ls="--", lw=1.5, label=f"real ({truth:.3g})")
        ax.set_xlabel("epoch")
        ax.set_title(f"{name} of generated samples")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"{target.describe()} — {run.members} member(s)", fontsize=10)
    _save(fig, path)


def histogram(samples: np.ndarray, target: Target, path: Path) -> None:
    """Member 0's final samples over the target's density (or the data's histogram); a scatter in 2-D."""
    if target.dim > 1:
        return scatter(samples, target, path)
    x = np.asarray(samples)[0].reshape(-1)
    x = x[np.isfinite(x)]
    fig, ax = plt.subplots(figsize=(7, 4))
    mu, sd = float(target.mean[0]), float(target.std[0])
    lo, hi = mu - 4.5 * sd, mu + 4.5 * sd
    if len(x):
        lo, hi = min(lo, np.quantile(x, 0.001)), max(hi, np.quantile(x, 0.999))
    bins = np.linspace(lo, hi, 81)
    if target.dist is not None:
        grid = np.linspace(lo, hi, 400)
        ax.plot(grid, target.dist.pdf(grid), color="C3", lw=2, label=f"target: {target.describe()}")
    else:
        ax.hist(
            target.data[:, 0],
            bins=bins,
            density=True,
            histtype="step",
            color="C3",
            lw=2,
            label=f"data: {target.describe()}",
        )
    ax.hist(x, bins=bins, density=True, color="C0", alpha=0.55, label=f"generated, member 0 ({len(x)} samples)")
    ax.set_xlabel(target.columns[0])
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


def scatter(samples: np.ndarray, target: Target, path: Path) -> None:
    """2-D: member 0's final samples over the target's (modes, or a sample of the data)."""
    x = np.asarray(samples)[0].reshape(-1, target.dim)[:2500]
    x = x[np.isfinite(x).all(1)]
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    if target.modes is not None:
        ax.scatter(*target.modes.T, s=60, facecolors="none", edgecolors="C3", lw=1.5, label="modes", zorder=3)
    elif target.data is not None:
        ax.scatter(*target.data[:2500].T, s=3, color="C3", alpha=0.4, label="data")
    ax.scatter(*x.T, s=3, color="C0", alpha=0.5, label=f"generated, member 0 ({len(x)} samples)")
    ax.set_xlabel(target.columns[0])
    ax.set_ylabel(target.columns[1])
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(target.describe(), fontsize=10)
    _save(fig, path)

