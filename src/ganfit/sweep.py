"""`ganfit sweep`: run every point of a sweep file, here (all cores) or on a Ray cluster, losing nothing.

A point is one config and its seeds. Points whose configs differ only in Adam's settings (learning
rates, betas) have the same shapes, so they train together as one ensemble (config.per_member) in
DIR/groups/<id>, up to a width past which grouping gains nothing (`groups`); each point then gets the
files a run of its own would have written, in DIR/points/<id>. Other points train alone there. A point
in a group matches its own run to float rounding (which chaotic settings amplify over the epochs, as
they do between two machines); the groups depend on the sweep file alone, so a sweep repeats bit for
bit. Tasks go to an engine:

- local (the default): a pool of worker processes, one per core, each torch at one thread;
- ray: one Ray task per point on an existing cluster (`address`), or on one started here (loopback
  only). A task whose worker dies is retried by Ray (`max_retries`) and resumes from the point's last
  checkpoint. When the workers cannot see DIR (no shared file system), a task trains in a scratch
  directory and sends the point's files back, and the driver writes them.

Whatever the engine, the driver keeps one result per point (a retried task replaces, never adds),
rewrites results.csv and points.csv atomically after each point, and a rerun into the same DIR skips
finished points and resumes or restarts the others.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from . import rundir
from .checkpoint import CHECKPOINT, RunLock
from .config import FIELDS, Config
from .errors import GanfitError
from .run import atomic_write, write_text
from .sweepfile import Sweep
from .sweepresults import Results, wilson

POINTS, GROUPS = "points", "groups"
GROUPABLE = ("lr_d", "lr_g", "beta1", "beta2")  # what members of one ensemble may differ in (besides seed)
GROUP_WIDTH = 1600  # members x batch past which one thread's ensemble gets no cheaper per member
TOKEN = ".sweep-token"
DONE = ("finished", "all members stopped")
RUNTIME_FIELDS = ("threads", "checkpoint_every", "pictures", "snapshot_every", "tensorboard")
RAY_RETRIES = 3
ENGINES = ("local", "ray")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---- one task (a point, or a group of points), wherever it runs


def run_task(task: dict) -> dict:
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
                    _write_files(Path(p["dir"]), files, fresh=True)
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
            _write_files(d, result["files"])
        threads = Config.from_toml(d / "config.toml").threads
        return rundir.split(d, first, config.replace(threads=threads))


def _write_files(d: Path, files: dict[str, bytes], fresh: bool = False) -> None:
    """Write a run's files into d, each atomically, in order (summary.json, which marks a finished
    run, comes last); `fresh` first empties d of what an earlier attempt left (a stale checkpoint)."""
    if fresh:
        _clear(d)
    d.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        atomic_write(d / name, lambda tmp, raw=raw: Path(tmp).write_bytes(raw))


def _sees_sweep_dir(task: dict) -> bool:
    try:
        return (Path(task["sweep_dir"]) / TOKEN).read_text().strip() == task["token"]
    except OSError:
        return False


def train_point(config: Config, d: Path) -> dict:
    """The point's summary: read back when it is done, else resumed from its checkpoint, else trained."""
    from .train import train

    summary = rundir.read_summary(d)
    if summary.get("status") in DONE and differences(d, config) == []:
        return summary
    if _checkpoint_epoch(d) is not None and _checkpoint_epoch(d) < config.epochs and not differences(d, config, True):
        return train(rundir.reopen(d, config.epochs), d, resume=True).summary
    _clear(d)
    return train(config, d).summary


def differences(d: Path, config: Config, ignore_epochs: bool = False) -> list[str] | None:
    """Fields in which d's config.toml differs from config (None: no readable config there)."""
    try:
        old = Config.from_toml(d / "config.toml")
    except GanfitError:
        return None
    skip = RUNTIME_FIELDS + (("epochs",) if ignore_epochs else ())
    return [f for f in FIELDS if f not in skip and getattr(old, f) != getattr(config, f)]


def _checkpoint_epoch(d: Path) -> int | None:
    from safetensors import safe_open

    try:
        with safe_open(d / CHECKPOINT, "pt") as fh:
            return int((fh.metadata() or {})["epoch"])
    except Exception:
        return None


