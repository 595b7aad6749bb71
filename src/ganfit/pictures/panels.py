"""GAN-Lab-style views of a run (panels), drawn from its snapshots (snapdata.py, taken by capture.py), in the
data's own units.

1-D: the fake density and CDF over the target's; D's output beside the optimal D*(x) = p_data / (p_data
+ p_G) (a per-sample D), or D's verdict on real and fake batches over epochs (a batch D); G's map z -> G(z)
beside the optimal monotone transport map F_target^-1(F_noise(z)). 2-D: D's output as a heat map with real
and fake points and the direction G's loss pushes each fake point; G's warped noise grid. Each `draw_*`
draws frame i of a SnapData on one axes, so the static PNGs and the animations (animate.py) share them.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.ndimage import gaussian_filter1d

from ..game.losses import LOSSES
from .mpl import colormaps

REAL, FAKE, D_COLOR, OPT = "C3", "C0", "C2", "k"
ARROWS = 150  # fake points that get an arrow in 2-D views (of POINTS_2D drawn)


# ---- the target's curves: closed forms, or the user's data


def reference(target) -> np.ndarray:
    """Samples [n, dim] of the target in the data's units: the user's data, or its fixed reference sample."""
    return target.reference(200_000)


def _pdf(target, x: np.ndarray) -> np.ndarray:
    dist = getattr(target, "dist", None)
    if dist is not None and hasattr(dist, "pdf"):
        return dist.pdf(x)
    ref = reference(target)[:, 0]
    return stats.gaussian_kde(ref[:20_000])(x)


def _cdf(target, x: np.ndarray) -> np.ndarray:
    dist = getattr(target, "dist", None)
    if dist is not None and hasattr(dist, "cdf"):
        return dist.cdf(x)
    ref = np.sort(reference(target)[:, 0])
    return np.searchsorted(ref, x, side="right") / len(ref)


def _ppf(target, q: np.ndarray) -> np.ndarray:
    dist = getattr(target, "dist", None)
    if dist is not None and hasattr(dist, "ppf"):
        return dist.ppf(q)
    return np.quantile(reference(target)[:, 0], q)


# ---- 1-D


def bins(s):
    """Bin edges and centres of the snapshot histogram, in data units."""
    edges = s.to_data(np.linspace(s.meta["lo"][0], s.meta["hi"][0], len(s["hist"][0]) + 1), axis=0)
    return edges, 0.5 * (edges[1:] + edges[:-1])


def fake_density(s, i: int, smooth: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Member 0's fake density at frame i on the histogram's centres (data units)."""
    edges, centres = bins(s)
    counts = s["hist"][i]
    n = counts.sum() + s["outside"][i].sum()
    dens = counts / max(n, 1) / np.diff(edges)
    return centres, gaussian_filter1d(dens, smooth) if smooth else dens


def _density_ylim(s, target, grid) -> float:
    dens = np.stack([fake_density(s, j)[1] for j in range(len(s.epochs))])
    top = float(np.max(_pdf(target, grid)))
    return 1.3 * max(top, min(float(np.percentile(dens, 99.5)), 3 * top), 1e-9)


def draw_density(ax, s, i: int, target):
    """Member 0's fake density over the target's. Like every draw_*: draws frame i and returns
    (update, artists): update(j) moves the changing artists to frame j (the animation's blitting)."""
    edges, centres = bins(s)
    grid = np.linspace(edges[0], edges[-1], 400)
    ax.plot(grid, _pdf(target, grid), color=REAL, lw=2, label="target density")
    bars = ax.stairs(fake_density(s, i)[1], edges, fill=True, color=FAKE, alpha=0.45, label="G's samples, member 0")
    ax.set(xlabel=s.meta["columns"][0], ylabel="density", xlim=(edges[0], edges[-1]))
    ax.set_ylim(0, _density_ylim(s, target, grid))

    def update(j):
        bars.set_data(fake_density(s, j)[1])
        out = s["outside"][j].sum() / max(s["hist"][j].sum() + s["outside"][j].sum(), 1)
        note = f" ({out:.0%} outside the axes)" if out >= 0.005 else ""
        ax.set_title(f"fake vs real density, epoch {s.epochs[j]}{note}")
        return [bars, ax.title]

    update(i)
    return update, [bars, ax.title]


