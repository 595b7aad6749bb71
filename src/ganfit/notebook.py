"""ganfit in a notebook: how a Run shows itself (`Run._repr_html_`), and a live view of the game that
redraws in place at each metric row while training goes on (a callback, as GAN Lab does in the browser).

    run = ganfit.train(config, callbacks=[ganfit.notebook.LiveView()])
    run            # the outcome, the members, the curves
"""

from __future__ import annotations

import html
import io

import numpy as np

from .pictures.mpl import subplots

MAIN = ("ks", "w1", "sw", "val_w1", "val_sw")  # the metrics worth a curve, where a run has them
MAX_ROWS = 16


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}" if np.isfinite(v) else "—"
    return "—" if v is None else str(v)


def sparkline(epochs: list[int], values: list[float], width: int = 220, height: int = 44) -> str:
    """A small inline SVG of a curve (no picture file, no matplotlib)."""
    pts = [(e, v) for e, v in zip(epochs, values) if v is not None and np.isfinite(v)]
    if len(pts) < 2:
        return ""
    e, v = np.array(pts, dtype=float).T
    x = (e - e.min()) / max(np.ptp(e), 1e-12) * (width - 4) + 2
    y = height - 2 - (v - v.min()) / max(np.ptp(v), 1e-12) * (height - 4)
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    return (
        f'<svg width="{width}" height="{height}" style="vertical-align: middle">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{path}"/></svg>'
    )


def _curves(history: list[dict]) -> list[str]:
    """One sparkline per main metric: the median over members at each logged epoch."""
    out = []
    for name in MAIN:
        rows = [r for r in history if isinstance(r.get(name), (int, float))]
        if not rows:
            continue
        epochs = sorted({r["epoch"] for r in rows})
        med = [float(np.median([r[name] for r in rows if r["epoch"] == e])) for e in epochs]
        line = sparkline(epochs, med)
        if line:
            out.append(f"<div><code>{name}</code>, median: {line} {_fmt(med[-1])} at epoch {epochs[-1]}</div>")
    return out


def run_html(run) -> str:
    """A Run as a small HTML block: outcome, members (the first 16), the curves; escaped throughout."""
    s, esc = run.summary, html.escape
    head = f"<b>ganfit run</b> {esc(str(run.dir or '(in memory)'))}: {run.members} member(s)"
    parts = [f"<div>{head}, {esc(str(s.get('status', '—')))} after {esc(str(s.get('epochs', '—')))} epochs</div>"]
    if "learned" in s:
        parts.append(
            f"<div><b>{esc(str(s['learned']))}/{esc(str(s.get('members_total')))}</b> learned"
            f" ({esc(str(s.get('criterion')))})</div>"
        )
    if s.get("best_member") is not None:
        parts.append(f"<div>best member on validation: <b>{esc(str(s['best_member']))}</b></div>")
    parts += _curves(run.history)
    members = s.get("members") or []
    keys = [k for k in ("member", "seed", "status", "learned", *MAIN, "mean", "std") if any(k in m for m in members)]
    if members:
        head = "".join(f"<th>{esc(k)}</th>" for k in keys)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(_fmt(m.get(k)))}</td>" for k in keys) + "</tr>" for m in members[:MAX_ROWS]
        )
        more = f"<div>… and {len(members) - MAX_ROWS} more (summary.json)</div>" if len(members) > MAX_ROWS else ""
        parts.append(f"<table><tr>{head}</tr>{body}</table>{more}")
    return '<div class="ganfit-run">' + "".join(parts) + "</div>"


class LiveView:
    """A callback that redraws, in place in the notebook cell, member 0's samples over the data (1-D: a
    histogram over the target's; 2-D: the points) and the median of a metric so far, at each metric row."""

    def __init__(self, member: int = 0, size: tuple[float, float] = (9.0, 3.2)):
        self.member, self.size, self.handle = member, size, None

    def png(self, row) -> bytes:
        """The live view of one metric row as PNG bytes."""
        fig, (left, right) = subplots(1, 2, figsize=self.size)
        x = row.samples[self.member].reshape(len(row.samples[self.member]), -1)
        ref = row.target.reference(5000)
        if x.shape[1] == 1:
            left.hist(ref[:, 0], 60, density=True, histtype="step", color="C3", lw=1.5, label="target")
            left.hist(x[:, 0], 60, density=True, color="C0", alpha=0.5, label=f"G, member {self.member}")
            left.set(xlabel=row.target.columns[0], ylabel="density")
        else:
            left.scatter(*ref[:1500].T, s=3, color="C3", alpha=0.4, label="target")
            left.scatter(*x[:1500].T, s=3, color="C0", alpha=0.4, label=f"G, member {self.member}")
            left.set(xlabel=row.target.columns[0], ylabel=row.target.columns[1])
        left.set_title(f"epoch {row.epoch}")
        left.legend(fontsize=8)
        name = next((n for n in MAIN if n in row.metrics), None)
        if name:
            rows = [r for r in row.history if isinstance(r.get(name), (int, float))]
            epochs = sorted({r["epoch"] for r in rows})
            right.plot(epochs, [np.median([r[name] for r in rows if r["epoch"] == e]) for e in epochs], color="C0")
            right.set(xlabel="epoch", title=f"median {name} over the members")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()

    def __call__(self, row) -> None:
        # IPython comes with the notebook, not with ganfit: the live view is imported only where it draws
        from IPython.display import Image, display

        image = Image(data=self.png(row))
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)
