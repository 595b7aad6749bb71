"""`ganfit sweep`: run every point of a sweep file, here (all cores) or on a Ray cluster, losing nothing.

A point is one config and its seeds. Points whose configs differ only in Adam's settings (learning
rates, betas) have the same shapes, so they train together as one ensemble (config.per_member) in
DIR/groups/<id>, up to a width past which grouping gains nothing (`groups`); each point then gets the
files a run of its own would have written, in DIR/points/<id>. Other points train alone there. A point
in a group matches its own run to float rounding (which chaotic settings amplify over the epochs, as
they do between two machines); the groups depend on the sweep file alone, so a sweep repeats bit for
bit. Tasks (tasks.py) go to an executor (executors.py):

- local (the default): a pool of worker processes, one per core, each torch at one thread;
- ray: one Ray task per point on an existing cluster (`address`), or on one started here (loopback
  only). A task whose worker dies is retried by Ray (`max_retries`) and resumes from the point's last
  checkpoint. When the workers cannot see DIR (no shared file system), a task trains in a scratch
  directory and sends the point's files back, and the driver writes them.

Whatever the executor, the driver keeps one result per point (a retried task replaces, never adds),
rewrites results.csv and points.csv atomically after each point, and a rerun into the same DIR skips
finished points and resumes or restarts the others.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from .. import custom
from ..config import FIELDS, Config
from ..errors import GanfitError
from ..files import io_reason, write_text
from ..rundir.checkpoint import RunLock
from ..rundir.layout import CONFIG, read_summary
from . import executors
from .criteria import succeeded
from .file import Sweep
from .tables import Results, wilson
from .tasks import DONE, GROUPABLE, TOKEN, differences, write_files

POINTS, GROUPS = "points", "groups"
GROUP_WIDTH = 1600  # members x batch past which one thread's ensemble gets no cheaper per member
GPU_GROUP_WIDTH = 1 << 19  # on a GPU: K = 4,096 x batch 100 reached ~95% of the largest rate (performance.md)
EXECUTORS = ("local", "ray")


def _prepare(sweep: Sweep, points_dir: Path, stream) -> tuple[list[dict], list]:
    """Results of points already done, and the points to run (a mismatching directory is an error;
    finished points that this sweep asks more epochs of are said to be extended)."""
    done, todo, extended = [], [], []
    for p in sweep.points:
        d = points_dir / p.id
        diff = differences(d, p.config, ignore_epochs=True)
        if diff:
            f = diff[0]
            old = Config.from_toml(d / CONFIG)
            raise GanfitError(
                f"{d} was trained with {f} = {getattr(old, f)!r}, this sweep asks for {getattr(p.config, f)!r}:"
                " use another --out, or remove that point's directory"
            )
        summary = read_summary(d)
        old_epochs = Config.from_toml(d / CONFIG).epochs if diff == [] else None
        if summary.get("status") in DONE and old_epochs == p.config.epochs:
            done.append({"id": p.id, "status": summary["status"], "summary": summary, "skipped": True})
        elif old_epochs is not None and old_epochs > p.config.epochs and summary.get("status") in DONE:
            asked = p.config.epochs
            raise GanfitError(f"{d} trained {old_epochs} epochs, this sweep asks for {asked}: use another --out")
        else:
            todo.append(p)
            if old_epochs is not None and old_epochs < p.config.epochs and summary.get("status") in DONE:
                extended.append((p.id, old_epochs))
    if extended:
        print(
            f"sweep: extending {len(extended)} finished point(s) to more epochs (they resume from their"
            f" checkpoints): {', '.join(f'{pid} from {old}' for pid, old in extended[:5])}",
            file=stream,
            flush=True,
        )
    return done, todo


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    executor: str = "local",
    address: str | None = None,
    workers: int | None = None,
    stream=None,
) -> Results:
    """Run the points of `sweep` not yet done into DIR `out`; return every point's result."""
    if executor not in EXECUTORS:
        raise GanfitError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    if address and executor != "ray":
        raise GanfitError("--address names a Ray cluster: it needs --executor ray")
    if executor == "ray" and address not in (None, "auto"):
        executors.reachable(address)  # before DIR is touched
    out, stream = Path(out), stream or sys.stderr
    on_gpu = any(p.config.device.startswith("cuda") for p in sweep.points)
    workers = workers or (1 if on_gpu else os.cpu_count() or 1)  # on a GPU: one ensemble at a time
    _check_sweep_dir(out)
    held = [f for f in ("target", "validation") if getattr(sweep.base, f).startswith("array:")]
    if held:
        raise GanfitError(f"a sweep's {held[0]} must be a file (csv: or npy:), not data in memory: numpy.save it first")
    try:
        (out / POINTS).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GanfitError(f"--out {out}: cannot write there ({io_reason(e)})") from None
    with RunLock(out):
        token = secrets.token_hex(16)
        results = Results(sweep, out)
        done, todo = _prepare(sweep, out / POINTS, stream)  # before sweep.toml: a mismatch changes nothing
        try:
            write_text(out / "sweep.toml", sweep.text)
            write_text(out / TOKEN, token + "\n")
        except OSError as e:
            raise GanfitError(f"--out {out}: cannot write there ({io_reason(e)})") from None
        for r in done:
            results.add(r)
        results.write()
        waiting = {p.id for p in todo}  # groups as a fresh sweep makes them, less the points already done
        batches = [b for b in ([p for p in g if p.id in waiting] for g in groups(sweep.points)) if b]
        threads = 1 if executor == "ray" or (workers > 1 and len(batches) > 1) else 0
        tasks, members = _tasks(batches, out, threads, {"sweep_dir": str(out.resolve()), "token": token})
        grouped = sum(len(b) for b in batches if len(b) > 1)
        print(
            f"sweep: {len(sweep.points)} point(s) x {sweep.seeds} seed(s); {len(done)} already done,"
            f" {len(todo)} to run on {executor}"
            + (f" ({workers} workers)" if executor == "local" else "")
            + (f"; {grouped} of them as {len(members)} ensemble(s) of points" if members else ""),
            file=stream,
            flush=True,
        )
        if tasks:
            runner = executors.local(tasks, workers) if executor == "local" else executors.ray(tasks, address, workers)
            _collect(_per_point(runner, members), results, out / POINTS, stream, len(todo))
        return results


