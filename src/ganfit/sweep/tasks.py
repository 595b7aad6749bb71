"""One sweep task, wherever it runs: a point, or a group of points trained as one ensemble.

A task is a plain dict (it crosses to worker processes and Ray nodes): `id`, `dir`, `config` (a
point's fields) or `points` (a group's), and where the sweep directory is (`sweep_dir`, `token`). A
task never raises: an error is part of its result. A worker that cannot see the sweep directory (no
shared file system) trains in scratch space and returns the point's files.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from safetensors import safe_open

from .. import custom
from ..config import FIELDS, Config
from ..errors import GanfitError
from ..files import write_bytes, write_text
from ..rundir import layout
from ..rundir.checkpoint import CHECKPOINT, RunLock
from ..rundir.layout import CONFIG
from ..training import train

GROUPABLE = ("lr_d", "lr_g", "beta1", "beta2")  # what members of one ensemble may differ in (besides seed)
TOKEN = ".sweep-token"
DONE = ("finished", "all members stopped")
RUNTIME_FIELDS = ("threads", "checkpoint_every", "pictures", "snapshot_every", "tensorboard")


def run_task(task: dict) -> dict:
    custom.take(task.get("custom", {}))  # custom parts from Python, carried with the task
    return run_group(task) if "points" in task else run_point(task)


def run_point(task: dict) -> dict:
    """Train one point (or finish it); never raises: an error is part of the result."""
    started = time.perf_counter()
    out = {"id": task["id"], "pid": os.getpid(), "host": socket.gethostname()}
    d = Path(task["dir"])
    try:
        config = Config.from_dict(task["config"], f"point {task['id']}")
        if _sees_sweep_dir(task):
            summary = train_point(config, d)
            (d / "error.txt").unlink(missing_ok=True)
        else:  # a worker without DIR: train in scratch space and send the files back
            with tempfile.TemporaryDirectory(prefix="ganfit-point-") as tmp:
                here = Path(tmp) / task["id"]
                summary = train_point(config, here)
                skip = (".lock", CHECKPOINT)
                out["files"] = {p.name: p.read_bytes() for p in here.iterdir() if p.is_file() and p.name not in skip}
        out |= {"status": summary.get("status", "finished"), "summary": summary}
    except GanfitError as e:
        out |= {"status": "error", "error": str(e)}
    except Exception as e:  # a bug or the machine: recorded, and the other points go on
        out |= {"status": "error", "error": f"{type(e).__name__}: {e}"}
    out["wall"] = round(time.perf_counter() - started, 3)
    if out["status"] == "error" and d.is_dir():
        try:
            write_text(d / "error.txt", out["error"] + "\n")
        except OSError:
            pass
    return out


def run_group(task: dict) -> dict:
    """Train a group of points as one ensemble, then give each point its own files; never raises."""
    started = time.perf_counter()
    try:
        configs = [Config.from_dict(p["config"], f"point {p['id']}") for p in task["points"]]
        merged = {f: getattr(merge(configs), f) for f in FIELDS}
    except GanfitError as e:
        return {
            "id": task["id"],
            "results": [{"id": p["id"], "status": "error", "error": str(e)} for p in task["points"]],
        }
    result = run_point(task | {"config": merged})
    results, first, here = [], 0, _sees_sweep_dir(task)
    for p, config in zip(task["points"], configs):
        out = {"id": p["id"], "status": result["status"], "wall": round(time.perf_counter() - started, 3)}
        out |= {k: result[k] for k in ("pid", "host") if k in result} | {"group": task["id"]}
        try:
            if result["status"] == "error":
                out["error"] = result["error"]
            else:
                files = _split(task, result, first, config)
                if here:
                    write_files(Path(p["dir"]), files, fresh=True)
                else:
                    out["files"] = files
                out["summary"] = json.loads(files["summary.json"])
        except Exception as e:  # a bug or the machine: recorded, and the other points go on
            out |= {"status": "error", "error": f"{type(e).__name__}: {e}"}
        results.append(out)
        first += config.seeds
    return {"id": task["id"], "results": results}


def merge(configs: list[Config]) -> Config:
    """One config for points that differ only in GROUPABLE fields: their members side by side."""
    values = {"seed": [s for c in configs for s in c.member_seeds()]}
    for f in GROUPABLE:
        column = [getattr(c, f) for c in configs for _ in range(c.seeds)]
        if len(set(column)) > 1:
            values[f] = column
    per_member = ";".join(f"{f}={','.join(repr(v) for v in vs)}" for f, vs in values.items())
    return configs[0].replace(seeds=len(values["seed"]), per_member=per_member).validate()


def _split(task: dict, result: dict, first: int, config: Config) -> dict[str, bytes]:
    """A point's files, cut from its group's run (threads as the group resolved them)."""
    with tempfile.TemporaryDirectory(prefix="ganfit-group-") as tmp:
        d = Path(task["dir"]) if "files" not in result else Path(tmp)
        if "files" in result:  # trained where DIR is not visible: the group's files came back
            write_files(d, result["files"])
        threads = Config.from_toml(d / CONFIG).threads
        return layout.split(d, first, config.replace(threads=threads))


def write_files(d: Path, files: dict[str, bytes], fresh: bool = False) -> None:
    """Write a run's files into d, each atomically, in order (summary.json, which marks a finished
    run, comes last); `fresh` first empties d of what an earlier attempt left (a stale checkpoint)."""
    if fresh:
        _clear(d)
    d.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        write_bytes(d / name, raw)


def _sees_sweep_dir(task: dict) -> bool:
    try:
        return (Path(task["sweep_dir"]) / TOKEN).read_text().strip() == task["token"]
    except OSError:
        return False


def train_point(config: Config, d: Path) -> dict:
    """The point's summary: read back when it is done, else resumed from its checkpoint, else trained."""
    summary = layout.read_summary(d)
    if summary.get("status") in DONE and differences(d, config) == []:
        return summary
    if _checkpoint_epoch(d) is not None and _checkpoint_epoch(d) < config.epochs and differences(d, config, True) == []:
        return train(layout.reopen(d, config.epochs), d, resume=True).summary
    _clear(d)
    return train(config, d).summary


def differences(d: Path, config: Config, ignore_epochs: bool = False) -> list[str] | None:
    """Fields in which d's config.toml differs from config (None: no readable config there)."""
    try:
        old = Config.from_toml(d / CONFIG)
    except GanfitError:
        return None
    skip = RUNTIME_FIELDS + (("epochs",) if ignore_epochs else ())
    return [f for f in FIELDS if f not in skip and getattr(old, f) != getattr(config, f)]


def _checkpoint_epoch(d: Path) -> int | None:
    try:
        with safe_open(d / CHECKPOINT, "pt") as fh:
            return int((fh.metadata() or {})["epoch"])
    except Exception:
        return None


def _clear(d: Path) -> None:
    """Empty a point directory a killed or failed attempt left, under its lock (a live run keeps it)."""
    if d.is_symlink():
        raise GanfitError(f"{d}: a symbolic link where a sweep point's directory goes: not followed, not emptied")
    d.mkdir(parents=True, exist_ok=True)
    with RunLock(d):
        for p in d.iterdir():
            if p.name == ".lock":
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
