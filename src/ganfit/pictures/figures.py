"""The picture files of a run. `run_pictures` is the one list of them; the rest draws each one.

Every run with a directory: moments.png (the article's picture: fake mean and std over epochs, or the
2-D distances) and histogram.png (member 0's final samples over the target). With `pictures`, from the
snapshots: distribution.png, discriminator.png and generator.png (1-D), field.png, warp.png and
discriminator.png (2-D), curves.png and evolution.gif.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..game.targets import Target
from . import animate, painter
from .mpl import save, subplots
from .panels import (
    bins,
    draw_cdf,
    draw_density,
    draw_discriminator,
    draw_field,
    draw_generator,
    draw_verdict,
    draw_warp,
    fake_cdf,
    fake_density,
)
from .snapdata import EVOLUTION, SnapData


def run_pictures(
    out: Path, target: Target, history: list[dict], samples=None, snaps: SnapData | None = None, gif=None
) -> list[Path]:
    """Every picture a run gets, into directory `out`; returns the files written. `samples` [K, N, dim]:
    the final samples (data units); `snaps`: the snapshots, when the run took them; `gif`: the painter's
    job drawing evolution.gif meanwhile (painter.submit), or None to draw it here."""
    written = []
    if history:
        written.append(moments(history, target, out / "moments.png"))
    if samples is not None and len(samples):
        written.append(histogram(samples, target, out / "histogram.png"))
    if snaps is not None:
        written += panel_figures(snaps, target, out)
        if history:
            written.append(curves(history, out / "curves.png", truths(target)))
        if len(snaps.epochs) > 1:
            written.append(painter.collect(gif) or animate.evolution(snaps, target, out / EVOLUTION))
    return written


def _save(fig, path: Path) -> Path:
    return save(fig, path, dpi=110, tight=True)


def moments(history: list[dict], target: Target, path: Path) -> Path:
    """Fake mean and std over epochs: every member faint, member 0 bold, the target dashed. In 2-D:
    sliced W1 and, for mixtures, the high-quality fraction (no truth line: the target's is 0 and 1)."""
    if target.dim > 1:
        pairs = [("sw", None)] + ([("hq", 1.0)] if target.modes is not None else [])
    else:
        pairs = [("mean", target.mean[0]), ("std", target.std[0])]
    fig, axes = subplots(1, len(pairs), figsize=(5.5 * len(pairs), 3.8), squeeze=False)
    axes = axes[0]
    for ax, (name, truth) in zip(axes, pairs):
        epochs, v = history_matrix(history, name)
        for k in range(len(v) - 1, -1, -1):
            values = v[k]
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
    fig.suptitle(f"{target.describe()} — {len(v)} member(s)", fontsize=10)
    return _save(fig, path)


def histogram(samples: np.ndarray, target: Target, path: Path) -> Path:
    """Member 0's final samples over the target's density (or the data's histogram); a scatter in 2-D."""
    if target.dim > 1:
        return scatter(samples, target, path)
    x = np.asarray(samples)[0].reshape(-1)
    x = x[np.isfinite(x)]
    fig, ax = subplots(figsize=(7, 4))
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
    return _save(fig, path)


def scatter(samples: np.ndarray, target: Target, path: Path) -> Path:
    """2-D: member 0's final samples over the target's (modes, or a sample of the data)."""
    x = np.asarray(samples)[0].reshape(-1, target.dim)[:2500]
    x = x[np.isfinite(x).all(1)]
    fig, ax = subplots(figsize=(5.5, 5.5))
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
    return _save(fig, path)


LOSS_NAMES = ("d_loss_real", "d_loss_fake", "g_loss")
NOT_CURVES = {"epoch", "member", "seed", "status", "status_epoch", "learned"}


def history_matrix(history: list[dict], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs [E], values [K, E]) of one field of metrics rows; missing or null values are NaN."""
    epochs = np.array(sorted({r["epoch"] for r in history}))
    members = 1 + max(r["member"] for r in history)
    at = {e: j for j, e in enumerate(epochs)}
    out = np.full((members, len(epochs)), np.nan)
    for r in history:
        v = r.get(name)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[r["member"], at[r["epoch"]]] = v
    return epochs, out


def curve_names(history: list[dict]) -> list[str]:
    """Every numeric field of the metrics rows: the losses first, then the metrics in their order."""
    names: list[str] = []
    for r in history[: 2 * (1 + max(x["member"] for x in history))]:
        for k, v in r.items():
            if k not in NOT_CURVES and k not in names and (v is None or isinstance(v, (int, float))):
                if not isinstance(v, bool):
                    names.append(k)
    return [n for n in LOSS_NAMES if n in names] + [n for n in names if n not in LOSS_NAMES]


def curves(history: list[dict], path: Path, truths: dict[str, float] | None = None, most: int = 200) -> Path:
    """Losses and every metric over epochs: all members faint (the first `most`), member 0 bold, the
    ensemble median dashed; the fraction of members that learned, where rows say."""
    names = curve_names(history)
    has_learned = any("learned" in r for r in history)
    panels = len(names) + has_learned
    cols = 3
    rows = max(1, -(-panels // cols))
    fig, axes = subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    truths = truths or {}
    for ax, name in zip(axes.ravel(), names):
        epochs, v = history_matrix(history, name)
        K = len(v)
        if K > 1:
            ax.plot(epochs, v[1:most].T, color="C0", lw=0.6, alpha=0.2)
            ax.plot([], [], color="C0", lw=0.6, alpha=0.4, label="other members")
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an epoch where every member is NaN
                median = np.nanmedian(v, 0)
            ax.plot(epochs, median, color="k", lw=1.4, ls="--", label=f"median of {K}")
        ax.plot(epochs, v[0], color="C0", lw=2, label="member 0")
        if name in truths:
            ax.axhline(truths[name], color="C3", lw=1.2, ls=":", label=f"target {truths[name]:.3g}")
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        late = v[:, epochs >= 0.1 * epochs.max()]  # the start and one wild member should not flatten the rest
        finite = late[np.isfinite(late)]
        if finite.size and name not in LOSS_NAMES:
            lo, hi = np.percentile(finite, [1, 99])
            if name in truths:
                lo, hi = min(lo, truths[name]), max(hi, truths[name])
            if hi > lo:
                ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    if has_learned:
        ax = axes.ravel()[len(names)]
        epochs, v = history_matrix([r | {"learned": float(bool(r.get("learned")))} for r in history], "learned")
        ax.plot(epochs, np.nanmean(v, 0), color="C2", lw=2)
        ax.set_title("fraction of members learned", fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[panels:]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle("losses and metrics over epochs (every member faint, member 0 bold, median dashed)", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.5 / fig.get_figheight(), top=1 - 0.75 / fig.get_figheight())
    fig.subplots_adjust(hspace=0.55, wspace=0.25)
    return save(fig, path)


# ---- the views as files


def truths(target) -> dict[str, float]:
    """Reference lines for the curves: the target's mean and std in 1-D."""
    if target.dim != 1:
        return {}
    return {"mean": float(target.mean[0]), "std": float(target.std[0])}


def _earlier(s, n: int = 4) -> list[int]:
    F = len(s.epochs)
    return sorted({int(round(x)) for x in np.linspace(0, F - 1, n + 1)})


def panel_figures(s: SnapData, target: Target, out: Path) -> list[Path]:
    """The views of the last snapshot, earlier ones faint (1-D), or at the start, middle and end (2-D)."""
    written = []
    last = len(s.epochs) - 1
    if s.meta["dim"] == 1:
        fig, axes = subplots(1, 2, figsize=(12, 4.2))
        for j in _earlier(s)[:-1]:  # earlier epochs, faint, for "through training"
            c, dens = fake_density(s, j)
            alpha = 0.25 + 0.5 * j / max(last, 1)
            axes[0].plot(c, dens, color="0.4", lw=0.8, alpha=alpha)
            axes[1].step(bins(s)[0], fake_cdf(s, j), color="0.4", lw=0.8, alpha=alpha, where="post")
        draw_density(axes[0], s, last, target)
        draw_cdf(axes[1], s, last, target)
        axes[0].plot(
            [],
            [],
            color="0.4",
            lw=0.8,
            label="earlier epochs (" + ", ".join(str(s.epochs[j]) for j in _earlier(s)[:-1]) + ")",
        )
        for ax in axes:
            ax.legend(fontsize=8, loc="upper left")
            ax.grid(alpha=0.3)
        written.append(_save_panels(fig, out / "distribution.png"))
        fig, ax = subplots(figsize=(7.5, 4.2))
        draw_discriminator(ax, s, last, target)
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
        written.append(_save_panels(fig, out / "discriminator.png"))
        fig, ax = subplots(figsize=(7.5, 4.2))
        for j in _earlier(s)[:-1]:
            ax.plot(
                s["z_line"], s.to_data(s["g_map"][j], axis=0), color="0.4", lw=0.8, alpha=0.25 + 0.5 * j / max(last, 1)
            )
        draw_generator(ax, s, last, target)
        ax.plot([], [], color="0.4", lw=0.8, label="G(z) at earlier epochs")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        written.append(_save_panels(fig, out / "generator.png"))
    else:
        picks = _earlier(s, 2)
        for name, draw in (("field.png", draw_field), ("warp.png", draw_warp)):
            fig, axes = subplots(1, len(picks), figsize=(5.4 * len(picks), 4.8), squeeze=False, layout="constrained")
            for ax, j in zip(axes[0], picks):
                draw(ax, s, j)
            axes[0][0].legend(fontsize=8, loc="upper left", markerscale=2)
            written.append(_save_panels(fig, out / name))
        if s.has("verdict"):
            fig, ax = subplots(figsize=(7.5, 4.2))
            draw_verdict(ax, s, last)
            ax.legend(fontsize=8, loc="best")
            ax.grid(alpha=0.3)
            written.append(_save_panels(fig, out / "discriminator.png"))
    return written


def _save_panels(fig, path: Path) -> Path:
    """Saved as laid out (fixed margins or constrained layout): no extra draw for a tight bounding box."""
    if fig.get_layout_engine() is None:
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.9, wspace=0.22)
    return save(fig, path)


