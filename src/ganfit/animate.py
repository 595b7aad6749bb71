"""The game through training as a GIF, one frame per snapshot, written with Pillow (no ffmpeg).

1-D: fake density and CDF over the target's, D beside D* (or D's verdict so far), G's map beside the
optimal one. 2-D: D's heat map with points and G's push, and G's warped noise grid. The static parts
(axes, target curves, legends) are drawn once; each frame redraws only what changes (blitting), so a
frame costs milliseconds rather than a full figure draw.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from . import views
from .plots import plt
from .run import atomic_write

MAX_FRAMES = 30
FPS = 6
DPI = 72


def frames(s, most: int = MAX_FRAMES) -> list[int]:
    """Up to `most` snapshot indices, evenly spread, always the first and the last."""
    n = len(s.epochs)
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(n, most))})


def evolution(s, target, path: Path, most: int = MAX_FRAMES) -> Path:
    """Write the animation of snapshots `s` to `path` (a GIF that loops)."""
    if s.meta["dim"] == 1:
        fig, axes = plt.subplots(2, 2, figsize=(11, 7.2), dpi=DPI)
        axes = axes.ravel()
        drawn = [
            views.draw_density(axes[0], s, 0, target),
            views.draw_cdf(axes[1], s, 0, target),
            views.draw_discriminator(axes[2], s, 0, target),
            views.draw_generator(axes[3], s, 0, target),
        ]
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="upper left")
    else:
        fig, axes = plt.subplots(1, 2, figsize=(12, 5), dpi=DPI, layout="constrained")
        drawn = [views.draw_field(axes[0], s, 0), views.draw_warp(axes[1], s, 0)]
        axes[0].legend(fontsize=7, loc="upper left", markerscale=2)
    fig.suptitle(f"{s.meta['target']}: the game through training (member 0)", fontsize=10)
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    changing = [a for _, artists in drawn for a in artists]
    for a in changing:
        a.set_animated(True)
    canvas = fig.canvas
    canvas.draw()  # everything but the changing artists
    background = canvas.copy_from_bbox(fig.bbox)
    images = []
    for j in frames(s, most):
        canvas.restore_region(background)
        for update, _ in drawn:
            for a in update(j):
                a.axes.draw_artist(a) if a.axes is not None else fig.draw_artist(a)
        canvas.blit(fig.bbox)
        images.append(
            Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy()).quantize(
                colors=128, method=Image.Quantize.FASTOCTREE
            )
        )
    plt.close(fig)
    hold = [int(1000 / FPS)] * (len(images) - 1) + [2000]  # linger on the final state

    def write(tmp):
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=hold, loop=0)

    atomic_write(path, write)
    return path


# ---- the GIF in a second process, so that the end of a run draws on two cores


_painter: ProcessPoolExecutor | None = None


def painter() -> ProcessPoolExecutor | None:
    """One spawned process per Python process, started when a run with pictures starts (its imports
    overlap training) and reused by later runs; None on a one-core machine, where it gains nothing."""
    global _painter
    if _painter is None and len(os.sched_getaffinity(0)) > 1:
        _painter = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_up)
        atexit.register(_painter.shutdown, wait=False, cancel_futures=True)
    return _painter


def _warm_up() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from . import views  # noqa: F401 (matplotlib and the rest, loaded before they are needed)


def _evolution_from_files(snapshots: str, target_spec: str, path: str) -> str:
    from .snapshots import SnapData
    from .targets import make_target

    return str(evolution(SnapData.load(Path(snapshots)), make_target(target_spec), Path(path)))


def evolution_elsewhere(snapshots: Path, target_spec: str, path: Path) -> Future | None:
    """Start drawing `path` from a saved snapshots.npz in the painter process; None where there is none."""
    pool = painter()
    if pool is None:
        return None
    try:
        return pool.submit(_evolution_from_files, str(snapshots), target_spec, str(path))
    except RuntimeError:  # the pool broke (its process died) or is shutting down: draw here instead
        _forget(pool)
        return None


def collect(future: Future | None) -> Path | None:
    """The painter's GIF, or None if it could not draw it (the caller then draws it, errors and all)."""
    if future is None:
        return None
    try:
        return Path(future.result(timeout=600))
    except Exception:
        _forget(_painter)
        return None


def _forget(pool: ProcessPoolExecutor | None) -> None:
    """A pool that failed is shut down; the next run with pictures starts a fresh one."""
    global _painter
    if pool is not None and pool is _painter:
        _painter = None
        pool.shutdown(wait=False, cancel_futures=True)
