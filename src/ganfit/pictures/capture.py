"""What the pictures need, evaluated on the device at log rows: member 0's G and D on fixed grids, and
every member's D on fixed real and fake batches.

A Capture fixes its grids and batches once, for one ensemble; `take` evaluates on them and returns
device tensors, which the training hook (hook.py) keeps until the run ends, so that training reads
nothing back for pictures. Everything is in the working frame; `meta` carries the frame map so that the
panels draw in the data's own units. `capture_once` takes a single snapshot of a loaded run (for
`ganfit report` on a run trained without pictures).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from safetensors.torch import load_file

from ..game import losses, rng
from ..game.game import eval_noise
from ..game.models import discriminator
from ..game.noise import make_noise
from ..game.views import SampleView, make_view
from ..rundir.layout import WEIGHTS
from .snapdata import SnapData

VERDICT_BATCHES = 10  # real and fake batches per member on which D's verdict is taken
POINTS_2D = 500  # fake points drawn (with arrows) in 2-D panels
GRID_1D, GRID_2D, LINES_2D = 256, 64, 13


class Capture:
    """Fixed grids and batches for one ensemble, and the device-side evaluations on them."""

    def __init__(self, parts, eval_z: torch.Tensor):
        c, target, frame = parts.config, parts.target, parts.frame
        self.parts, self.dim = parts, target.dim
        self.member = 0  # whose G and D the panels show (the lab's page may pick another)
        self.device = eval_z.device
        self.loss_name, self.loss = c.loss, losses.get(c.loss)
        self.view = parts.view
        self.per_sample = isinstance(self.view, SampleView)
        self.batch = c.batch
        K, N = eval_z.shape[:2]
        nb = min(VERDICT_BATCHES, N // c.batch)
        self.eval_z = eval_z
        self.verdict_n = nb * c.batch
        # fixed real samples in the frame, from their own stream: the same for every snapshot
        n_real = max(self.verdict_n, POINTS_2D)
        u = rng.fixed(rng.member_keys(c.member_seeds(), "snapshot/real", self.device), n_real * target.n_uniforms)
        self.real = frame.to_frame(target.sample(u.reshape(K, n_real, target.n_uniforms))).float()
        mean_f = target.mean * frame.scale + frame.shift
        std_f = target.std * frame.scale
        # G as the run evaluates it: its moving average where g_ema is on (Game.g_params)
        ema = getattr(parts, "ema", None)
        self.G = parts.G if ema is None else parts.G.sharing(ema)
        with torch.no_grad():  # one look at G's start, so that the fixed range holds its first samples too
            x0 = self.G.member(0)(eval_z[:1, : min(N, 2000)])[0].float().cpu().numpy()
        lo = np.minimum(mean_f - 5 * std_f, np.nanquantile(x0, 0.005, axis=0) if np.isfinite(x0).any() else np.inf)
        hi = np.maximum(mean_f + 5 * std_f, np.nanquantile(x0, 0.995, axis=0) if np.isfinite(x0).any() else -np.inf)
        pad = 0.05 * (hi - lo)
        self.lo, self.hi = lo - pad, hi + pad
        noise = parts.noise
        self.noise_kind, self.noise_dim = noise.kind, noise.dim
        zlo, zhi = (0.0005, 0.9995) if noise.kind == "uniform" else (-3.0, 3.0)
        self.zc = 0.5 if noise.kind == "uniform" else 0.0
        if self.dim == 1:
            self.x_grid = torch.linspace(float(self.lo[0]), float(self.hi[0]), GRID_1D, device=self.device)
            self.z_line = torch.linspace(zlo, zhi, GRID_1D, device=self.device)
            self.z_grid = self._z_points(self.z_line[:, None])
        else:
            self.hx = torch.linspace(float(self.lo[0]), float(self.hi[0]), GRID_2D, device=self.device)
            self.hy = torch.linspace(float(self.lo[1]), float(self.hi[1]), GRID_2D, device=self.device)
            gy, gx = torch.meshgrid(self.hy, self.hx, indexing="ij")
            self.heat_points = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
            pts = torch.linspace(zlo if noise.kind == "uniform" else -2.5, zhi if noise.kind == "uniform" else 2.5, 64)
            lines = torch.linspace(float(pts[0]), float(pts[-1]), LINES_2D)
            if noise.dim == 1:
                self.z_grid = self._z_points(torch.linspace(zlo, zhi, GRID_1D)[:, None].to(self.device))
                self.warp_shape = (1, GRID_1D)
            else:
                a = torch.stack(torch.meshgrid(lines, pts, indexing="ij"), -1).reshape(-1, 2)  # z1 const lines
                b = a.flip(1)  # z2 const lines
                self.z_grid = self._z_points(torch.cat([a, b]).to(self.device))
                self.warp_shape = (2 * LINES_2D, len(pts))
            n = min(N, POINTS_2D)
            if not self.per_sample:
                # whole batches, so that D sees them as it does in training: at least one where N allows
                n = min((N // c.batch) * c.batch, -(-n // c.batch) * c.batch)
            self.n_points = n

    def _z_points(self, first: torch.Tensor) -> torch.Tensor:
        """Noise points varying in the first len(first[0]) coordinates, the rest at the noise's centre."""
        rest = torch.full((len(first), self.noise_dim - first.shape[1]), self.zc, device=first.device)
        return torch.cat([first, rest], 1)[None].float()

    # ---- evaluations (device tensors only)

    def _logits(self, D, x: torch.Tensor, stats: torch.Tensor | None = None) -> torch.Tensor:
        """D's outputs for x [K, n, dim]: per sample with the sample view, else per batch of B."""
        K, n, dim = x.shape
        if self.per_sample:
            feats = x
            if self.view.stddev:  # the batch feature: the std of the batch the samples came from
                s = (stats if stats is not None else x).var(1, unbiased=False, keepdim=True)
                feats = torch.cat([x, (s + 1e-8).sqrt().mean(2, keepdim=True).expand(-1, n, 1)], 2)
            return D(feats)
        nb = n // self.batch
        rows = self.view(x[:, : nb * self.batch].reshape(K * nb, self.batch, dim))
        return D(rows.reshape(K, nb * rows.shape[1], rows.shape[2]))

    @torch.no_grad()
    def take(self, verdict: bool = True, warp: bool = True, arrows: bool = True) -> dict[str, torch.Tensor]:
        """The snapshot's tensors (verdict=False: without every member's D verdict, the costliest part at
        large K, which the lab's live frames draw only for a batch D in 1-D; warp and arrows False: without
        G's warped grid and its push in 2-D, for a live frame whose page hides them)."""
        p = self.parts
        k = self.member
        G0, D0 = self.G.member(k), p.D.member(k) if p.D is not None else None
        out = {}
        fake0 = G0(self.eval_z[k : k + 1])  # [1, N, dim]
        if D0 is not None and self.verdict_n and verdict:
            fake = self.G.evaluate(self.eval_z[:, : self.verdict_n])
            real = self.real[:, : self.verdict_n]
            out["verdict"] = torch.stack(
                [self.loss.verdict(self._logits(p.D, x)).mean((1, 2)) for x in (real, fake)], 1
            )
        if self.dim == 1:
            x = fake0[0, :, 0]
            lo, hi = float(self.lo[0]), float(self.hi[0])
            out["hist"] = torch.histc(x, GRID_1D, lo, hi)
            out["outside"] = torch.stack([(x < lo).sum(), (x > hi).sum()]).float()
            out["g_map"] = G0(self.z_grid)[0, :, 0]
            if D0 is not None and self.per_sample:
                out["d_grid"] = self.loss.verdict(self._logits(D0, self.x_grid[None, :, None], fake0))[0, :, 0]
        else:
            pts = fake0[:, : self.n_points]
            out["fake"] = pts[0]
            if warp:
                out["warp"] = G0(self.z_grid)[0]
            if D0 is not None and self.per_sample:
                out["heat"] = self.loss.verdict(self._logits(D0, self.heat_points[None], fake0))[0, :, 0].reshape(
                    GRID_2D, GRID_2D
                )
            if arrows and D0 is not None and self.n_points and not getattr(self.loss, "needs_real", False):
                out["arrows"] = self._push(D0, pts)
        return out

    def _push(self, D0, pts: torch.Tensor) -> torch.Tensor:
        """-grad of G's loss at each fake point [n, dim]: where G's next step moves it."""
        with torch.enable_grad():
            x = pts.detach().clone().requires_grad_(True)
            loss = self.loss.g(self._logits(D0, x)).sum()
            (g,) = torch.autograd.grad(loss, x)
        return -g[0]

    def meta(self) -> dict:
        p = self.parts
        return {
            "dim": self.dim,
            "loss": self.loss_name,
            "d_view": p.config.d_view,
            "per_sample": self.per_sample,
            "verdict": "probability" if self.loss.probability else "raw output",
            "ratio_optimum": self.loss.ratio_optimum,
            "noise_kind": self.noise_kind,
            "noise_dim": self.noise_dim,
            "scale": p.frame.scale.tolist(),
            "shift": p.frame.shift.tolist(),
            "lo": np.asarray(self.lo).tolist(),
            "hi": np.asarray(self.hi).tolist(),
            "members": int(self.eval_z.shape[0]),
            "eval_samples": int(self.eval_z.shape[1]),
            "batch": self.batch,
            "columns": list(p.target.columns),
            "target": p.target.describe(),
        }

    def fixed(self) -> dict[str, np.ndarray]:
        if self.dim == 1:
            return {"x_grid": self.x_grid.cpu().numpy(), "z_line": self.z_line.cpu().numpy()}
        out = {"hx": self.hx.cpu().numpy(), "hy": self.hy.cpu().numpy()}
        out["real"] = self.real[0, : max(self.n_points, 1)].cpu().numpy()
        out["warp_shape"] = np.array(self.warp_shape)
        return out