def fit_picture(run, train_x: np.ndarray, val_x: np.ndarray, baselines: dict, path: Path) -> Path:
    """`ganfit fit`'s picture: the best member's samples, the KDE's and the mixture's over the data, train
    and validation parts apart (1-D: densities over histograms; 2-D: one scatter per model)."""
    best = run.best_member
    models = [(f"ganfit, best member ({best})", run.sample(len(next(iter(baselines.values()))[1]), best))]
    models += list(baselines.values())
    names = run.columns
    if train_x.shape[1] == 1:
        fig, ax = subplots(figsize=(8, 4.4))
        lo, hi = np.quantile(np.concatenate([train_x[:, 0], val_x[:, 0]]), [0, 1])
        span = hi - lo
        edges = np.linspace(lo - 0.25 * span, hi + 0.25 * span, 41)
        ax.hist(train_x[:, 0], edges, density=True, color="0.8", label=f"train part ({len(train_x)} rows)")
        ax.hist(
            val_x[:, 0], edges, density=True, histtype="step", color="C3", lw=1.5, label=f"validation ({len(val_x)})"
        )
        fine = np.linspace(edges[0], edges[-1], 81)
        for (label, x), color in zip(models, ("C0", "C2", "C1")):
            counts, _ = np.histogram(x[:, 0], fine, density=True)
            ax.plot(0.5 * (fine[1:] + fine[:-1]), counts, color=color, lw=2 if color == "C0" else 1.3, label=label)
        ax.set(xlabel=names[0], ylabel="density", title=f"{names[0]}: the fit over the data")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        return _save(fig, path)
    fig, axes = subplots(1, len(models), figsize=(4.6 * len(models), 4.4), squeeze=False, layout="constrained")
    for ax, (label, x) in zip(axes[0], models):
        ax.scatter(*x[:1500].T, s=3, color="C0", alpha=0.35, label="model samples")
        ax.scatter(*train_x.T, s=10, color="0.3", label="train part")
        ax.scatter(*val_x.T, s=14, color="C3", marker="x", label="validation")
        ax.set(xlabel=names[0], ylabel=names[1], title=label)
        ax.title.set_fontsize(9)
    axes[0][0].legend(fontsize=8, markerscale=2)
    return save(fig, path, dpi=100)
