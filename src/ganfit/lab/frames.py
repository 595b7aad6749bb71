"""What the page draws, as JSON-ready dicts in the data's own units.

The pictures' capture (pictures/capture.py) evaluates member 0's G and D on fixed grids; the same
arrays make a run's snapshots.npz, so the lab's live frames, its time slider and an opened run's
snapshots are all turned into the page's views here, by one function (`main_view`). `setup` is what
the page needs once per game (the target's curves, the grids, the real points), `frame` what it
redraws: member 0's panels, every member's samples for the small multiples, the last losses.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from ..game.targets import Target
from ..pictures import panels
from ..pictures.snapdata import SnapData

MEMBER_POINTS_2D, MEMBER_SAMPLES_1D, MEMBER_BINS = 300, 2000, 48
MAX_SHOWN = 36  # members drawn as small multiples (the counts cover all of them)
DIV_GRID = 12  # bins per axis of the 2-D grid on which KL and JS are estimated (about 600 points each)


def numbers(a, digits: int = 4) -> list | float | None:
    """An array as nested lists with `digits` significant digits (short JSON), non-finite values as None.
    Vectorised: a 2-D frame has some 10^4 values, and a Python loop over them was half a frame's time."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a)
    with np.errstate(all="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.where(ok & (a != 0), np.abs(a), 1.0))))
        rounded = np.where(ok, np.round(a * scale) / scale, 0.0)
    if ok.all():
        return rounded.tolist()
    out = rounded.astype(object)
    out[~ok] = None
    return out.tolist()


def one_frame(meta: dict, fixed: dict, arrays: dict, epoch: int) -> SnapData:
    return SnapData(meta, np.array([epoch]), {k: np.asarray(v)[None] for k, v in arrays.items()} | fixed)


def target_pdf(target: Target, x: np.ndarray) -> np.ndarray:
    """The target's density in 1-D (closed form, or a KDE of the user's data), as the pictures draw it."""
    dist = getattr(target, "dist", None)
    if dist is not None and hasattr(dist, "pdf"):
        return dist.pdf(x)
    return stats.gaussian_kde(panels.reference(target)[:20_000, 0])(x)


def setup(meta: dict, fixed: dict, target: Target, arrays: dict) -> dict:
    """The fixed parts of the views of one game (sent when it starts or its settings change)."""
    s = one_frame(meta, fixed, arrays, 0)
    out = {"dim": meta["dim"], "columns": meta["columns"], "target": meta["target"], "per_sample": meta["per_sample"]}
    out |= {"verdict": meta["verdict"], "ratio_optimum": meta["ratio_optimum"], "noise_dim": meta["noise_dim"]}
    if meta["dim"] == 1:
        edges, centres = panels.bins(s)
        out["x"], out["pdf"] = numbers(centres), numbers(target_pdf(target, centres))
        out["d_x"] = numbers(s.to_data(fixed["x_grid"], axis=0))
        best = panels.optimal_map(s, target)
        out["z"] = numbers(fixed["z_line"])
        out["opt_map"] = numbers(best[1]) if best is not None else None
        lo, hi = edges[0], edges[-1]
        out["extent"] = [float(min(lo, hi)), float(max(lo, hi))]
    else:
        ext = panels._extent(s)  # the heat map's corners in data units
        out["extent"] = [float(v) for v in ext]
        out["real"] = numbers(s.to_data(fixed["real"]))
        out["warp_shape"] = [int(v) for v in fixed["warp_shape"]]
    return out


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.where(p > 0, p * np.log(p / q), 0.0)))