def fake_cdf(s, j: int) -> np.ndarray:
    counts, below = s["hist"][j], s["outside"][j][0]
    n = counts.sum() + s["outside"][j].sum()
    return np.concatenate([[below], below + np.cumsum(counts)]) / max(n, 1)


def draw_cdf(ax, s, i: int, target):
    edges, _ = bins(s)
    ax.plot(edges, _cdf(target, edges), color=REAL, lw=2, label="target CDF")
    (line,) = ax.plot(edges, fake_cdf(s, i), color=FAKE, lw=1.6, drawstyle="steps-post", label="G's CDF, member 0")
    ax.set(xlabel=s.meta["columns"][0], ylabel="P(X ≤ x)", ylim=(-0.02, 1.02), xlim=(edges[0], edges[-1]))

    def update(j):
        line.set_ydata(fake_cdf(s, j))
        ax.set_title(f"CDF, epoch {s.epochs[j]}")
        return [line, ax.title]

    update(i)
    return update, [line, ax.title]


def optimal_d(s, i: int, target) -> tuple[np.ndarray, np.ndarray]:
    """D*(x) = p_data / (p_data + p_G) on the histogram's centres, p_G a smoothed histogram of G's samples."""
    centres, p_g = fake_density(s, i, smooth=2.0)
    p_d = _pdf(target, centres)
    total = p_d + p_g
    d_star = np.where(total > 1e-3 * total.max(), p_d / np.maximum(total, 1e-300), np.nan)
    return centres, d_star


def draw_discriminator(ax, s, i: int, target):
    """D(x) beside D*(x) for a per-sample D; D's verdict on real and fake batches otherwise."""
    if not s.has("d_grid"):
        return draw_verdict(ax, s, i)
    x = s.to_data(s["x_grid"], axis=0)
    star = None
    if s.meta.get("ratio_optimum", s.meta["loss"] in LOSSES and LOSSES[s.meta["loss"]].ratio_optimum):
        centres, d_star = optimal_d(s, i, target)
        (star,) = ax.plot(centres, d_star, color=OPT, lw=1.5, ls="--", label="optimal D* = p_data / (p_data + p_G)")
        ax.set_ylim(-0.05, 1.05)
    else:
        d = s["d_grid"][np.isfinite(s["d_grid"])]
        if d.size:
            ax.set_ylim(d.min() - 0.05 * np.ptp(d), d.max() + 0.05 * np.ptp(d) + 1e-9)
    (line,) = ax.plot(x, s["d_grid"][i], color=D_COLOR, lw=2, label=f"D(x), member 0 ({s.meta['verdict']})")
    ax.axhline(0.5 if s.meta["verdict"] == "probability" else 0.0, color="0.6", lw=0.8)
    ax.set(xlabel=s.meta["columns"][0], ylabel="D(x)", xlim=(x[0], x[-1]))

    def update(j):
        line.set_ydata(s["d_grid"][j])
        if star is not None:
            star.set_ydata(optimal_d(s, j, target)[1])
        ax.set_title(f"what D says of each x, epoch {s.epochs[j]}")
        return [a for a in (line, star, ax.title) if a is not None]

    return update, update(i)


