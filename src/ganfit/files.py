"""Writing files so that nothing is ever half-written: to a temporary name, fsync, rename.

Also `jsonable`, the one conversion of numpy values to JSON that every file of a run goes through.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

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


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_bytes(path: Path, raw: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(raw))


def io_reason(e: Exception) -> str:
    """Why a write failed, from Python's OSError or from safetensors' error (which wraps the OS one)."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e).rpartition("I/O error: ")[2].split(" (os error")[0]


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
