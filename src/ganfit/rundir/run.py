"""A trained ensemble: what `train` returns and `load` reads back from a run directory.

Every file is written to a temporary name and renamed (files.atomic_write); weights are safetensors,
never a pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..config import Config
from ..errors import GanfitError
from ..files import atomic_write, io_reason, write_text
from ..game import rng
from ..game.frame import Frame
from ..game.models import MLP, Generator, generator
from ..game.noise import make_noise
from .layout import CONFIG, METRICS, SUMMARY, WEIGHTS, read_metrics, read_summary


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

    @property
    def best_member(self) -> int:
        """The member chosen on validation (summary.json's best_member), else member 0."""
        best = self.summary.get("best_member")
        return best if isinstance(best, int) and 0 <= best < self.members else 0

    def _member(self, member: int | None) -> int:
        member = self.best_member if member is None else member
        if isinstance(member, bool) or not isinstance(member, int) or not 0 <= member < self.members:
            raise GanfitError(f"member {member!r} out of range: this run has {self.members} member(s)")
        return member

    def generator(self, member: int | None = None) -> torch.nn.Module:
        """A plain torch module of one member's G (default: the best member) that maps noise [N, noise_dim]
        to samples [N, dim] in the data's units; draw its noise with `noise`."""
        return Generator(self.G, self._member(member), self.frame).eval()

    def noise(self, n: int, seed: int = 0, member: int | None = None) -> torch.Tensor:
        """The noise [n, noise_dim] that `sample(n, member, seed)` (and `ganfit sample`) feeds to G."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise GanfitError(f"number of samples must be >= 1 (a whole number), got {n!r}")
        noise, member = make_noise(self.config.noise), self._member(member)
        u = rng.fixed(rng.member_keys([seed], f"sample/{member}", self.G.weights[0].device), n * noise.n_uniforms)
        return noise.sample(u.reshape(n, noise.n_uniforms))

    def sample(self, n: int, member: int | None = None, seed: int = 0) -> np.ndarray:
        """n samples [n, dim] from one member's generator (default: the best member), in the data's units."""
        with torch.no_grad():
            return self.generator(member)(self.noise(n, seed, member)).cpu().numpy()

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

    def write_results(self) -> None:
        """weights.safetensors and summary.json into the run's directory (the end of a run)."""
        try:
            self.save_weights(self.dir / WEIGHTS)
            write_text(self.dir / SUMMARY, json.dumps(self.summary, indent=2) + "\n")
        except (OSError, SafetensorError) as e:
            raise GanfitError(f"cannot write results in {self.dir}: {io_reason(e)}") from None


def load(run_dir: str | Path) -> Run:
    """Read a run directory back: its config, generator weights, summary and metric history."""
    d = Path(run_dir)
    if not d.is_dir():
        raise GanfitError(f"run directory {d}: no such directory")
    if not (d / CONFIG).is_file():
        raise GanfitError(f"run directory {d}: no config.toml (not a ganfit run?)")
    config = Config.from_toml(d / CONFIG)
    path = d / WEIGHTS
    if not path.is_file():
        raise GanfitError(f"run directory {d}: no {WEIGHTS} (did training finish?)")
    try:
        tensors = load_file(path)
        with safe_open(path, "pt") as fh:
            meta = fh.metadata() or {}
        info = json.loads(meta["ganfit"])
        members, columns = int(info["members"]), list(info["columns"])
        scale, shift = np.array(info["scale"], dtype=np.float64), np.array(info["shift"], dtype=np.float64)
    except (SafetensorError, OSError, KeyError, ValueError) as e:
        raise GanfitError(f"{path}: not a ganfit weights file ({e})") from None
    G = generator(config, len(scale), list(range(members)))
    own = {f"G.{name}": p for name, p in G.named_parameters()}
    for name, p in own.items():
        t = tensors.get(name)
        if t is None or t.shape != p.shape:
            got = "missing" if t is None else f"shape {tuple(t.shape)}"
            raise GanfitError(f"{path}: {name} is {got}, config.toml needs {tuple(p.shape)}")
        with torch.no_grad():
            p.copy_(t)
    return Run(config, G, None, Frame(scale, shift), columns, d, read_summary(d), read_metrics(d / METRICS))
