"""Writing files so that nothing is ever half-written: to a temporary name, fsync, rename.

Where ganfit writes, it never follows a symbolic link nor opens a FIFO or a device: only a regular
file (or none) is replaced. It reads data and config only from regular files of a bounded size.
Also `jsonable`, the one conversion of numpy values to JSON that every file of a run goes through.
"""

from __future__ import annotations

import io
import math
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GanfitError

_UMASK = os.umask(0o022)
os.umask(_UMASK)

DATA_LIMIT = 256 * 2**20  # a data file (CSV, .npy): some 20 million values as text, 33 million as float64
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def special(mode: int) -> str | None:
    """What a file of this st_mode is when it is not a regular file ("a FIFO", ...); None when it is."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "a special file")


def _not_writable(path, kind: str) -> GanfitError:
    return GanfitError(f"cannot write {path}: it is {kind}, not a regular file (nothing written)")


def refuse_special(path: Path) -> None:
    """Before writing `path`: one GanfitError line if it exists and is not a regular file. A symbolic link
    is not followed (its target stays untouched), a FIFO or a device is not opened."""
    try:
        kind = special(os.lstat(path).st_mode)
    except FileNotFoundError:
        return
    if kind:
        raise _not_writable(path, kind)


def open_regular(path: Path, flags: int) -> int:
    """os.open(path, flags) for writing in place (a lock, an appended log): only a regular file, or a new
    one with O_CREAT; anything else is refused as refuse_special does. Returns the descriptor."""
    refuse_special(path)
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)  # swapped in since: no follow, no wait
    kind = special(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise _not_writable(path, kind)
    os.set_blocking(fd, True)
    return fd


def _check_readable(st: os.stat_result, limit: int, what: str) -> None:
    kind = special(st.st_mode)
    if kind:
        raise GanfitError(f"{what}: is {kind}, not a regular file")
    if st.st_size > limit:
        raise _too_big(what, st.st_size, limit)


def _too_big(what: str, size: int, limit: int) -> GanfitError:
    return GanfitError(f"{what}: {size:,} bytes, over the limit of {limit:,} bytes ({limit >> 20} MiB) ganfit reads")


def read_regular(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (a symbolic link to one is fine). A missing
    file, a directory, a FIFO, a device or a socket (found by stat, never opened: a FIFO waits for a
    writer, /dev/zero never ends) and a larger file are each one GanfitError line that starts `what: `."""
    try:
        _check_readable(os.stat(path), limit, what)
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as fh:  # NONBLOCK: a FIFO swapped in
            _check_readable(os.fstat(fh.fileno()), limit, what)
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise GanfitError(f"{what}: no such file") from None
    except PermissionError:
        raise GanfitError(f"{what}: permission denied") from None
    except OSError as e:
        raise GanfitError(f"{what}: cannot read ({io_reason(e)})") from None
    except UnicodeEncodeError:  # a unicode name where the locale's file names are ASCII (LANG=C)
        enc = sys.getfilesystemencoding()
        raise GanfitError(
            f"{what}: its name cannot be written in this locale's {enc} file names (use a UTF-8 locale)"
        ) from None
    if len(raw) > limit:  # it grew since the stat, or is one of /proc's files that say 0 bytes
        raise _too_big(what, len(raw), limit)
    return raw


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then rename onto `path`: readers see the old file or the new, never half.
    Where `path` is a symbolic link, a FIFO, a device or a directory, nothing is written."""
    path = Path(path)
    refuse_special(path)
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


def quiet_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone (a closed pipe): what is still buffered, the
    closing lines, and Python's own flush at exit then fail no more."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # no real stdout (a notebook)
        pass


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
