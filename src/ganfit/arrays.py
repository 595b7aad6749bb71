"""A user's data in memory: an array, a list, a pandas Series or DataFrame, as a target spec.

`Config(target=data)` (and `validation=data`) keeps the data here, in this process, under the spec
`array:sha256=...,rows=N,columns=A;B`, so that the config stays plain text; each Config that names them
holds them, and when the last is gone (with the Run or Game that held it) so are they. A run written to a
directory stores the data there as a .npy file and its config.toml names that file instead
(rundir/layout.py), so the directory repeats the run on its own. The same values given as a CSV or a
.npy file train bit for bit the same: all three arrive as the same float64 array.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import warnings
import weakref

import numpy as np

from .errors import GanfitError

MAX_DIM = 2
COLLINEAR = 1e-9  # 1 - |correlation| below which two columns are one line
_DATES = (datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64)
_HELD: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # sha256 -> _Data, while a Config names it


def as_array(
    data, where: str = "data", columns: list[str] | None = None, drop_missing: bool = False
) -> tuple[np.ndarray, list[str]]:
    """data as a float64 array [n, dim] and its column names; every problem one GanfitError line. With
    `drop_missing`, rows with a NaN (pandas' and numpy's gap) are left out; an infinite value is refused."""
    names = columns
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # a pandas DataFrame
        names = names or [str(c) for c in data.columns]
        _refuse_kinds([data[c] for c in data.columns], where)
        data = data.to_numpy()
    elif hasattr(data, "to_numpy"):  # a pandas Series
        names = names or ([str(data.name)] if data.name is not None else None)
        _refuse_kinds([data], where)
        data = data.to_numpy()
    x = _numbers(data, where)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise GanfitError(f"{where}: expected rows of 1 or 2 values, got an array of shape {x.shape}")
    if x.shape[1] > MAX_DIM:
        raise GanfitError(f"{where}: has {x.shape[1]} columns; ganfit fits 1-D and 2-D data (choose 1 or 2 columns)")
    if drop_missing:
        x = x[~np.isnan(x).any(1)]
        if len(x) == 0:
            raise GanfitError(f"{where}: every row has a missing value (NaN)")
    bad = ~np.isfinite(x).all(1)
    if bad.any():
        raise GanfitError(f"{where}: row {int(np.argmax(bad))} is not finite (NaN or infinite values; drop them first)")
    names = [_plain(str(n)) for n in (names or (["x"] if x.shape[1] == 1 else ["x", "y"]))]
    if len(names) != x.shape[1]:
        raise GanfitError(f"{where}: {len(names)} column names for {x.shape[1]} columns")
    check_spread(x, names, where)
    return x, names


def _refuse_kinds(columns, where: str) -> None:
    """pandas columns of dates or times: numpy would turn them into integers of nanoseconds."""
    for col in columns:
        kind = getattr(getattr(col, "dtype", None), "kind", "")
        if kind in "mM" and kind:
            raise GanfitError(_DATED.format(where=where))


_DATED = (
    "{where}: holds dates or times, which ganfit does not turn into numbers behind your back: convert them to"
    " numbers in a unit you choose (seconds: (t - t.min()).dt.total_seconds(), or t.dt.total_seconds() of spans)"
)


def _numbers(data, where: str) -> np.ndarray:
    """float64 values of data; a mask drops its rows (with a warning); complex numbers, dates, a tensor
    that needs grad, integers past float64's range are each one line."""
    if hasattr(data, "detach") and hasattr(data, "requires_grad"):  # a torch tensor
        if data.is_complex():
            raise GanfitError(f"{where}: complex numbers (give the real part, or the two parts as two columns)")
        data = data.detach().cpu()
    if isinstance(data, np.ma.MaskedArray):
        data = _unmasked(data, where)
    try:
        raw = np.asarray(data)
    except (TypeError, ValueError, OverflowError, RuntimeError) as e:
        raise GanfitError(f"{where}: not numbers ({e})") from None
    if raw.dtype.kind == "c":
        raise GanfitError(f"{where}: complex numbers (give the real part, or the two parts as two columns)")
    if raw.dtype.kind in "mM" or (raw.dtype.kind == "O" and any(isinstance(v, _DATES) for v in raw.flat)):
        raise GanfitError(_DATED.format(where=where))
    try:
        with np.errstate(over="raise"):
            return np.asarray(raw, dtype=np.float64)
    except OverflowError:  # Python integers past float64's 1.8e308
        raise GanfitError(f"{where}: a number too large for float64 (at most {np.finfo(np.float64).max:.3g})") from None
    except (TypeError, ValueError, FloatingPointError) as e:
        raise GanfitError(f"{where}: not numbers ({e})") from None