def draw_verdict(ax, s, i: int, most: int = 100):
    """D's mean verdict on fixed real and fake batches, epochs up to frame i: members faint, member 0 bold."""
    if not s.has("verdict"):
        ax.text(0.5, 0.5, "no D in this run's files", ha="center", va="center", transform=ax.transAxes)
        return (lambda j: []), []
    v, e = s["verdict"], s.epochs
    K = v.shape[1]
    lines = []  # (line, member or "median", which)
    for which, color, name in ((0, REAL, "real batches"), (1, FAKE, "fake batches")):
        for k in range(1, min(K, most)):
            lines.append((ax.plot([], [], color=color, lw=0.6, alpha=0.2)[0], k, which))
        if K > 1:
            lines.append((ax.plot([], [], color=color, lw=1.2, ls=":", label=f"{name}, median of {K}")[0], -1, which))
        lines.append((ax.plot([], [], color=color, lw=2, label=f"{name}, member 0")[0], 0, which))
    prob = s.meta["verdict"] == "probability"
    if prob:
        ax.axhline(0.5, color="0.5", lw=0.8, ls="--", label="0.5: D cannot tell")
        ax.set_ylim(-0.02, 1.02)
    elif np.isfinite(v).any():
        lo, hi = np.nanpercentile(v, [0.5, 99.5])
        ax.set_ylim(lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9))
    ax.set_xlim(e[0], max(e[-1], e[0] + 1))
    what = "P(real)" if prob else "D's output"
    ax.set(xlabel="epoch", ylabel=f"mean {what}")

    def update(j):
        for line, k, which in lines:
            y = np.median(v[: j + 1, :, which], 1) if k == -1 else v[: j + 1, k, which]
            line.set_data(e[: j + 1], y)
        ax.set_title(f"D's verdict ({s.meta['d_view']}), epoch {e[j]}")
        return [x[0] for x in lines] + [ax.title]

    return update, update(i)


def optimal_map(s, target) -> tuple[np.ndarray, np.ndarray] | None:
    """F_target^-1(F_noise(z)) on the snapshot's z line, or None where noise has more than one dim."""
    if s.meta["noise_dim"] != 1:
        return None
    z = s["z_line"]
    u = z if s.meta["noise_kind"] == "uniform" else stats.norm.cdf(z)
    return z, _ppf(target, np.clip(u, 1e-6, 1 - 1e-6))


def draw_generator(ax, s, i: int, target):
    z = s["z_line"]
    best = optimal_map(s, target)
    if best is not None:
        ax.plot(z, best[1], color=OPT, lw=1.5, ls="--", label="optimal monotone map F_target⁻¹(F_noise(z))")
        ax.plot(z, best[1][::-1], color=OPT, lw=0.8, ls=":", alpha=0.6, label="its mirror (also a valid map)")
    (line,) = ax.plot(z, s.to_data(s["g_map"][i], axis=0), color=FAKE, lw=2, label="G(z), member 0")
    extra = "" if s.meta["noise_dim"] == 1 else f" (z₁; the other {s.meta['noise_dim'] - 1} noise dims at centre)"
    ax.set(xlabel=f"z ({s.meta['noise_kind']} noise){extra}", ylabel=f"G(z) = {s.meta['columns'][0]}")
    lo, hi = s.to_data(np.array(s.meta["lo"][0]), 0), s.to_data(np.array(s.meta["hi"][0]), 0)
    ax.set_ylim(min(lo, hi), max(lo, hi))

    def update(j):
        line.set_ydata(s.to_data(s["g_map"][j], axis=0))
        ax.set_title(f"G's map, epoch {s.epochs[j]}")
        return [line, ax.title]

    return update, update(i)


# ---- 2-D


def _extent(s):
    x = s.to_data(np.array([s.meta["lo"][0], s.meta["hi"][0]]), axis=0)
    y = s.to_data(np.array([s.meta["lo"][1], s.meta["hi"][1]]), axis=1)
    return [x[0], x[1], y[0], y[1]]


def _arrows(s, j: int, span: float) -> np.ndarray:
    a = s["arrows"][j][:ARROWS] / np.array(s.meta["scale"])  # a gradient step in the frame, seen in data units
    length = np.hypot(a[:, 0], a[:, 1])
    ok = np.isfinite(length)
    ref = np.percentile(length[ok], 90) if ok.any() and length[ok].any() else 1.0
    return np.where(ok[:, None], a / max(ref, 1e-300) * 0.04 * span, 0.0)


