"""The games a page may start: a config from the page's `new` command, checked field by field.

The page names config fields and values, a recipe, a built-in target, an uploaded CSV (by the id the
server gave it) or points it drew; never a file, never code. Fields that would name a file or code
(target specs reading files, validation, custom models and penalties) or write files (pictures,
tensorboard) are refused, so nothing from the page reaches outside what it uploaded.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .. import arrays, recipes
from ..config import FIELDS, Config
from ..errors import GanfitError
from ..game.data import read_csv_columns
from ..pictures.snapdata import SNAPSHOTS, SnapData
from ..rundir import checkpoint, layout
from ..rundir.layout import METRICS, read_metrics
from .session import Session

# fields a page may not set: they name files or code, or write outside the lab's runs folder
CLOSED = ("target", "validation", "g_model", "d_model", "d_penalty", "pictures", "tensorboard", "device", "per_member")
FILE_TARGETS = ("csv", "npy", "array")  # target specs that read a file or name data: only via upload or drawing
MAX_POINTS = 100_000  # drawn points
MAX_UPLOAD = 16 << 20  # bytes of an uploaded CSV


def page_config(base: Config, msg: dict, uploads: dict[str, tuple]) -> Config:
    """The config a page's `new` command asks for: its recipe (else `base`), then its fields and data."""
    name = msg.get("recipe")
    if name is not None:
        if name not in recipes.names():
            raise GanfitError(f"unknown recipe {name!r} (known: {', '.join(recipes.names())})")
        base = recipes.load(name)
    fields = msg.get("config") or {}
    if not isinstance(fields, dict):
        raise GanfitError("new: config must be a table of fields")
    changes = {}
    for k, v in fields.items():
        if k not in FIELDS:
            raise GanfitError(f"unknown config field {k!r}")
        if k in CLOSED:
            raise GanfitError(f"{k} cannot be set from the page")
        changes[k] = _typed(k, v)
    target = _target(msg, uploads)
    if target is not None:
        changes["target"] = target
    return base.replace(**changes).validate()


def _typed(name: str, v):
    want = FIELDS[name].type
    ok = {
        "int": isinstance(v, int) and not isinstance(v, bool),
        "float": isinstance(v, int | float) and not isinstance(v, bool),
        "bool": isinstance(v, bool),
        "str": isinstance(v, str) and len(v) < 1000,
    }[want]
    if not ok:
        raise GanfitError(f"{name}: expected {want}, got {v!r}")
    return float(v) if want == "float" else v


def _target(msg: dict, uploads: dict[str, tuple]):
    """A built-in target spec, an uploaded CSV's array, drawn points as an array, or None (keep the base's)."""
    spec, upload, points = msg.get("target"), msg.get("upload"), msg.get("points")
    if sum(x is not None for x in (spec, upload, points)) > 1:
        raise GanfitError("new: give one of target, upload and points")
    if spec is not None:
        if not isinstance(spec, str) or spec.split(":")[0].strip() in FILE_TARGETS:
            raise GanfitError(f"target {spec!r}: a built-in target (your own data: upload a CSV or draw it)")
        return spec
    if upload is not None:
        if upload not in uploads:
            raise GanfitError(f"no uploaded data {upload!r}: upload the file again")
        return arrays.hold(*uploads[upload])  # the data in memory, under their column names
    if points is not None:
        if not isinstance(points, list) or not 2 <= len(points) <= MAX_POINTS:
            raise GanfitError(f"points: draw from 2 to {MAX_POINTS:,} points")
        try:
            x = np.array(points, dtype=np.float64)
        except (TypeError, ValueError):
            raise GanfitError("points: a list of [x] or [x, y] numbers") from None
        if x.ndim != 2 or x.shape[1] not in (1, 2) or not np.isfinite(x).all():
            raise GanfitError("points: a list of [x] or [x, y] numbers")
        if (x.min(0) == x.max(0)).any():
            raise GanfitError("points: draw at least two distinct values in each coordinate")
        return x
    return None


def read_upload(raw: bytes, columns: list[str]) -> tuple[np.ndarray, list[str]]:
    """An uploaded CSV's chosen columns (1 or 2), read as `ganfit fit` reads a file (from a temporary copy,
    removed at once; its name never appears in a message)."""
    if len(raw) > MAX_UPLOAD:
        raise GanfitError(f"the file is {len(raw):,} bytes; the lab takes CSV files of at most {MAX_UPLOAD:,}")
    if not 1 <= len(columns) <= 2:
        raise GanfitError("pick one column (1-D) or two (2-D)")
    with tempfile.TemporaryDirectory(prefix="ganfit-lab-") as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(raw)
        try:
            return read_csv_columns(str(path), columns)
        except GanfitError as e:
            raise GanfitError(str(e).replace(f"csv file {path}", "the CSV").replace(str(path), "the CSV")) from None


def open_run(run_dir: Path) -> Session:
    """A session on a run directory: its config, its state at the last checkpoint (or a fresh game where
    it has none), its metric rows and, in the page's time slider, its snapshots.npz."""
    if not (run_dir / layout.CONFIG).is_file():
        raise GanfitError(f"{run_dir}: no config.toml (not a ganfit run directory)")
    config = Config.from_toml(run_dir / layout.CONFIG)
    session = Session(config)
    if (run_dir / checkpoint.CHECKPOINT).is_file():
        layout.check_data(run_dir, config)
        g = session.game
        tensors, epoch, _ = checkpoint.load(run_dir, g.state() | session.health.state())
        g.load_state(tensors, epoch)
        session.health.load_state(tensors)
        session.epoch = epoch
        session.history[:] = [r for r in read_metrics(run_dir / METRICS) if r["epoch"] < epoch]
    snaps = run_dir / SNAPSHOTS
    if snaps.is_file():
        session.past = SnapData.load(snaps)
    return session
