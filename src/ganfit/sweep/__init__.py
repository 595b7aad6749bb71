"""`ganfit sweep`: a sweep file (file, criteria), its tasks (tasks) on an executor (executors, local or
Ray), the driver that runs them losing nothing (driver), and the result tables (tables)."""

from .criteria import parse as parse_criterion
from .driver import run_sweep
from .file import Sweep
from .file import load as load_sweep
from .tables import wilson

__all__ = ["Sweep", "load_sweep", "parse_criterion", "run_sweep", "wilson"]