def draw_field(ax, s, i: int):
    """D's output as a heat map, real and fake points, and arrows: -grad of G's loss at each fake point
    (lengths relative: the 90th percentile is drawn as 4% of the plot). High D (real) is red, like the
    real points; low D (fake) is blue, like the fake points."""
    ext = _extent(s)
    span = min(ext[1] - ext[0], ext[3] - ext[2])
    changing = [ax.title]
    im = None
    if s.has("heat"):
        prob = s.meta["verdict"] == "probability"
        h = s["heat"]
        lo, hi = (0, 1) if prob else (np.nanmin(h), np.nanmax(h))
        im = ax.imshow(h[i], origin="lower", extent=ext, aspect="auto", cmap="RdBu_r", vmin=lo, vmax=hi, alpha=0.75)
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="D(x)" + (": P(real)" if prob else ""))
        changing.append(im)
    real = s.to_data(s["real"])
    ax.scatter(real[:, 0], real[:, 1], s=9, color=REAL, edgecolors="white", linewidths=0.3, zorder=3, label="real")
    fake = ax.scatter(*s.to_data(s["fake"][i]).T, s=6, color=FAKE, alpha=0.8, label="fake, member 0")
    changing.append(fake)
    quiver = None
    if s.has("arrows"):
        f, a = s.to_data(s["fake"][i])[:ARROWS], _arrows(s, i, span)
        quiver = ax.quiver(
            f[:, 0],
            f[:, 1],
            a[:, 0],
            a[:, 1],
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.0025,
            color="k",
            alpha=0.7,
            label="G's push (−∇ G loss)",
        )
        changing.append(quiver)
    ax.set(xlim=ext[:2], ylim=ext[2:], xlabel=s.meta["columns"][0], ylabel=s.meta["columns"][1])
    what = "D's heat map, " if im is not None else ""

    def update(j):
        if im is not None:
            im.set_data(s["heat"][j])
        f = s.to_data(s["fake"][j])
        fake.set_offsets(f)
        if quiver is not None:
            a = _arrows(s, j, span)
            quiver.set_offsets(f[:ARROWS])
            quiver.set_UVC(a[:, 0], a[:, 1])
        ax.set_title(f"{what}points and G's push, epoch {s.epochs[j]}")
        return changing

    return update, update(i)


def draw_warp(ax, s, i: int):
    """G's image of a grid of noise: lines of constant z₁ (and z₂), coloured by the line's value."""
    ext = _extent(s)
    real = s.to_data(s["real"])
    ax.scatter(real[:, 0], real[:, 1], s=4, color=REAL, alpha=0.25, label="real")
    n_lines, pts = (int(v) for v in s["warp_shape"])
    cmap = colormaps["viridis"]
    half = n_lines // 2 if n_lines > 1 else 1
    lines = [
        ax.plot([], [], color=cmap((j % half) / max(half - 1, 1)), lw=1.0 if n_lines > 1 else 2.0)[0]
        for j in range(n_lines)
    ]
    ax.plot([], [], color=cmap(0.5), lw=1.0, label="G(z) along lines of constant z₁ or z₂" if n_lines > 1 else "G(z)")
    ax.set(xlim=ext[:2], ylim=ext[2:], xlabel=s.meta["columns"][0], ylabel=s.meta["columns"][1])
    what = "G's warped noise grid" if n_lines > 1 else "G's image of the noise line"

    def update(j):
        w = s.to_data(s["warp"][j]).reshape(n_lines, pts, 2)
        for line, xy in zip(lines, w):
            line.set_data(xy[:, 0], xy[:, 1])
        ax.set_title(f"{what}, epoch {s.epochs[j]}")
        return lines + [ax.title]

    return update, update(i)
