"""A user's samples from a file: numeric columns of a CSV file by name or index, with or without a
header, or a .npy array; every problem named in one line."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from ..arrays import as_array
from ..errors import GanfitError


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
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


def _numeric(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _pick(path: str, header: list[str] | None, width: int, columns: list[str] | None) -> list[tuple[int, str]]:
    """(index, name) of each wanted column; unnamed columns are called x (and y)."""
    if columns is None:
        if width != 1:
            names = ", ".join(header) if header else f"{width} unnamed columns"
            raise GanfitError(
                f"csv file {path}: has {width} columns ({names}); choose one with column=NAME or two with columns=A;B"
            )
        return [(0, header[0] if header else "x")]
    picked = []
    for column in columns:
        if header and column in header:
            picked.append((header.index(column), column))
        elif column.isdigit() and int(column) < width:
            picked.append((int(column), header[int(column)] if header else f"x{column}"))
        else:
            known = ", ".join(header) if header else f"0..{width - 1}"
            raise GanfitError(f"csv file {path}: no column {column!r} (columns: {known})")
    if not header and len(picked) <= 2:
        picked = [(i, name) for (i, _), name in zip(picked, ("x", "y"))]
    return picked


def read_csv_columns(path: str, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Numeric columns of a CSV file [n, len(columns)], with or without a header line; columns by name
    or by index (all of a one-column file when None); every problem named."""
    text = _read_text(path)
    rows = [(n, r) for n, r in enumerate(csv.reader(text.splitlines()), 1) if any(c.strip() for c in r)]
    if not rows:
        raise GanfitError(f"csv file {path}: empty")
    header = None if all(_numeric(c) for c in rows[0][1]) else [c.strip() for c in rows[0][1]]
    body = rows[1:] if header else rows
    picked = _pick(path, header, len(rows[0][1]), columns)
    if not body:
        raise GanfitError(f"csv file {path}: no data rows")
    values = np.empty((len(body), len(picked)))
    for i, (line, row) in enumerate(body):
        for j, (index, _) in enumerate(picked):
            cell = row[index].strip() if index < len(row) else ""
            if not cell:
                name = picked[j][1]
                raise GanfitError(f"csv file {path} line {line}: no value in column {name!r} (drop rows with gaps)")
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a number") from None
            if not math.isfinite(values[i, j]):
                raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a finite number")
    if len(values) < 2 or (values.std(0) == 0).any():
        raise GanfitError(
            f"csv file {path}: needs at least two distinct values in each column, got {len(values)} row(s)"
        )
    return values, [name for _, name in picked]


def read_npy(path: str, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A .npy file of numbers [n] or [n, dim] (never unpickled), with its column names."""
    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise GanfitError(f"npy file {path}: no such file") from None
    except IsADirectoryError:
        raise GanfitError(f"npy file {path}: is a directory") from None
    except (OSError, ValueError, EOFError) as e:
        raise GanfitError(f"npy file {path}: not a numeric .npy array ({e})") from None
    if x.dtype.kind not in "iuf":
        raise GanfitError(f"npy file {path}: holds {x.dtype} values, not numbers")
    return as_array(x, f"npy file {path}", columns or None)
