"""weights.safetensors: G's and D's weights of every member (leading member axis), the frame map and the
column names, as safetensors (never a pickle), and G read back from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..config import Config
from ..errors import GanfitError
from ..files import atomic_write
from ..game.frame import Frame
from ..game.models import generator
from .layout import CONFIG, WEIGHTS


def save(path: Path, G, D, frame: Frame, columns: list[str]) -> None:
    tensors = {f"G.{name}": p.detach().cpu().contiguous() for name, p in G.named_parameters()}
    if D is not None:
        tensors |= {f"D.{name}": p.detach().cpu().contiguous() for name, p in D.named_parameters()}
    # One metadata entry: safetensors keeps metadata in a hash map whose order varies between
    # processes, and a resumed run must write the very same bytes as an uninterrupted one.
    info = {"members": G.members, "scale": frame.scale.tolist(), "shift": frame.shift.tolist(), "columns": columns}
    meta = {"ganfit": json.dumps(info, sort_keys=True)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def read_generator(d: Path):
    """(config, G, frame, column names) of a run directory; every problem one GanfitError line."""
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
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as e:
        raise GanfitError(f"{path}: not a ganfit weights file ({e})") from None
    if members != config.seeds:
        raise GanfitError(f"{path}: holds {members} member(s), config.toml says seeds = {config.seeds}")
    if not (np.isfinite(scale).all() and np.isfinite(shift).all() and (scale != 0).all()):
        raise GanfitError(f"{path}: its frame map (scale {scale.tolist()}, shift {shift.tolist()}) is not finite")
    G = generator(config, len(scale), list(range(members)))
    for name, p in G.named_parameters():
        t = tensors.get(f"G.{name}")
        if t is None or t.shape != p.shape:
            got = "missing" if t is None else f"shape {tuple(t.shape)}"
            raise GanfitError(f"{path}: G.{name} is {got}, config.toml needs {tuple(p.shape)}")
        with torch.no_grad():
            p.copy_(t)
    return config, G, Frame(scale, shift), columns
