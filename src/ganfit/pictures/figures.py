"""The picture files of a run. `run_pictures` is the one list of them; the rest draws each one.

Every run with a directory: moments.png (the article's picture: fake mean and std over epochs, or the
2-D distances) and histogram.png (member 0's final samples over the target). With `pictures`, from the
snapshots: distribution.png, discriminator.png and generator.png (1-D), field.png, warp.png and
discriminator.png (2-D), curves.png and evolution.gif. Each of moments, histogram and curves builds its
Figure in a `*_figure` function (what the tests inspect) and saves it in another.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..game.targets import Target
from ..measure.metrics import HQ_SIGMAS, LOSS_COLUMNS
from . import animate, painter
from .mpl import colormaps, save, subplots
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
    """Laid out as drawn (constrained layout): a tight bounding box would cost a second full draw, a
    fifth of a default run's time after its training."""
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    return save(fig, path, dpi=110)


# ---- what every panel over epochs shares


def _epoch_axis(ax, epochs: np.ndarray) -> None:
    """The run's whole epoch range on the x-axis, whatever part of it has finite values."""
    if len(epochs) and epochs.max() > epochs.min():
        ax.set_xlim(epochs.min(), epochs.max())
    ax.set_xlabel("epoch", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def _no_finite(ax, values: np.ndarray) -> bool:
    """Says 'no finite values' on a panel with nothing to draw (instead of an empty plot); True if so."""
    if np.isfinite(values).any():
        return False
    ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_yticks([])
    return True


def _marks(values: np.ndarray) -> dict:
    """Plot options with a marker where some finite value has no finite neighbour (a line would not show it)."""
    f = np.isfinite(np.atleast_2d(values))
    pad = np.pad(f, ((0, 0), (1, 1)))
    alone = f & ~pad[:, :-2] & ~pad[:, 2:]
    return {"marker": ".", "ms": 6} if alone.any() else {}


def _median(v: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an epoch where every member is NaN
        return np.nanmedian(v, 0)


def _robust_ylim(ax, values: np.ndarray, truth: float | None = None) -> None:
    """y-limits over the 1st to 99th percentile of the values: one wild member does not flatten the rest."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    lo, hi = np.percentile(finite, [1, 99])
    if truth is not None:
        lo, hi = min(lo, truth), max(hi, truth)
    if hi > lo:
        ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))


# ---- moments.png

TITLES = {
    "mean": "generated mean",
    "std": "generated std",
    "sw": "sliced W1 to the target",
    "hq": f"high-quality fraction (within {HQ_SIGMAS:g} std of a mode)",
}


def moment_pairs(target: Target) -> list[tuple[str, float | None]]:
    """(field, the target's value) that moments.png draws: the article's mean and std in 1-D; in 2-D the
    sliced W1 and, for mixtures, the high-quality fraction (whose ideal is 1)."""
    if target.dim > 1:
        return [("sw", None)] + ([("hq", 1.0)] if target.modes is not None else [])
    return [("mean", float(target.mean[0])), ("std", float(target.std[0]))]


def moments_what(target: Target) -> str:
    """What moments.png draws, in words: its title, and the report's caption."""
    if target.dim == 1:
        return "generated mean and std"
    return " and ".join(TITLES[name] for name, _ in moment_pairs(target))


def moments(history: list[dict], target: Target, path: Path) -> Path:
    return _save(moments_figure(history, target), path)


def moments_figure(history: list[dict], target: Target) -> Figure:
    """moment_pairs over epochs: every member faint, member 0 bold, the target's value dashed."""
    pairs = moment_pairs(target)
    fig, axes = subplots(1, len(pairs), figsize=(5.5 * len(pairs), 4), squeeze=False, layout="constrained")
    for ax, (name, truth) in zip(axes[0], pairs):
        epochs, v = history_matrix(history, name)
        for k in range(len(v) - 1, 0, -1):
            ax.plot(epochs, v[k], color="C0", lw=0.8, alpha=0.25, label="other members" if k == 1 else None)
        ax.plot(epochs, v[0], color="C0", lw=2, label="member 0", zorder=3, **_marks(v))
        if truth is not None:
            ax.axhline(truth, color="C3", ls="--", lw=1.5, label=f"target ({truth:.3g})")
        ax.set_title(TITLES[name], fontsize=10)
        _epoch_axis(ax, epochs)
        if not _no_finite(ax, v):
            ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"{moments_what(target)} over epochs\n{target.describe()}, {len(v)} member(s)", fontsize=10)
    return fig


# ---- histogram.png


def histogram(samples: np.ndarray, target: Target, path: Path) -> Path:
    return _save(histogram_figure(samples, target), path)


def histogram_figure(samples: np.ndarray, target: Target) -> Figure:
    """Member 0's final samples over the target's density (or the data's histogram); a scatter in 2-D. The
    axes hold the target's mean ± 4.5 std, the data, and all but the outer 0.1% of the samples on each
    side (the legend counts those left outside)."""
    if target.dim > 1:
        return scatter_figure(samples, target)
    x = np.asarray(samples)[0].reshape(-1)
    x = x[np.isfinite(x)]
    fig, ax = subplots(figsize=(7, 4))
    mu, sd = float(target.mean[0]), float(target.std[0])
    lo, hi = mu - 4.5 * sd, mu + 4.5 * sd
    if target.data is not None:
        lo, hi = min(lo, target.data[:, 0].min()), max(hi, target.data[:, 0].max())
    if len(x):
        lo, hi = min(lo, np.quantile(x, 0.001)), max(hi, np.quantile(x, 0.999))
    edges = np.linspace(lo, hi, 81)
    if target.dist is not None:
        grid = np.linspace(lo, hi, 400)
        ax.plot(grid, target.dist.pdf(grid), color="C3", lw=2, label=f"target: {target.describe()}")
    else:
        ax.hist(target.data[:, 0], edges, density=True, histtype="step", color="C3", lw=2, label="data")
    outside = int(np.sum((x < lo) | (x > hi)))
    note = f"; {outside} outside the axes" if outside else ""
    ax.hist(x, edges, density=True, color="C0", alpha=0.55, label=f"generated, member 0 ({len(x)} samples{note})")
    ax.set(xlim=(lo, hi), xlabel=target.columns[0], ylabel="density")
    what = "density" if target.dist is not None else "data"
    ax.set_title(f"member 0's final samples over the target's {what}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def scatter_figure(samples: np.ndarray, target: Target) -> Figure:
    """2-D: member 0's final samples over the target's modes (or its data, or a sample of it), on square
    axes that hold every point drawn, with a margin."""
    x = np.asarray(samples)[0].reshape(-1, target.dim)[:2500]
    x = x[np.isfinite(x).all(1)]
    fig, ax = subplots(figsize=(5.5, 5.5))
    if target.modes is not None:
        ref, what = target.modes, "modes"
        ax.scatter(*ref.T, s=60, facecolors="none", edgecolors="C3", lw=1.5, label="modes", zorder=3)
    else:
        ref, what = target.reference(2500)[:2500], "data" if target.data is not None else "sample"
        ax.scatter(*ref.T, s=3, color="C3", alpha=0.4, label="data" if what == "data" else "target sample")
    ax.scatter(*x.T, s=3, color="C0", alpha=0.5, label=f"generated, member 0 ({len(x)} samples)")
    points = np.concatenate([ref, x])
    lo, hi = points.min(0), points.max(0)
    centre, half = (lo + hi) / 2, 0.55 * max(float((hi - lo).max()), 1e-9)  # a 5% margin on each side
    ax.set(xlim=(centre[0] - half, centre[0] + half), ylim=(centre[1] - half, centre[1] + half))
    ax.set_aspect("equal", adjustable="box")
    ax.set(xlabel=target.columns[0], ylabel=target.columns[1])
    ax.set_title(f"{target.describe()}: member 0's final samples over the target's {what}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


# ---- curves.png, and one metric across runs

LOSS_NAMES = LOSS_COLUMNS
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


def _losses_first(names: list[str]) -> list[str]:
    return [n for n in LOSS_NAMES if n in names] + [n for n in names if n not in LOSS_NAMES]


def curve_names(history: list[dict]) -> list[str]:
    """Every numeric field of the metrics rows: the losses first, then the metrics in their order."""
    names: list[str] = []
    for r in history[: 2 * (1 + max(x["member"] for x in history))]:
        for k, v in r.items():
            if k not in NOT_CURVES and k not in names and (v is None or isinstance(v, (int, float))):
                if not isinstance(v, bool):
                    names.append(k)
    return _losses_first(names)


def curves(history: list[dict], path: Path, truths: dict[str, float] | None = None, most: int = 200) -> Path:
    return save(curves_figure(history, truths, most), path)


def curves_figure(history: list[dict], truths: dict[str, float] | None = None, most: int = 200) -> Figure:
    """Losses and every metric over epochs, one panel each on the run's whole epoch range: all members
    faint (the first `most`), member 0 bold, the ensemble median dashed; the fraction of members that
    learned, where rows say."""
    names = curve_names(history)
    has_learned = any("learned" in r for r in history)
    panels = len(names) + has_learned
    cols = 3
    rows = max(1, -(-panels // cols))
    fig, axes = subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        _curve_panel(ax, *history_matrix(history, name), name, (truths or {}).get(name), most)
    if has_learned:
        ax = axes.ravel()[len(names)]
        epochs, v = history_matrix([r | {"learned": float(bool(r.get("learned")))} for r in history], "learned")
        ax.plot(epochs, np.nanmean(v, 0), color="C2", lw=2, **_marks(v))
        ax.set_title("fraction of members learned", fontsize=10)
        ax.set_ylim(-0.03, 1.03)
        _epoch_axis(ax, epochs)
    for ax in axes.ravel()[panels:]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle("losses and metrics over epochs (every member faint, member 0 bold, median dashed)", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.5 / fig.get_figheight(), top=1 - 0.75 / fig.get_figheight())
    fig.subplots_adjust(hspace=0.55, wspace=0.25)
    return fig


def _curve_panel(ax, epochs: np.ndarray, v: np.ndarray, name: str, truth: float | None, most: int) -> None:
    K, marks = len(v), _marks(v)
    if K > 1:
        ax.plot(epochs, v[1:most].T, color="C0", lw=0.6, alpha=0.2, **marks)
        ax.plot([], [], color="C0", lw=0.6, alpha=0.4, label="other members")
        ax.plot(epochs, _median(v), color="k", lw=1.4, ls="--", label=f"median of {K}", **marks)
    ax.plot(epochs, v[0], color="C0", lw=2, label="member 0", **marks)
    if truth is not None:
        ax.axhline(truth, color="C3", lw=1.2, ls=":", label=f"target {truth:.3g}")
    ax.set_title(name.replace("_", " "), fontsize=10)
    _epoch_axis(ax, epochs)
    if not _no_finite(ax, v) and name not in LOSS_NAMES:
        _robust_ylim(ax, v[:, epochs >= 0.1 * epochs.max()], truth)  # the start would flatten the rest


def compare_names(histories: dict[str, list[dict]]) -> list[str]:
    """Every numeric field of any of the runs' metrics rows (runs without rows left out), in order."""
    names = list(dict.fromkeys(n for h in histories.values() if h for n in curve_names(h)))
    return _losses_first(names)


def compare_figure(histories: dict[str, list[dict]], name: str) -> Figure:
    """One field across runs: each run's ensemble median over epochs, one line labelled by the run's
    name (its colour the same in every such picture), on the epochs of all of them; nothing cut off."""
    fig, ax = subplots(figsize=(6.4, 3.2))
    n = len(histories)
    color = colormaps["tab10"] if n <= 10 else colormaps["viridis"].resampled(n)
    epochs, medians = [np.zeros(0)], [np.zeros(0)]
    for i, (run, h) in enumerate(histories.items()):
        e, v = history_matrix(h, name) if h else (np.zeros(0), np.zeros((1, 0)))
        median = _median(v)
        label = run.replace("$", r"\$")  # no mathtext
        label = " " + label if label.startswith("_") else label  # matplotlib hides labels starting with _
        ax.plot(e, median, color=color(i), lw=1.6, label=label, **_marks(median))
        epochs.append(e)
        medians.append(median)
    ax.set_title(f"{name.replace('_', ' ')}: each run's ensemble median", fontsize=10)
    _epoch_axis(ax, np.concatenate(epochs))
    if not _no_finite(ax, np.concatenate(medians)):
        cols = max(1, min(3, 72 // max(len(run) for run in histories)))  # sweeps' point names are long
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=cols, frameon=False)
    return fig


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


def fit_picture(run, train_x: np.ndarray, val_x: np.ndarray, baselines: dict, path: Path, chosen=None) -> Path:
    """`ganfit fit`'s picture: the chosen sampler's samples (`chosen`, else the best member's), the
    baselines' over the data, the train part and the held-out part (`val_x`: the test part) apart (1-D:
    densities over histograms; 2-D: one scatter per model)."""
    best = run.best_member
    if chosen is None:
        chosen = run.sample(len(next(iter(baselines.values()))[1]), best)
    models = [(f"ganfit, member {best}", chosen)] + list(baselines.values())
    names = run.columns
    if train_x.shape[1] == 1:
        fig, ax = subplots(figsize=(8, 4.4))
        lo, hi = np.quantile(np.concatenate([train_x[:, 0], val_x[:, 0]]), [0, 1])
        span = hi - lo
        edges = np.linspace(lo - 0.25 * span, hi + 0.25 * span, 41)
        ax.hist(train_x[:, 0], edges, density=True, color="0.8", label=f"train part ({len(train_x)} rows)")
        ax.hist(val_x[:, 0], edges, density=True, histtype="step", color="C3", lw=1.5, label=f"held out ({len(val_x)})")
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
        ax.scatter(*val_x.T, s=14, color="C3", marker="x", label="held out")
        ax.set(xlabel=names[0], ylabel=names[1], title=label)
        ax.title.set_fontsize(9)
    axes[0][0].legend(fontsize=8, markerscale=2)
    return save(fig, path, dpi=100)