def _clear(d: Path) -> None:
    """Empty a point directory a killed or failed attempt left, under its lock (a live run keeps it)."""
    d.mkdir(parents=True, exist_ok=True)
    with RunLock(d):
        for p in d.iterdir():
            if p.name == ".lock":
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()


# ---- engines: each yields one result per task, in the order they finish


def local_engine(tasks: list[dict], workers: int) -> Iterator[dict]:
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(t)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that has torch's threads running
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # the workers' OpenMP/BLAS pools: one thread each, as Ray's workers have
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx)
    futures = {pool.submit(run_task, t): t for t in tasks}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield _future_result(f, futures[f])
    except KeyboardInterrupt:  # the workers got SIGINT too: they checkpoint and return "interrupted"
        for f in pending:
            f.cancel()
        for f in pending:
            if not f.cancelled():
                yield _future_result(f, futures[f])
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _future_result(f, task: dict) -> dict:
    try:
        return f.result()
    except BaseException as e:  # a worker process died (BrokenProcessPool) or was interrupted
        return {"id": task["id"], "status": "error", "error": f"worker process failed: {type(e).__name__}: {e}"}


def ray_engine(tasks: list[dict], address: str | None, workers: int) -> Iterator[dict]:
    host = None if address in (None, "auto") else _reachable(address)
    if address is None or host in ("127.0.0.1", "localhost", "::1"):
        # Loopback stays loopback: without this Ray swaps 127.0.0.1 for the machine's own address, and a
        # cluster started here listens on 127.0.0.1 only (Ray's switch for one-machine clusters).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise GanfitError("--engine ray needs Ray: pip install 'ganfit[ray]'") from None
    started = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise GanfitError(f"Ray: cannot start or reach a cluster at {address or 'a new local one'} ({e})") from None
        started = True
    remote = ray.remote(num_cpus=1, max_retries=RAY_RETRIES, retry_exceptions=False)(run_task)
    refs = {remote.remote(t): t for t in tasks}
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for r in ready:
                task = refs.pop(r)
                try:
                    result = ray.get(r)
                except ray.exceptions.RayError as e:  # retries exhausted: recorded, the rest go on
                    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    result = {"id": task["id"], "status": "error", "error": f"Ray: {first}"}
                yield result
    except KeyboardInterrupt:
        for r in refs:
            ray.cancel(r)
        raise
    finally:
        if started:
            ray.shutdown()