def capture_once(run, target) -> SnapData:
    """One snapshot of a loaded run's final weights (G, and D where the weights file holds it)."""
    c = run.config
    noise = make_noise(c.noise)
    D = load_discriminator(run, target.dim)
    parts = SimpleNamespace(
        config=c, target=target, noise=noise, frame=run.frame, view=make_view(c.d_view), G=run.G, D=D
    )
    eval_z = eval_noise(c, noise, "cpu", min(c.eval_samples, 10_000))
    cap = Capture(parts, eval_z)
    frame = cap.take()
    arrays = {k: v[None].float().cpu().numpy() for k, v in frame.items()}
    last = max((r["epoch"] for r in run.history), default=run.summary.get("epochs", 1) - 1)
    return SnapData(cap.meta(), np.array([last]), arrays | cap.fixed())


def load_discriminator(run, dim: int):
    """D from weights.safetensors (it holds D as D.weights.i, D.biases.i and, with spectral norm, its power
    iteration's D.sn_u.i), or None where it cannot be."""
    if run.dir is None or not (run.dir / WEIGHTS).is_file():
        return None
    try:
        tensors = load_file(run.dir / WEIGHTS)
        D = discriminator(run.config, dim, list(range(run.members)))
        with torch.no_grad():
            for name, p in D.named_parameters():
                t = tensors.get(f"D.{name}")
                if t is None or t.shape != p.shape:
                    return None
                p.copy_(t)
        return D
    except Exception:  # a picture is not worth failing a report over: no D, no D panels
        return None
