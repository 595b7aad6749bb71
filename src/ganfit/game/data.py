"""A user's samples from a file: numeric columns of a CSV file by name or index, with or without a
header, or a .npy array; every problem named in one line. Only a regular file of at most
files.DATA_LIMIT bytes (256 MiB) is read: never a FIFO or a device such as /dev/zero."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from ..arrays import as_array, check_spread
from ..errors import GanfitError
from ..files import DATA_LIMIT, read_regular


def _read_text(path: str) -> str:
    raw = read_regular(path, DATA_LIMIT, f"csv file {path}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GanfitError(f"csv file {path}: not a text file") from None


def _rows(path: str, text: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each line that is not blank."""
    reader = csv.reader(text.splitlines())
    try:
        return [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:  # a field over csv's 131,072 characters
        raise GanfitError(f"csv file {path} line {reader.line_num}: {e}") from None


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
        if header and header.count(column) > 1:
            raise GanfitError(
                f"csv file {path}: column {column!r} appears {header.count(column)} times in the header; "
                "rename one, or pick it by index"
            )
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


MISSING = ("", "na", "nan", "null", "none", "n/a")  # how spreadsheets, R and pandas write a gap (any case)
GAPS = "drop rows with gaps"


def read_csv_columns(path: str, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Numeric columns of a CSV file [n, len(columns)], with or without a header line; columns by name
    or by index (all of a one-column file when None); every problem named, a gap in a picked column too."""
    values, names, _ = read_csv_table(path, columns)
    return values, names


def read_csv_table(
    path: str, columns: list[str] | None = None, drop_missing: bool = False, gaps: str = GAPS
) -> tuple[np.ndarray, list[str], int]:
    """read_csv_columns, and how many rows were left out: with `drop_missing`, each row with a gap
    (MISSING) in a picked column; else a gap is refused, the line saying `gaps` (what to do)."""
    rows = _rows(path, _read_text(path))
    if not rows:
        raise GanfitError(f"csv file {path}: empty")
    header = None if all(_numeric(c) for c in rows[0][1]) else [c.strip() for c in rows[0][1]]
    body = rows[1:] if header else rows
    width = len(rows[0][1])
    picked = _pick(path, header, width, columns)
    if not body:
        raise GanfitError(f"csv file {path}: no data rows")
    values, kept = np.empty((len(body), len(picked))), np.ones(len(body), dtype=bool)
    for i, (line, row) in enumerate(body):
        if any(c.strip() for c in row[width:]):  # empty fields after the last column are harmless
            first = "the header" if header else "the first line"
            raise GanfitError(f"csv file {path} line {line}: {len(row)} fields, but {first} has {width}")
        for j, (index, name) in enumerate(picked):
            cell = row[index].strip() if index < len(row) else ""
            if cell.lower() in MISSING:
                if drop_missing:
                    kept[i] = False
                    break
                what = f"{cell!r}, a missing value," if cell else "no value"
                raise GanfitError(f"csv file {path} line {line}: {what} in column {name!r} ({gaps})")
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a number") from None
            if not math.isfinite(values[i, j]):
                raise GanfitError(f"csv file {path} line {line}: {cell!r} is not a finite number")
    values = values[kept]
    if len(values) < 2 or (values.min(0) == values.max(0)).any():  # not std: it underflows to 0 near 1e-300
        left = f" after leaving out {int((~kept).sum())} with gaps" if not kept.all() else ""
        raise GanfitError(
            f"csv file {path}: needs at least two distinct values in each column, got {len(values)} row(s){left}"
        )
    names = [name for _, name in picked]
    check_spread(values, names, f"csv file {path}")  # a finite spread; two columns not on one line
    return values, names, int((~kept).sum())


def read_npy(path: str, columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A .npy file of numbers [n] or [n, dim] (never unpickled), with its column names."""
    return as_array(load_npy(path), f"npy file {path}", columns or None)


def load_npy(path: str) -> np.ndarray:
    """A .npy file's array of numbers, as stored (never unpickled; its size checked before it is read)."""
    raw = read_regular(path, DATA_LIMIT, f"npy file {path}")
    try:
        x = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise GanfitError(f"npy file {path}: not a numeric .npy array ({e})") from None
    if x.dtype.kind not in "iuf":
        raise GanfitError(f"npy file {path}: holds {x.dtype} values, not numbers")
    return x
