"""Losing nothing: checkpoints, one writer per run directory, and a clean stop on SIGINT / SIGTERM.

A checkpoint holds every tensor the run's future depends on (weights, Adam's moments and step counts,
the health tracker's state) plus the epoch and how many bytes of metrics.jsonl belong to it. There is
no random generator state to save: every random number is a function of (seed, epoch, slot), see
game/rng.py. So a run killed at any moment and resumed from its last checkpoint ends bit for bit where an
uninterrupted run ends.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import torch
from filelock import FileLock, Timeout
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import GanfitError
from ..files import atomic_write, io_reason, refuse_special

CHECKPOINT = "checkpoint.safetensors"
FORMAT = "ganfit-checkpoint-1"


def save(run_dir: Path, tensors: dict[str, torch.Tensor], epoch: int, metrics_bytes: int) -> None:
    """Write the checkpoint to a temporary name, fsync, rename: the previous one survives any failure."""
    cpu = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {"format": FORMAT, "epoch": str(epoch), "metrics_bytes": str(metrics_bytes)}
    had = (run_dir / CHECKPOINT).is_file()
    try:
        atomic_write(run_dir / CHECKPOINT, lambda tmp: save_file(cpu, tmp, metadata=meta))
    except (OSError, SafetensorError) as e:
        kept = "the previous one is intact" if had else "there is none yet"
        raise GanfitError(f"cannot write checkpoint in {run_dir}: {io_reason(e)}; {kept}") from None


def load(run_dir: Path, expected: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int, int]:
    """Read and check a checkpoint against the tensors a run of this config holds (names and shapes)."""
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise GanfitError(f"run directory {run_dir}: no {CHECKPOINT} to resume from")
    try:
        with safe_open(path, "pt") as fh:
            meta = fh.metadata() or {}
            if meta.get("format") != FORMAT:
                raise GanfitError(f"{path}: not a ganfit checkpoint")
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        epoch, metrics_bytes = int(meta["epoch"]), int(meta["metrics_bytes"])
    except (SafetensorError, OSError, KeyError, ValueError) as e:
        raise GanfitError(f"{path}: unreadable or damaged checkpoint ({e})") from None
    metrics = run_dir / "metrics.jsonl"
    size = metrics.stat().st_size if metrics.is_file() else 0
    if epoch < 1 or not 0 <= metrics_bytes <= size:  # the metadata must describe the files beside it
        raise GanfitError(
            f"{path}: damaged metadata (epoch {epoch}, {metrics_bytes} bytes of metrics.jsonl, which holds {size})"
        )
    for name, want in expected.items():
        got = tensors.get(name)
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            what = "missing" if got is None else f"{got.dtype} {tuple(got.shape)}"
            raise GanfitError(f"{path}: {name} is {what}, config.toml needs {want.dtype} {tuple(want.shape)}")
    return tensors, epoch, metrics_bytes


class RunLock:
    """An exclusive lock on RUN_DIR/.lock for the life of a run, through filelock (flock on POSIX, a
    locked byte on Windows): the OS drops it when the holder dies, even by SIGKILL, so a lock left by a
    killed process is simply taken over. A symbolic link or anything but a regular file there is
    refused, never followed (its target would be written)."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ".lock"
        self.lock: FileLock | None = None

    def __enter__(self) -> RunLock:
        refuse_special(self.path)  # one line naming what stands there ("a symbolic link", "a FIFO")
        lock = FileLock(self.path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise GanfitError(f"run directory {self.path.parent} is in use by process {self._holder()}") from None
        except OSError as e:
            raise GanfitError(f"cannot lock {self.path.parent}: {io_reason(e)}") from None
        self.lock = lock
        try:  # who holds it, for the message another process prints (best effort: not every OS allows it)
            self.path.write_text(f"{os.getpid()}\n")
        except OSError:
            pass
        return self

    def _holder(self) -> str:
        try:
            return self.path.read_text(errors="replace").strip()[:32] or "another process"
        except OSError:
            return "another process"

    def __exit__(self, *exc) -> None:
        if self.lock is not None:
            self.lock.release()  # the file stays, harmlessly
            self.lock = None


class StopSignals:
    """Turn SIGINT and SIGTERM into a request the loop honours at the next epoch boundary, where a
    checkpoint can be written. A second Ctrl-C stops at once. Only the main thread can own signals."""

    def __init__(self):
        self.requested = False
        self._old: dict = {}

    def _handle(self, signum, frame):
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def remove_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of writes a killed process never finished (see files.atomic_write)."""
    for p in run_dir.glob(".*.tmp"):
        p.unlink(missing_ok=True)
