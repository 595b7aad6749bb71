"""How well each member learned (metrics) and whether it is still healthy (health)."""

from .health import Health
from .metrics import compute, criterion, judge, names

__all__ = ["Health", "compute", "criterion", "judge", "names"]