def _unmasked(data: np.ma.MaskedArray, where: str) -> np.ndarray:
    """A masked array's rows with no masked value; the dropped rows are said in a warning."""
    mask = np.ma.getmaskarray(data)
    rows = mask.reshape(len(mask), -1).any(1) if mask.ndim else np.zeros(0, bool)
    if rows.any():
        warnings.warn(f"{where}: {int(rows.sum())} masked row(s) of {len(rows)} dropped", stacklevel=4)
    return np.asarray(data.data)[~rows] if mask.ndim else np.asarray(data.data)


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
    if x.shape[1] == 2:
        check_collinear(x, names, where)


def check_collinear(x: np.ndarray, names: list[str], where: str) -> None:
    """Two columns on one line (a column twice, or one a multiple of the other) are 1-D data in 2-D
    clothes: a plane's density does not exist there, and the baselines' covariance is singular."""
    with np.errstate(all="ignore"):
        z = (x - x.mean(0)) / x.std(0)
        r = float(np.mean(z[:, 0] * z[:, 1]))
    if not abs(r) < 1 - COLLINEAR:
        a, b = names
        raise GanfitError(
            f"{where}: columns {a!r} and {b!r} lie on one straight line (correlation {r:.10f}):"
            " one follows from the other; fit one of them (1-D)"
        )


def fingerprint(x: np.ndarray) -> str:
    """sha256 of the float64 values (C order) and the shape."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return hashlib.sha256(repr(x.shape).encode() + x.tobytes()).hexdigest()


class _Data:
    """Data held in memory: while a Config names them (Config keeps this object), and no longer."""

    __slots__ = ("x", "names", "__weakref__")

    def __init__(self, x: np.ndarray, names: list[str]):
        self.x, self.names = x, names


class Held(str):
    """The spec of data held in memory, carrying them until a Config takes it (see keep)."""

    data: _Data


def hold(x: np.ndarray, names: list[str]) -> Held:
    """Keep data [n, dim] in memory while something names them; the spec that names them."""
    digest = fingerprint(x)
    spec = Held(f"array:sha256={digest},rows={len(x)},columns={';'.join(names)}")
    spec.data = _HELD.get(digest) or _Data(np.array(x, dtype=np.float64), list(names))
    _HELD[digest] = spec.data
    return spec


def keep(spec: str) -> _Data | None:
    """What keeps the data an array: spec names alive (None for other specs); a Config holds it."""
    if isinstance(spec, Held):
        return spec.data
    if spec.startswith("array:sha256="):
        return _HELD.get(spec.split("=", 1)[1].split(",", 1)[0])
    return None


def held(digest: str) -> tuple[np.ndarray, list[str]]:
    data = _HELD.get(digest)
    if data is None:
        raise GanfitError(
            f"array data {digest[:12]}... is not in this process's memory (given in memory elsewhere, or"
            " released with the last config that named it): give the data again, or use the .npy file its"
            " run directory holds"
        )
    return data.x, list(data.names)


def spec_for(value, where: str) -> str:
    """A target spec for a config field: a string as it is, in-memory data held and named."""
    if isinstance(value, str):
        return value
    return hold(*as_array(value, where))