def _check_sweep_dir(out: Path) -> None:
    """DIR is new, empty, or a ganfit sweep's: never a directory of the user's, nor a run directory."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise GanfitError(f"--out {out}: exists and is not a directory")
    if not out.is_dir():
        return
    if (out / CONFIG).is_file():
        raise GanfitError(f"--out {out}: is a run directory, not a sweep's: choose another")
    if any(p.name != ".lock" for p in out.iterdir()) and not (out / "sweep.toml").is_file():
        raise GanfitError(f"--out {out}: is not empty and holds no ganfit sweep (no sweep.toml): choose another")


def _tasks(batches: list[list], out: Path, threads: int, where: dict) -> tuple[list[dict], dict[str, list[str]]]:
    """One task per batch of points (a point alone, or a group), and each group's point ids."""
    tasks, members = [], {}
    for batch in batches:
        part = [
            {
                "id": p.id,
                "config": {f: getattr(p.config.replace(threads=p.config.threads or threads), f) for f in FIELDS},
                "dir": str((out / POINTS / p.id).resolve()),
            }
            for p in batch
        ]
        carried = {"custom": custom.parts_of(part[0]["config"])}  # a point's own code, to the worker processes
        if len(part) == 1:
            tasks.append(part[0] | where | carried)
            continue
        gid = "group-" + hashlib.sha256(" ".join(p.id for p in batch).encode()).hexdigest()[:12]
        tasks.append({"id": gid, "points": part, "dir": str((out / GROUPS / gid).resolve())} | where | carried)
        members[gid] = [p.id for p in batch]
    return tasks, members


def groups(points: list) -> list[list]:
    """Points whose configs differ only in GROUPABLE fields share shapes. Each such family is cut
    (round robin) into groups of at most GROUP_WIDTH samples per step (members x batch; on a GPU
    GPU_GROUP_WIDTH): past that width an ensemble costs as much per member as its points one by one.
    The groups depend on the sweep alone, never on the workers, so a sweep repeats bit for bit on any
    executor. Points with pictures, TensorBoard or their own per_member train alone."""
    families: dict[tuple, list] = {}
    for p in points:
        c = p.config
        alone = c.pictures or c.tensorboard or c.per_member
        key = ("alone", p.id) if alone else tuple(getattr(c, f) for f in FIELDS if f not in GROUPABLE)
        families.setdefault(key, []).append(p)
    out = []
    for family in families.values():
        c = family[0].config
        width = GPU_GROUP_WIDTH if c.device.startswith("cuda") else GROUP_WIDTH
        n = math.ceil(len(family) / max(1, width // (c.seeds * c.batch)))
        out += [family[i::n] for i in range(n)]
    return out


def _per_point(runner: Iterator[dict], members: dict[str, list[str]]) -> Iterator[dict]:
    """Each task's result as point results: a group's, or one error per point of a group that failed."""
    for result in runner:
        if "results" in result:
            yield from result["results"]
        elif result["id"] in members:  # the whole task failed (a worker that died, Ray's retries used up)
            for pid in members[result["id"]]:
                yield {"id": pid, "status": "error", "error": result.get("error", "")}
        else:
            yield result


def _collect(runner: Iterator[dict], results: Results, points_dir: Path, stream, total: int) -> None:
    bar = None
    if stream.isatty():
        bar = tqdm(total=total, unit="point", file=stream, dynamic_ncols=True)
    try:
        for i, result in enumerate(runner, 1):
            files = result.pop("files", None)
            if files:  # trained where DIR is not visible: the driver writes the point's files
                try:
                    write_files(points_dir / result["id"], files, fresh=True)
                except OSError as e:
                    raise GanfitError(f"cannot write {points_dir / result['id']}: {io_reason(e)}") from None
            results.add(result)
            results.write()
            line = point_line(results, result)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(line[:60], refresh=True)
            else:
                print(f"[{i}/{total}] {line}", file=stream, flush=True)
    finally:
        if bar is not None:
            bar.close()


def point_line(results: Results, result: dict) -> str:
    members = results.members(result)
    if result.get("status") == "error" or not members:
        return f"{result['id']}: {result.get('status')}: {result.get('error', '')}"

    k = sum(succeeded(results.sweep.criterion, m) for m in members)
    lo, hi = wilson(k, len(members))
    return (
        f"{result['id']}: {k}/{len(members)} succeeded [{lo:.2f}, {hi:.2f}]"
        f" ({result.get('status')}, {result.get('wall', 0):.1f} s)"
    )
