"""Matplotlib without pyplot: each figure has its own Agg canvas, so drawing files never touches a
notebook's or a GUI's backend, and nothing global is left open."""

from __future__ import annotations

from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..files import atomic_write

__all__ = ["colormaps", "save", "subplots"]


def subplots(*grid, figsize=None, dpi=None, layout=None, **kw):
    """(figure, axes) as pyplot.subplots makes them, on a canvas of the figure's own."""
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*grid, **kw)


def save(fig: Figure, path: Path, dpi: int = 100, tight: bool = False) -> Path:
    """A PNG, written atomically. As laid out by default: a tight bounding box costs a second full draw."""
    opts = {"bbox_inches": "tight"} if tight else {}
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, **opts))
    return path
