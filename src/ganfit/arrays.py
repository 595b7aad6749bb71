"""A user's data in memory: an array, a list, a pandas Series or DataFrame, as a target spec.

`Config(target=data)` (and `validation=data`) keeps the data here, in this process, under the spec
`array:sha256=...,rows=N,columns=A;B`, so that the config stays plain text. A run written to a
directory stores the data there as a .npy file and its config.toml names that file instead
(rundir/layout.py), so the directory repeats the run on its own. The same values given as a CSV or a
.npy file train bit for bit the same: all three arrive as the same float64 array.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from .errors import GanfitError

MAX_DIM = 2
_HELD: dict[str, tuple[np.ndarray, list[str]]] = {}


def as_array(data, where: str = "data", columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """data as a float64 array [n, dim] and its column names; every problem one GanfitError line."""
    names = columns
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # a pandas DataFrame
        names = names or [str(c) for c in data.columns]
        data = data.to_numpy()
    elif hasattr(data, "to_numpy"):  # a pandas Series
        names = names or ([str(data.name)] if data.name is not None else None)
        data = data.to_numpy()
    try:
        x = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise GanfitError(f"{where}: not numbers ({e})") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise GanfitError(f"{where}: expected rows of 1 or 2 values, got an array of shape {x.shape}")
    if x.shape[1] > MAX_DIM:
        raise GanfitError(f"{where}: has {x.shape[1]} columns; ganfit fits 1-D and 2-D data (choose 1 or 2 columns)")
    bad = ~np.isfinite(x).all(1)
    if bad.any():
        raise GanfitError(f"{where}: row {int(np.argmax(bad))} is not finite (NaN or infinite values; drop them first)")
    names = [_plain(str(n)) for n in (names or (["x"] if x.shape[1] == 1 else ["x", "y"]))]
    if len(names) != x.shape[1]:
        raise GanfitError(f"{where}: {len(names)} column names for {x.shape[1]} columns")
    check_spread(x, names, where)
    return x, names


def _plain(name: str) -> str:
    """A column name that a spec can carry (its separators replaced)."""
    for c in ",;=:":
        name = name.replace(c, "_")
    return name.strip() or "x"


def check_spread(x: np.ndarray, names: list[str], where: str) -> None:
    """Each column needs two distinct values and a finite spread (the working frame divides by it)."""
    for j, name in enumerate(names):
        col = x[:, j]
        if len(col) < 2 or col.min() == col.max():
            raise GanfitError(f"{where}: column {name!r} is constant or has one row: nothing to learn")
        with np.errstate(all="ignore"):
            std = col.std()
        if not math.isfinite(std) or std == 0 or not math.isfinite(col.mean()):
            raise GanfitError(f"{where}: column {name!r} spans too wide or too narrow a range to standardise")


def fingerprint(x: np.ndarray) -> str:
    """sha256 of the float64 values (C order) and the shape."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return hashlib.sha256(repr(x.shape).encode() + x.tobytes()).hexdigest()


def hold(x: np.ndarray, names: list[str]) -> str:
    """Keep data [n, dim] in memory; the spec that names it."""
    digest = fingerprint(x)
    _HELD[digest] = (np.array(x, dtype=np.float64), list(names))
    return f"array:sha256={digest},rows={len(x)},columns={';'.join(names)}"


def held(digest: str) -> tuple[np.ndarray, list[str]]:
    if digest not in _HELD:
        raise GanfitError(
            f"array data {digest[:12]}... is not in this process's memory (it was given in memory elsewhere):"
            " give the data again, or use the .npy file its run directory holds"
        )
    x, names = _HELD[digest]
    return x, list(names)


def spec_for(value, where: str) -> str:
    """A target spec for a config field: a string as it is, in-memory data held and named."""
    if isinstance(value, str):
        return value
    return hold(*as_array(value, where))
