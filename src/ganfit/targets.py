"""R: the real data. A target turns uniform draws into samples and knows what the metrics need.

Each target is built from a spec (`gaussian:mean=4,std=1.25`, `uniform:low=0,high=1`,
`csv:path=FILE[,column=NAME]`). Sampling is a pure transform of counter-based uniforms (see rng.py),
so a member's real batches depend only on its seed and the epoch.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats

from .errors import GanfitError
from .rng import normal_from_uniform
from .specs import build


@dataclass(eq=False)
class Target:
    """A distribution to learn: `sample` maps [..., n_uniforms] uniforms to [..., dim] samples."""

    name: str
    dim: int
    n_uniforms: int
    mean: np.ndarray
    std: np.ndarray
    columns: list[str]
    dist: Any = None  # a frozen scipy distribution where the law is known in closed form
    data: np.ndarray | None = None  # [n, dim] where the target is a user's samples
    _cache: dict = field(default_factory=dict, repr=False)

    def sample(self, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def describe(self) -> str:
        if self.data is not None:
            return f"{len(self.data)} samples from {self.name}"
        return self.name


class Gaussian(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        z = normal_from_uniform(u[..., 0], u[..., 1])
        return (float(self.mean[0]) + float(self.std[0]) * z).unsqueeze(-1)


class Uniform(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        low, high = self.dist.support()
        return (low + (high - low) * u[..., :1]).to(torch.float32)


class Samples(Target):
    def sample(self, u: torch.Tensor) -> torch.Tensor:
        key = str(u.device)
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(self.data, dtype=torch.float32, device=u.device)
        data = self._cache[key]
        index = (u[..., 0] * len(data)).long().clamp_(max=len(data) - 1)
        return data[index]


def _finite(name: str, **values: float) -> None:
    for key, v in values.items():
        if not math.isfinite(v):
            raise GanfitError(f"target {name!r}: {key}={v} is not a finite number")


def gaussian(*, mean: float = 4.0, std: float = 1.25) -> Target:
    _finite("gaussian", mean=mean, std=std)
    if std <= 0:
        raise GanfitError(f"target 'gaussian': std must be > 0, got {std}")
    return Gaussian(
        f"gaussian(mean={mean:g}, std={std:g})",
        1,
        2,
        np.array([mean]),
        np.array([std]),
        ["x"],
        dist=stats.norm(mean, std),
    )


def uniform(*, low: float = 0.0, high: float = 1.0) -> Target:
    _finite("uniform", low=low, high=high)
    if not high > low:
        raise GanfitError(f"target 'uniform': high must exceed low, got low={low:g}, high={high:g}")
    dist = stats.uniform(low, high - low)
    return Uniform(
        f"uniform(low={low:g}, high={high:g})", 1, 1, np.array([dist.mean()]), np.array([dist.std()]), ["x"], dist=dist
    )


def read_csv(path: str, column: str | None = None) -> tuple[np.ndarray, str]:
    """One numeric column of a CSV file, with or without a header line; every problem named."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GanfitError(f"csv file {path}: no such file") from None
    except IsADirectoryError:
        raise GanfitError(f"csv file {path}: is a directory") from None
    except PermissionError:
        raise GanfitError(f"csv file {path}: permission denied") from None
    except UnicodeDecodeError:
        raise GanfitError(f"csv file {path}: not a text file") from None
    except OSError as e:
        raise GanfitError(f"csv file {path}: cannot read ({e.strerror})") from None
    rows = [(n, r) for n, r in enumerate(csv.reader(text.splitlines()), 1) if any(c.strip() for c in r)]
    if not rows:
        raise GanfitError(f"csv file {path}: empty")

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    header = None if all(numeric(c) for c in rows[0][1]) else [c.strip() for c in rows[0][1]]
    body = rows[1:] if header else rows
    width = len(rows[0][1])
    if column is None:
        if width != 1:
            names = ", ".join(header) if header else f"{width} unnamed columns"
            raise GanfitError(f"csv file {path}: has {width} columns ({names}); choose one with column=NAME")
        index, name = 0, header[0] if header else "x"
    elif header and column in header:
        index, name = header.index(column), column
    elif column.isdigit() and int(column) < width:
        index, name = int(column), header[int(column)] if header else "x"
    else:
        known = ", ".join(header) if header else f"0..{width - 1}"
        raise GanfitError(f"csv file {path}: no column {column!r} (columns: {known})")
    if not body:
        raise GanfitError(f"csv file {path}: no data rows")
    values = np.empty(len(body))
    for i, (line, row) in enumerate(body):
        cell = row[index].strip() if index < len(row) else ""
        try:
            values[i] = float(cell)
        except ValueError:
            raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a number") from None
        if not math.isfinite(values[i]):
            raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a finite number")
    if len(values) < 2 or values.std() == 0:
        raise GanfitError(f"csv file {path}: needs at least two distinct values, got {len(values)} row(s)")
    return values, name


def csv_target(*, path: str, column: str = "") -> Target:
    values, name = read_csv(path, column or None)
    data = values[:, None]
    return Samples(f"csv({path})", 1, 1, data.mean(0), data.std(0), [name], data=data)


TARGETS = {"gaussian": gaussian, "uniform": uniform, "csv": csv_target}


def make_target(spec: str) -> Target:
    """Build a target from its spec; every problem is a GanfitError naming it."""
    return build(spec, TARGETS, "target")
