"""The run directory: its files (layout), checkpoints and the lock (checkpoint), and the weights file
(weights). The Run that holds a trained ensemble is one layer up (ganfit/run.py)."""

from .checkpoint import CHECKPOINT
from .layout import WEIGHTS, create, read_metrics, read_summary, reopen

__all__ = ["CHECKPOINT", "WEIGHTS", "create", "read_metrics", "read_summary", "reopen"]
