"""A trained ensemble and its run directory: what `train` returns and `load` reads back.

A run directory holds config.toml (the full resolved config), metrics.jsonl, summary.json,
weights.safetensors and the plots. Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import rng
from .config import Config
from .errors import GanfitError
from .models import MLP, parse_activations
from .noise import make_noise

WEIGHTS = "weights.safetensors"


_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then rename onto `path`: readers see the old file or the new, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it owner-only; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def io_reason(e: Exception) -> str:
    """Why a write failed, from Python's OSError or from safetensors' error (which wraps the OS one)."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e).rpartition("I/O error: ")[2].split(" (os error")[0]


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def jsonable(v: Any) -> Any:
    """numpy scalars to Python; NaN and infinities to null (JSON has neither)."""
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):  # a per-member vector, such as a mixture's mode proportions
        return jsonable(v.tolist())
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


@dataclass
class Frame:
    """The affine map from the data's units to the working frame: frame = data * scale + shift."""

    scale: np.ndarray
    shift: np.ndarray

    @classmethod
    def for_target(cls, target, config: Config) -> Frame:
        if not config.normalize:
            return cls(np.ones(target.dim), np.zeros(target.dim))
        scale = config.frame_std / target.std
        return cls(scale, config.frame_mean - scale * target.mean)

    def is_identity(self) -> bool:
        return bool(np.all(self.scale == 1.0) and np.all(self.shift == 0.0))

    def to_frame(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_identity():
            return x
        return x * torch.as_tensor(self.scale, dtype=x.dtype, device=x.device) + torch.as_tensor(
            self.shift, dtype=x.dtype, device=x.device
        )

    def to_data(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_identity():
            return x
        scale = torch.as_tensor(self.scale, dtype=torch.float64, device=x.device)
        shift = torch.as_tensor(self.shift, dtype=torch.float64, device=x.device)
        return ((x.double() - shift) / scale).to(x.dtype)


@dataclass
class Run:
    """A trained ensemble of K GANs: weights, config, history and summary."""

    config: Config
    G: MLP
    D: MLP | None
    frame: Frame
    columns: list[str]
    dir: Path | None = None
    summary: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    @property
    def members(self) -> int:
        return self.G.members

    def sample(self, n: int, member: int = 0, seed: int = 0) -> np.ndarray:
        """n samples [n, dim] from member `member`'s generator, in the data's own units."""
        if not 0 <= member < self.members:
            raise GanfitError(f"member {member} out of range: this run has {self.members} member(s)")
        if n < 1:
            raise GanfitError(f"number of samples must be >= 1, got {n}")
        noise = make_noise(self.config.noise)
        device = self.G.weights[0].device
        keys = rng.member_keys([seed], f"sample/{member}", device)
        u = rng.uniform(keys, torch.zeros(1, dtype=torch.int64, device=device), n * noise.n_uniforms)
        z = noise.sample(u.reshape(1, n, noise.n_uniforms))
        with torch.no_grad():
            x = self.G.member(member)(z)[0]
        return self.frame.to_data(x).cpu().numpy()

    def member_history(self, name: str, member: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rows = [r for r in self.history if r["member"] == member]
        return np.array([r["epoch"] for r in rows]), np.array([np.nan if r[name] is None else r[name] for r in rows])

    def save_weights(self, path: Path) -> None:
        tensors = {f"G.{name}": p.detach().cpu().contiguous() for name, p in self.G.named_parameters()}
        if self.D is not None:
            tensors |= {f"D.{name}": p.detach().cpu().contiguous() for name, p in self.D.named_parameters()}
        # One metadata entry: safetensors keeps metadata in a hash map whose order varies between
        # processes, and a resumed run must write the very same bytes as an uninterrupted one.
        info = {
            "members": self.members,
            "scale": self.frame.scale.tolist(),
            "shift": self.frame.shift.tolist(),
            "columns": self.columns,
        }
        meta = {"ganfit": json.dumps(info, sort_keys=True)}
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def generator_for(config: Config, dim: int, seeds: list[int], device: str = "cpu") -> MLP:
    """G: noise.dim -> g_hidden (x depth) -> dim, one member per seed."""
    acts = parse_activations(config.g_activations, "g_activations")
    noise = make_noise(config.noise)
    return MLP([noise.dim] + [config.g_hidden] * len(acts) + [dim], acts, seeds, "init_g", device)


def load(run_dir: str | Path) -> Run:
    """Read a run directory back: its config, generator weights, summary and metric history."""
    d = Path(run_dir)
    if not d.is_dir():
        raise GanfitError(f"run directory {d}: no such directory")
    if not (d / "config.toml").is_file():
        raise GanfitError(f"run directory {d}: no config.toml (not a ganfit run?)")
    config = Config.from_toml(d / "config.toml")
    path = d / WEIGHTS
    if not path.is_file():
        raise GanfitError(f"run directory {d}: no {WEIGHTS} (did training finish?)")
    try:
        tensors = load_file(path)
        from safetensors import safe_open

        with safe_open(path, "pt") as fh:
            meta = fh.metadata() or {}
        info = json.loads(meta["ganfit"])
        members, columns = int(info["members"]), list(info["columns"])
        scale, shift = np.array(info["scale"], dtype=np.float64), np.array(info["shift"], dtype=np.float64)
    except (SafetensorError, OSError, KeyError, ValueError) as e:
        raise GanfitError(f"{path}: not a ganfit weights file ({e})") from None
    G = generator_for(config, len(scale), list(range(members)))
    own = {f"G.{name}": p for name, p in G.named_parameters()}
    for name, p in own.items():
        t = tensors.get(name)
        if t is None or t.shape != p.shape:
            got = "missing" if t is None else f"shape {tuple(t.shape)}"
            raise GanfitError(f"{path}: {name} is {got}, config.toml needs {tuple(p.shape)}")
        with torch.no_grad():
            p.copy_(t)
    summary = json.loads((d / "summary.json").read_text()) if (d / "summary.json").is_file() else {}
    history = []
    if (d / "metrics.jsonl").is_file():
        history = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return Run(config, G, None, Frame(scale, shift), columns, d, summary, history)