def _reachable(address: str) -> str:
    """HOST of HOST:PORT, after checking that something listens there (Ray itself retries for minutes)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise GanfitError(f"--address {address!r}: expected auto or HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise GanfitError(f"--address {address}: no Ray cluster answers there ({e.strerror or e})") from None
    return host


# ---- the sweep


def _prepare(sweep: Sweep, points_dir: Path) -> tuple[list[dict], list]:
    """Results of points already done, and the points to run (a mismatching directory is an error)."""
    done, todo = [], []
    for p in sweep.points:
        d = points_dir / p.id
        diff = differences(d, p.config, ignore_epochs=True)
        if diff:
            f = diff[0]
            old = Config.from_toml(d / "config.toml")
            raise GanfitError(
                f"{d} was trained with {f} = {getattr(old, f)!r}, this sweep asks for {getattr(p.config, f)!r}:"
                " use another --out, or remove that point's directory"
            )
        summary = rundir.read_summary(d)
        old_epochs = Config.from_toml(d / "config.toml").epochs if diff == [] else None
        if summary.get("status") in DONE and old_epochs == p.config.epochs:
            done.append({"id": p.id, "status": summary["status"], "summary": summary, "skipped": True})
        elif old_epochs is not None and old_epochs > p.config.epochs and summary.get("status") in DONE:
            asked = p.config.epochs
            raise GanfitError(f"{d} trained {old_epochs} epochs, this sweep asks for {asked}: use another --out")
        else:
            todo.append(p)
    return done, todo


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    stream=None,
) -> Results:
    """Run the points of `sweep` not yet done into DIR `out`; return every point's result."""
    if engine not in ENGINES:
        raise GanfitError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    if address and engine != "ray":
        raise GanfitError("--address names a Ray cluster: it needs --engine ray")
    if engine == "ray" and address not in (None, "auto"):
        _reachable(address)  # before DIR is touched
    out, stream = Path(out), stream or sys.stderr
    workers = workers or os.cpu_count() or 1
    points_dir = out / POINTS
    try:
        points_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GanfitError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    with RunLock(out):
        token = secrets.token_hex(16)
        try:
            write_text(out / "sweep.toml", sweep.text)
            write_text(out / TOKEN, token + "\n")
        except OSError as e:
            raise GanfitError(f"--out {out}: cannot write there ({e.strerror or e})") from None
        results = Results(sweep, out)
        done, todo = _prepare(sweep, points_dir)
        for r in done:
            results.add(r)
        results.write()
        waiting = {p.id for p in todo}  # groups as a fresh sweep makes them, less the points already done
        batches = [b for b in ([p for p in g if p.id in waiting] for g in groups(sweep.points)) if b]
        threads = 1 if engine == "ray" or (workers > 1 and len(batches) > 1) else 0
        where = {"sweep_dir": str(out.resolve()), "token": token}
        tasks, members = [], {}
        for batch in batches:
            part = [
                {
                    "id": p.id,
                    "config": {f: getattr(p.config.replace(threads=p.config.threads or threads), f) for f in FIELDS},
                    "dir": str((points_dir / p.id).resolve()),
                }
                for p in batch
            ]
            if len(part) == 1:
                tasks.append(part[0] | where)
                continue
            gid = "group-" + hashlib.sha256(" ".join(p.id for p in batch).encode()).hexdigest()[:12]
            tasks.append({"id": gid, "points": part, "dir": str((out / GROUPS / gid).resolve())} | where)
            members[gid] = [p.id for p in batch]
        grouped = sum(len(b) for b in batches if len(b) > 1)
        print(
            f"sweep: {len(sweep.points)} point(s) x {sweep.seeds} seed(s); {len(done)} already done,"
            f" {len(todo)} to run on {engine}"
            + (f" ({workers} workers)" if engine == "local" else "")
            + (f"; {grouped} of them as {len(members)} ensemble(s) of points" if members else ""),
            file=stream,
            flush=True,
        )
        if tasks:
            runner = local_engine(tasks, workers) if engine == "local" else ray_engine(tasks, address, workers)
            _collect(_per_point(runner, members), results, points_dir, stream, len(todo))
        return results


def groups(points: list) -> list[list]:
    """Points whose configs differ only in GROUPABLE fields share shapes. Each such family is cut
    (round robin) into groups of at most GROUP_WIDTH samples per step (members x batch): past that
    width an ensemble costs as much per member as its points one by one. The groups depend on the
    sweep alone, never on the workers, so a sweep repeats bit for bit on any engine. Points with
    pictures, TensorBoard or their own per_member train alone."""
    families: dict[tuple, list] = {}
    for p in points:
        c = p.config
        alone = c.pictures or c.tensorboard or c.per_member
        key = ("alone", p.id) if alone else tuple(getattr(c, f) for f in FIELDS if f not in GROUPABLE)
        families.setdefault(key, []).append(p)
    out = []
    for family in families.values():
        c = family[0].config
        n = math.ceil(len(family) / max(1, GROUP_WIDTH // (c.seeds * c.batch)))
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
        from tqdm import tqdm

        bar = tqdm(total=total, unit="point", file=stream, dynamic_ncols=True)
    try:
        for i, result in enumerate(runner, 1):
            files = result.pop("files", None)
            if files:  # trained where DIR is not visible: the driver writes the point's files
                _write_files(points_dir / result["id"], files, fresh=True)
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
    from .criteria import succeeded

    k = sum(succeeded(results.sweep.criterion, m) for m in members)
    lo, hi = wilson(k, len(members))
    return (
        f"{result['id']}: {k}/{len(members)} succeeded [{lo:.2f}, {hi:.2f}]"
        f" ({result.get('status')}, {result.get('wall', 0):.1f} s)"
    )
