"""What the pictures need, captured at log time from device buffers, and written once at the end.

`Snapshots.start` (called by train) returns None unless the config asks for pictures or TensorBoard
and the run has a directory. At a log row, `take` writes TensorBoard's records from the host numbers the
log has already computed, and every `snapshot_every` epochs evaluates member 0's G and D on fixed grids
(and every member's D on fixed real and fake batches). Those evaluations stay on the device, appended to
a list: training reads nothing back for them. `finish` stacks the list, copies it to the host once,
writes snapshots.npz and draws the pictures (views.py, animate.py).

Everything captured is in the working frame; `SnapData` carries the frame map so views draw in the data's
own units. `capture_once` takes a single snapshot of a loaded run (for `ganfit report` on a run trained
without pictures).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from . import rng
from .errors import GanfitError
from .models import SampleView

SNAPSHOTS = "snapshots.npz"
PROBABILITY_LOSSES = ("bce", "ns", "minimax", "lsgan")  # D's optimum is p_data / (p_data + p_G) for these
VERDICT_BATCHES = 10  # real and fake batches per member on which D's verdict is taken
POINTS_2D = 500  # fake points drawn (with arrows) in 2-D views
GRID_1D, GRID_2D, LINES_2D = 256, 64, 13


def auto_every(config) -> int:
    """snapshot_every = 0: about 50 frames over the run, never more often than the log."""
    return config.snapshot_every or max(config.log_every, config.epochs // 50)


class Capture:
    """Fixed grids and batches for one ensemble, and the device-side evaluations on them."""

    def __init__(self, parts, eval_z: torch.Tensor):
        c, target, frame = parts.config, parts.target, parts.frame
        self.parts, self.dim = parts, target.dim
        self.device = eval_z.device
        self.loss = getattr(c, "loss", "bce")
        self.view = parts.view
        self.per_sample = isinstance(self.view, SampleView)
        self.batch = c.batch
        K, N = eval_z.shape[:2]
        nb = min(VERDICT_BATCHES, N // c.batch)
        self.eval_z = eval_z
        self.verdict_n = nb * c.batch
        # fixed real samples in the frame, from their own stream: the same for every snapshot
        n_real = max(self.verdict_n, POINTS_2D)
        u = rng.uniform(
            rng.member_keys(c.member_seeds(), "snapshot/real", self.device),
            torch.zeros(1, dtype=torch.int64, device=self.device),
            n_real * target.n_uniforms,
        )[0]
        self.real = frame.to_frame(target.sample(u.reshape(K, n_real, target.n_uniforms)).float())
        mean_f = target.mean * frame.scale + frame.shift
        std_f = target.std * frame.scale
        # G as the run evaluates it: its moving average where g_ema is on (Game.g_params)
        ema, n = getattr(parts, "ema", None), len(parts.G.weights)
        self.G = parts.G if ema is None else parts.G.sharing(ema[:n], ema[n:])
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
                n = (n // c.batch) * c.batch  # whole batches, so that D sees them as it does in training
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

    def verdict(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.loss in ("bce", "ns", "minimax") else logits

    @torch.no_grad()
    def take(self) -> dict[str, torch.Tensor]:
        p = self.parts
        G0, D0 = self.G.member(0), p.D.member(0) if p.D is not None else None
        out = {}
        fake0 = G0(self.eval_z[:1])  # [1, N, dim]
        if D0 is not None and self.verdict_n:
            fake = self.G.evaluate(self.eval_z[:, : self.verdict_n])
            real = self.real[:, : self.verdict_n]
            out["verdict"] = torch.stack([self.verdict(self._logits(p.D, x)).mean((1, 2)) for x in (real, fake)], 1)
        if self.dim == 1:
            x = fake0[0, :, 0]
            lo, hi = float(self.lo[0]), float(self.hi[0])
            out["hist"] = torch.histc(x, GRID_1D, lo, hi)
            out["outside"] = torch.stack([(x < lo).sum(), (x > hi).sum()]).float()
            out["g_map"] = G0(self.z_grid)[0, :, 0]
            if D0 is not None and self.per_sample:
                out["d_grid"] = self.verdict(self._logits(D0, self.x_grid[None, :, None], fake0))[0, :, 0]
        else:
            pts = fake0[:, : self.n_points]
            out["fake"] = pts[0]
            out["warp"] = G0(self.z_grid)[0]
            if D0 is not None and self.per_sample:
                out["heat"] = self.verdict(self._logits(D0, self.heat_points[None], fake0))[0, :, 0].reshape(
                    GRID_2D, GRID_2D
                )
            if D0 is not None and self.n_points:
                out["arrows"] = self._push(D0, pts)
        return out

    def _push(self, D0, pts: torch.Tensor) -> torch.Tensor:
        """-grad of G's loss at each fake point [n, dim]: where G's next step moves it."""
        from .losses import LOSSES

        with torch.enable_grad():
            x = pts.detach().clone().requires_grad_(True)
            loss = LOSSES[self.loss].g(self._logits(D0, x)).sum()
            (g,) = torch.autograd.grad(loss, x)
        return -g[0]

    def meta(self) -> dict:
        p = self.parts
        return {
            "dim": self.dim,
            "loss": self.loss,
            "d_view": p.config.d_view,
            "per_sample": self.per_sample,
            "verdict": "probability" if self.loss in ("bce", "ns", "minimax") else "raw output",
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


@dataclass
class SnapData:
    """Snapshots on the host: `meta` (a dict), `epochs` [F], and arrays with a leading frame axis."""

    meta: dict
    epochs: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def has(self, name: str) -> bool:
        return name in self.arrays

    def to_data(self, x: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Frame units to the data's units, along the last axis (or one coordinate `axis`)."""
        scale, shift = np.array(self.meta["scale"]), np.array(self.meta["shift"])
        if axis is not None:
            return (np.asarray(x) - shift[axis]) / scale[axis]
        return (np.asarray(x) - shift) / scale

    def save(self, path: Path) -> None:
        from .run import atomic_write

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(json.dumps(self.meta)), epochs=self.epochs, **self.arrays)

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> SnapData:
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(meta, z["epochs"], {k: z[k] for k in z.files if k not in ("meta", "epochs")})
        except (OSError, ValueError, KeyError) as e:
            raise GanfitError(f"{path}: not a ganfit snapshots file ({e})") from None


