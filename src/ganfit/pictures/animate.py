"""The game through training as a GIF, one frame per snapshot, written with Pillow (no ffmpeg).

1-D: fake density and CDF over the target's, D beside D* (or D's verdict so far), G's map beside the
optimal one. 2-D: D's heat map with points and G's push, and G's warped noise grid. The static parts
(axes, target curves, legends) are drawn once; each frame redraws only what changes (blitting), so a
frame costs milliseconds rather than a full figure draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..files import atomic_write
from . import panels
from .mpl import subplots

MAX_FRAMES = 24
FPS = 6
DPI = 72


def frames(s, most: int = MAX_FRAMES) -> list[int]:
    """Up to `most` snapshot indices, evenly spread, always the first and the last."""
    n = len(s.epochs)
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(n, most))})


def evolution(s, target, path: Path, most: int = MAX_FRAMES) -> Path:
    """Write the animation of snapshots `s` to `path` (a GIF that loops)."""
    if s.meta["dim"] == 1:
        fig, axes = subplots(2, 2, figsize=(11, 7.2), dpi=DPI)
        axes = axes.ravel()
        drawn = [
            panels.draw_density(axes[0], s, 0, target),
            panels.draw_cdf(axes[1], s, 0, target),
            panels.draw_discriminator(axes[2], s, 0, target),
            panels.draw_generator(axes[3], s, 0, target),
        ]
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="upper left")
    else:
        fig, axes = subplots(1, 2, figsize=(12, 5), dpi=DPI, layout="constrained")
        drawn = [panels.draw_field(axes[0], s, 0), panels.draw_warp(axes[1], s, 0)]
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
    hold = [int(1000 / FPS)] * (len(images) - 1) + [2000]  # linger on the final state

    def write(tmp):
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=hold, loop=0)

    atomic_write(path, write)
    return path
