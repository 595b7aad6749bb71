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
    """Fake mean and std over epochs: every member faint, member 0 bold, the target dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, name, truth in zip(axes, ("mean", "std"), (target.mean[0], target.std[0])):
        for k in range(run.members - 1, -1, -1):
            epochs, values = run.member_history(name, k)
            if k == 0:
                ax.plot(epochs, values, color="C0", lw=2, label="fake, member 0", zorder=3)
            else:
                ax.plot(epochs, values, color="C0", lw=0.8, alpha=0.25, label="fake, other members" if k == 1 else None)
        ax.axhline(truth, color="C3", ls="--", lw=1.5, label=f"real ({truth:.3g})")
        ax.set_xlabel("epoch")
        ax.set_title(f"{name} of generated samples")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"{target.describe()} — {run.members} member(s)", fontsize=10)
    _save(fig, path)


def histogram(samples: np.ndarray, target: Target, path: Path) -> None:
    """Member 0's final samples over the target's density (or the data's histogram)."""
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