class Snapshots:
    """The training loop's one hook for pictures and TensorBoard (see the module's doc)."""

    def __init__(self, game, eval_z: torch.Tensor, run_dir: Path):
        c = game.config
        self.game, self.run_dir, self.every = game, run_dir, auto_every(c)
        self.capture = Capture(game, eval_z) if c.pictures else None
        if c.pictures:
            from . import painter

            painter.start()  # now, so that its imports overlap training
        self.frames: list[dict[str, torch.Tensor]] = []
        self.epochs: list[int] = []
        self.window = -1
        self.tb = None
        if c.tensorboard:
            from .tensorboard import EventLog

            self.tb = EventLog(run_dir / "tensorboard", c.member_seeds(), game.target.columns)

    @classmethod
    def start(cls, game, eval_z: torch.Tensor, run_dir: Path | None) -> Snapshots | None:
        c = game.config
        if run_dir is None or not (c.pictures or c.tensorboard):
            return None
        return cls(game, eval_z, run_dir)

    def take(self, epoch: int, row: dict[str, np.ndarray], samples: np.ndarray) -> None:
        """At a log row: TensorBoard from the log's host numbers; a picture snapshot when one is due."""
        self.write_row(epoch, row, samples)
        self.take_frame(epoch)

    def write_row(self, epoch: int, row: dict[str, np.ndarray], samples: np.ndarray) -> None:
        """TensorBoard's scalars and histograms of a log row (whenever its metrics are ready)."""
        if self.tb:
            self.tb.write(epoch, row, samples)

    def take_frame(self, epoch: int) -> None:
        """A picture snapshot of the live weights, when one is due: call it at the epoch itself."""
        last = epoch == self.game.config.epochs - 1
        if self.capture and (epoch // self.every != self.window or last) and epoch not in self.epochs:
            self.window = epoch // self.every
            self.frames.append(self.capture.take())
            self.epochs.append(epoch)

    def data(self) -> SnapData | None:
        if not self.frames:
            return None
        keys = self.frames[0].keys()
        arrays = {k: torch.stack([f[k] for f in self.frames]).float().cpu().numpy() for k in keys}
        return SnapData(self.capture.meta(), np.array(self.epochs), arrays | self.capture.fixed())

    def finish(self, run) -> list[Path]:
        """After training: write snapshots.npz and the pictures; return the files written."""
        if self.tb:
            self.tb.close()
        snaps = self.data()
        if snaps is None:
            return []
        from . import painter, views

        snaps.save(self.run_dir / SNAPSHOTS)
        gif = None
        if len(snaps.epochs) > 1:
            gif = painter.submit(self.run_dir / SNAPSHOTS, run.config.target, self.run_dir / "evolution.gif")
        return views.write_all(snaps, self.game.target, run.history, self.run_dir, gif)


def capture_once(run, target) -> SnapData | None:
    """One snapshot of a loaded run's final weights (G, and D where the weights file holds it)."""
    from .models import make_view
    from .noise import make_noise

    c = run.config
    noise = make_noise(c.noise)
    D = load_discriminator(run, target.dim)
    parts = SimpleNamespace(
        config=c, target=target, noise=noise, frame=run.frame, view=make_view(c.d_view), G=run.G, D=D
    )
    keys = rng.member_keys(c.member_seeds(), "eval", "cpu")
    n = min(c.eval_samples, 10_000)
    u = rng.uniform(keys, torch.zeros(1, dtype=torch.int64), n * noise.n_uniforms)[0]
    eval_z = noise.sample(u.reshape(run.members, n, noise.n_uniforms))
    cap = Capture(parts, eval_z)
    frame = cap.take()
    arrays = {k: v[None].float().cpu().numpy() for k, v in frame.items()}
    last = max((r["epoch"] for r in run.history), default=run.summary.get("epochs", 1) - 1)
    return SnapData(cap.meta(), np.array([last]), arrays | cap.fixed())


def load_discriminator(run, dim: int):
    """D from weights.safetensors (it holds D as D.weights.i / D.biases.i), or None where it cannot be."""
    if run.dir is None or not (run.dir / "weights.safetensors").is_file():
        return None
    from safetensors.torch import load_file

    from .models import MLP, make_view, parse_activations

    c = run.config
    try:
        tensors = load_file(run.dir / "weights.safetensors")
        acts = parse_activations(c.d_activations, "d_activations")
        sizes = [make_view(c.d_view).features(c.batch, dim)] + [c.d_hidden] * len(acts) + [1]
        D = MLP(sizes, acts, list(range(run.members)), "init_d", "cpu")
        with torch.no_grad():
            for name, p in D.named_parameters():
                t = tensors.get(f"D.{name}")
                if t is None or t.shape != p.shape:
                    return None
                p.copy_(t)
        if any(k.startswith("D.sn_u") for k in tensors):  # spectral norm: use W / sigma as trained
            weights = [w / _sigma(w) for w in D.weights]
            with torch.no_grad():
                for p, w in zip(D.weights, weights):
                    p.copy_(w)
        return D
    except Exception:  # a picture is not worth failing a report over: no D, no D views
        return None


def _sigma(w: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(w.detach(), ord=2)[:, None, None]


__all__ = ["Snapshots", "SnapData", "Capture", "capture_once", "auto_every", "SNAPSHOTS"]
