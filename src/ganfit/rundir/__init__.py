"""The run directory: its files (layout), checkpoints and the lock (checkpoint), and Run and load (run)."""

from .checkpoint import CHECKPOINT
from .layout import create, read_metrics, read_summary, reopen
from .run import WEIGHTS, Run, load

__all__ = ["CHECKPOINT", "WEIGHTS", "Run", "create", "load", "read_metrics", "read_summary", "reopen"]