def divergences(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """KL(real || fake) and JS between two histograms on one grid, in nats (GAN Lab's curves: estimates
    on a grid, to watch them move, not to report). Half a count in every fake bin keeps KL finite."""
    p, f = real / max(real.sum(), 1e-300), fake / max(fake.sum(), 1e-300)
    m = (p + f) / 2
    return _kl(p, (fake + 0.5) / (fake.sum() + 0.5 * fake.size)), (_kl(p, m) + _kl(f, m)) / 2


def main_view(meta: dict, fixed: dict, arrays: dict, epoch: int, pdf: np.ndarray | None) -> dict:
    """Member 0's panels from one capture: 1-D the fake density, D(x) and D*, G's map; 2-D the fake
    points, D's heat map, G's warped grid and G's push on the fake points."""
    s = one_frame(meta, fixed, arrays, epoch)
    out: dict = {"epoch": int(epoch)}
    if "verdict" in arrays:  # D's mean verdict on fixed real and fake batches, per member
        out["verdict"] = numbers(arrays["verdict"])
    if meta["dim"] == 1:
        _, dens = panels.fake_density(s, 0)
        out["density"] = numbers(dens)
        if pdf is not None:  # the target's mass per bin against G's counts
            out["kl_js"] = numbers(divergences(pdf, np.asarray(arrays["hist"], dtype=np.float64).reshape(-1)))
        out["g_map"] = numbers(s.to_data(arrays["g_map"], axis=0))
        if "d_grid" in arrays:
            out["d"] = numbers(arrays["d_grid"])
            if meta["ratio_optimum"] and pdf is not None:
                _, p_g = panels.fake_density(s, 0, smooth=2.0)
                total = pdf + p_g
                out["d_star"] = numbers(np.where(total > 1e-3 * total.max(), pdf / np.maximum(total, 1e-300), np.nan))
        return out
    out["fake"] = numbers(s.to_data(arrays["fake"]))
    real, fake = np.asarray(fixed["real"]).reshape(-1, 2), np.asarray(arrays["fake"]).reshape(-1, 2)
    box = [[min(real[:, i].min(), fake[:, i].min()), max(real[:, i].max(), fake[:, i].max())] for i in (0, 1)]
    if np.isfinite(box).all():  # a DIV_GRID x DIV_GRID grid over both point sets
        hists = (np.histogram2d(*x.T, DIV_GRID, box)[0] for x in (real, fake))
        out["kl_js"] = numbers(divergences(*hists))
    if "warp" in arrays:
        out["warp"] = numbers(s.to_data(arrays["warp"]))
    if "heat" in arrays:
        out["heat"] = numbers(arrays["heat"], 3)
    if "arrows" in arrays:
        out["arrows"] = numbers(np.asarray(arrays["arrows"])[: panels.ARROWS] / np.array(meta["scale"]))
    return out


@torch.no_grad()
def members_view(session, extent: list[float]) -> dict:
    """Every member's samples for the small multiples: 2-D points, 1-D a histogram on the main grid."""
    g = session.game
    K = min(session.config.seeds, MAX_SHOWN)
    n = MEMBER_POINTS_2D if g.target.dim == 2 else MEMBER_SAMPLES_1D
    G = g.G if g.ema is None else g.G.sharing(g.ema)
    x = g.frame.to_data(G.evaluate(session.eval_z[:K, :n])).float().cpu().numpy()
    if g.target.dim == 2:
        return {"points": numbers(x, 3)}
    lo, hi = extent
    hist = np.stack([np.histogram(x[k, :, 0], MEMBER_BINS, (lo, hi))[0] for k in range(K)])
    return {"hist": numbers(hist / n * MEMBER_BINS / max(hi - lo, 1e-12), 3), "range": [lo, hi]}


def rows_view(rows) -> list[dict]:
    """Metric rows (metric_log.LogRow) for the page's curves: per metric, one value per member."""
    return [{"epoch": r.epoch, "metrics": {k: numbers(v) for k, v in r.metrics.items()}} for r in rows]


def history_rows(history: list[dict], members: int) -> list[dict]:
    """metrics.jsonl's rows (an opened run's) grouped per epoch as rows_view gives them."""
    by_epoch: dict[int, dict[int, dict]] = {}
    for r in history:
        by_epoch.setdefault(r["epoch"], {})[r["member"]] = r
    out = []
    for epoch, per in sorted(by_epoch.items()):
        names = [n for n in next(iter(per.values())) if n not in ("epoch", "member", "seed", "status")]
        metrics = {}
        for n in names:
            vals = [per.get(k, {}).get(n) for k in range(members)]
            metrics[n] = numbers([np.nan if v is None or isinstance(v, str) else float(v) for v in vals])
        out.append({"epoch": epoch, "metrics": metrics})
    return out


FRAME_ARRAYS = ("verdict", "hist", "outside", "g_map", "d_grid", "fake", "warp", "heat", "arrows")  # capture.take's


def past_views(snaps: SnapData, pdf: np.ndarray | None) -> list[dict]:
    """An opened run's snapshots.npz as main views, for the time slider (drawn on its own grids)."""
    fixed = {k: v for k, v in snaps.arrays.items() if k not in FRAME_ARRAYS}
    names = [k for k in FRAME_ARRAYS if snaps.has(k)]
    return [
        main_view(snaps.meta, fixed, {k: snaps[k][j] for k in names}, int(e), pdf) for j, e in enumerate(snaps.epochs)
    ]
