"""The run directory's files: created (or reopened to resume), config.toml, metrics.jsonl (its one
reader) and summary.json, and the split of a packed ensemble's files into its points' own.

    RUN_DIR/config.toml           the full resolved config: `ganfit train --config` repeats the run
    RUN_DIR/metrics.jsonl         one JSON row per member and log epoch
    RUN_DIR/summary.json          the outcome: status, success count, medians, every member's final row
    RUN_DIR/weights.safetensors   G's and D's weights, the frame map and column names (run.py)
    RUN_DIR/checkpoint.safetensors  what a resume needs (checkpoint.py)
    RUN_DIR/*.png, *.gif, snapshots.npz, tensorboard/   the pictures (pictures/)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import NamedTuple

import numpy as np
from safetensors import safe_open
from safetensors.torch import load_file, save

from .. import arrays, provenance
from ..config import DATA_FIELDS, Config, data_path, rebase, with_path
from ..errors import GanfitError
from ..files import atomic_write, io_reason, jsonable, open_regular, write_text
from ..game.targets import Target, make_target
from ..measure import metrics as M
from .checkpoint import CHECKPOINT

METRICS, SUMMARY, CONFIG, WEIGHTS = "metrics.jsonl", "summary.json", "config.toml", "weights.safetensors"
REPORT = "report.html"  # `ganfit report`'s page (pictures/report.py)
REPORT_MARK = (
    '<meta name="generator" content="ganfit report">'  # in each page's head: `report --out` replaces only those
)
DATA = "data.json"  # the fingerprint of a run's data (rows, sha256): a resume on other data refuses


def create(out: Path, config: Config, made_by: dict | None = None, data: dict | None = None) -> Config:
    """Make the run directory (see claim) and return the config it holds."""
    return claim(out, config, made_by, data)[0]


def claim(out: Path, config: Config, made_by: dict | None = None, data: dict | None = None) -> tuple[Config, bool]:
    """Make the run directory and write config.toml first, so an unwritable place fails before training.
    config.toml is created exclusively: of two processes given the same --out, one claims it and the
    other is refused, having changed nothing. Data given in memory are written there too (target.npy,
    validation.npy) and config.toml names them relative to itself, so that a moved or copied run uses
    its own copies; a data file named relative to the working directory is recorded absolute. made_by:
    the run's provenance (provenance.collect); data: the targets already made of the data fields (the
    plan's), so that a user's file is not read again.
    Returns (the config, with every data path absolute; whether this call made the directory)."""
    if out.exists() and (not out.is_dir() or any(p.name != ".lock" for p in out.iterdir())):
        raise _taken(out)
    given, prints = config, fingerprints(config, data)  # before anything is written: reading data may fail
    config = config.replace(**{f: _data_spec(out, f, getattr(config, f)) for f in DATA_FIELDS})
    text = _own(config, out).to_toml() + provenance.toml_table(made_by or provenance.collect())
    made = False
    try:
        try:
            out.mkdir(parents=True)
            made = True
        except FileExistsError:
            pass
        _write_new(out / CONFIG, text.encode("utf-8"))
    except FileExistsError:
        raise _taken(out) from None
    except OSError as e:
        if made:  # made by this process a moment ago; rmdir removes it only while it is empty
            with contextlib.suppress(OSError):
                out.rmdir()
        raise GanfitError(f"--out {out}: cannot write there ({io_reason(e)})") from None
    try:
        for f in DATA_FIELDS:
            _write_data(out, f, getattr(given, f))
        if prints:
            write_text(out / DATA, json.dumps(prints, indent=1) + "\n")
    except OSError as e:
        discard(out, made)
        raise GanfitError(f"--out {out}: cannot write there ({io_reason(e)})") from None
    return config, made


def _taken(out: Path) -> GanfitError:
    return GanfitError(f"--out {out}: already exists and is not an empty directory (choose another, or --resume it)")


def _write_new(path: Path, raw: bytes) -> None:
    """A file that must not exist yet (FileExistsError if it does), written whole or removed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with open(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _data_spec(out: Path, field: str, spec: str) -> str:
    """An in-memory data spec as the .npy file it becomes in the run directory; a relative data path
    as an absolute one (the run must not depend on where it was started); other specs as they are."""
    if not spec.startswith("array:"):
        return rebase(spec, Path.cwd())
    path, columns = str((out / f"{field}.npy").absolute()), ";".join(make_target(spec).columns)
    if any(c in path for c in ",;=:"):
        raise GanfitError(f"--out {out}: a path with , ; = or : cannot be named in a data spec; choose another")
    return with_path(f"npy:path=x,columns={columns}", path)


def _write_data(out: Path, field: str, spec: str) -> None:
    """Data given in memory (an array: spec) as the run directory's FIELD.npy."""
    if not spec.startswith("array:"):
        return
    data = make_target(spec).data

    def write(tmp):
        with open(tmp, "wb") as fh:  # a file, not a name: np.save would append ".npy" to a name
            np.save(fh, data)

    atomic_write(out / f"{field}.npy", write)


def _own(config: Config, out: Path) -> Config:
    """The config as config.toml holds it: the run's own data files named relative to it."""
    here = os.path.normpath(out.absolute())
    own = {}
    for f in DATA_FIELDS:
        path = data_path(getattr(config, f))
        if path is not None and os.path.dirname(os.path.normpath(path)) == here:
            own[f] = with_path(getattr(config, f), Path(path).name)
    return config.replace(**own) if own else config


def discard(out: Path, made: bool) -> None:
    """Empty a run directory this process claimed (see claim) and that never got a checkpoint: all in it
    is this run's. The directory goes too where this process made it; one it found empty stays."""
    if made:
        shutil.rmtree(out, ignore_errors=True)
        return
    for p in out.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def fingerprints(config: Config, data: dict | None = None) -> dict[str, dict]:
    """{field: {rows, sha256}} of the data a run trains and validates on (a user's samples), else {};
    data: {field: Target or None} already made (else each field's spec is read)."""
    out = {}
    for field in DATA_FIELDS:
        spec = getattr(config, field)
        target = data[field] if data is not None else make_target(spec) if spec else None
        if target is not None and target.data is not None:
            out[field] = {"rows": len(target.data), "sha256": arrays.fingerprint(target.data)}
    return out


def check_data(run_dir: Path, config: Config, what: str = "") -> None:
    """A resume, or a replay of its config.toml (`what` says which), trains on the data the run started
    with: the fingerprints in data.json must match."""
    try:
        recorded = json.loads((run_dir / DATA).read_text(encoding="utf-8"))
    except FileNotFoundError:  # a run from before ganfit recorded its data, or one on a closed-form target
        return
    except (OSError, ValueError) as e:
        raise GanfitError(f"{run_dir / DATA}: unreadable ({e})") from None
    if not (
        isinstance(recorded, dict)
        and all(isinstance(v, dict) and {"rows", "sha256"} <= set(v) for v in recorded.values())
    ):
        raise GanfitError(f"{run_dir / DATA}: unreadable (not ganfit's record of the data)")
    now = fingerprints(config)
    for field in sorted(set(recorded) | set(now)):
        old, new = recorded.get(field), now.get(field)
        if old != new:
            was = f"{old['rows']} rows, sha256 {old['sha256'][:12]}" if old else "none"
            raise GanfitError(
                f"{what or f'--resume {run_dir}'}: the {field} data changed since the run began (was {was}, now"
                f" {new['rows'] if new else 0} rows{', sha256 ' + new['sha256'][:12] if new else ''}): train a new run"
            )


def rewrite_config(run_dir: Path, config: Config) -> None:
    """config.toml with `config` (a resume that asked for more epochs), its recorded provenance kept."""
    text, own = (run_dir / CONFIG).read_text(encoding="utf-8"), _own(config, run_dir).to_toml()
    if text.split(provenance.MARK)[0] != own:
        try:
            write_text(run_dir / CONFIG, own + provenance.toml_table(provenance.read(run_dir / CONFIG)))
        except OSError as e:
            raise GanfitError(f"cannot write {run_dir / CONFIG}: {io_reason(e)}") from None


def reopen(run_dir: Path, epochs: int | None = None) -> Config:
    """The config of a run to resume (with another epoch count, if asked); checks there is something to
    resume. train(..., resume=True) records a changed epoch count in config.toml once it holds the lock."""
    if not (run_dir / CONFIG).is_file():
        raise GanfitError(f"--resume {run_dir}: no config.toml (not a ganfit run directory)")
    if not (run_dir / CHECKPOINT).is_file():
        raise GanfitError(f"--resume {run_dir}: no {CHECKPOINT} (the run stopped before its first checkpoint)")
    config = Config.from_toml(run_dir / CONFIG)
    return config.replace(epochs=epochs).validate() if epochs is not None else config


def is_report(path: Path) -> bool:
    """Whether a regular file is a page `ganfit report` wrote (its generator mark, or, on a page from
    before the mark, its Content-Security-Policy); a link, a FIFO or a device is not read."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as fh:
            head = fh.read(2048).decode("utf-8", errors="replace")
    except OSError:
        return False
    return REPORT_MARK in head or "Content-Security-Policy\" content=\"default-src 'none'" in head


def drop_report(run_dir: Path) -> None:
    """A run that trains on makes its report.html stale: it goes (`ganfit report` draws the new one)."""
    if is_report(run_dir / REPORT):
        (run_dir / REPORT).unlink(missing_ok=True)


def cut_metrics(path: Path, upto: int) -> None:
    """metrics.jsonl cut back to the checkpoint's byte count: rows a killed run wrote after it go."""
    try:
        with open(open_regular(path, os.O_RDWR), "r+b") as fh:  # a symbolic link there is refused, never followed
            if fh.seek(0, 2) < upto:  # truncate would pad a short file with NULs
                raise GanfitError(f"{path}: shorter than the checkpoint's {upto} bytes")
            fh.truncate(upto)
    except FileNotFoundError:
        if upto:
            raise GanfitError(f"{path}: missing, but the checkpoint counts {upto} bytes of it") from None


def read_metrics(path: Path) -> list[dict]:
    """metrics.jsonl's rows; a line that is not one (half-written by a killed run, or damaged) is skipped."""
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("epoch"), int) and isinstance(r.get("member"), int):
            rows.append(r)
    return rows


def read_summary(run_dir: Path) -> dict:
    """summary.json as a dict; {} where there is none (yet) or it cannot be read."""
    try:
        s = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
        return s if isinstance(s, dict) else {}
    except (OSError, ValueError):
        return {}


def finished(run_dir: Path) -> bool:
    return read_summary(run_dir).get("status") == "finished"


def last_rows(history: list[dict], members: int) -> dict[str, np.ndarray]:
    """The last log row of each member, as the per-member arrays a summary is made of."""
    rows = history[-members:]
    names = [n for n in rows[0] if n not in ("epoch", "member", "seed", "status")]
    return {n: np.array([np.nan if r[n] is None else r[n] for r in rows]) for n in names}


class Outcome(NamedTuple):
    """How a run ended: its status, the epochs it has done, this process's seconds and the epochs it
    trained in them (a resume trains fewer than `epochs`: the speed figure's)."""

    status: str
    epochs: int
    wall: float
    trained: int


def summary(c: Config, target: Target, final: dict, statuses, outcome: Outcome) -> dict:
    """summary.json's content: the outcome, the medians, every member's final row (its seed and what
    per_member gave it, member k's status and the epoch it was set: statuses[k])."""
    status, epochs_done, wall, trained = outcome
    seeds, own = c.member_seeds(), {n: v for n, v in c.member_values().items() if n != "seed"}
    K = len(seeds)
    members = []
    for k in range(K):
        state, at = statuses[k]
        row = {"member": k, "seed": seeds[k]} | {n: v[k] for n, v in own.items()}  # what per_member gave it
        row |= {"status": state, "status_epoch": at} | {n: v[k] for n, v in final.items()}
        if state == "diverged" and "learned" in row:  # its metrics are its last finite state's: never a success
            row["learned"] = False
        members.append(row)
    median = medians(final, target) if final else {}
    return jsonable(
        {
            "status": status,
            "epochs": epochs_done,
            "epochs_planned": c.epochs,
            "members_total": K,
            "learned": sum(bool(m.get("learned")) for m in members),
            "diverged": sum(s == "diverged" for s, _ in statuses),
            "stopped_early": sum(s == "stopped" for s, _ in statuses),
            "criterion": M.criterion(target),
            "target": target.describe(),
            "target_mean": target.mean.tolist(),
            "target_std": target.std.tolist(),
            "median": median,
            "wall_seconds": round(wall, 3),
            "gan_epochs_per_second": round(K * trained / wall, 1) if wall > 0 and trained > 0 else None,
            "members": members,
        }
    )


def medians(final: dict[str, np.ndarray], target: Target) -> dict:
    """The ensemble's median of each metric and loss (in float64: the same from float32 arrays as from the
    rows metrics.jsonl holds of them), None where no member has a finite value."""
    names = (*M.names(target), *M.validation_names(target.dim), *M.LOSS_COLUMNS)
    values = {n: np.asarray(final[n], dtype=np.float64) for n in names if n in final}
    return {n: np.nanmedian(v) if np.isfinite(v).any() else None for n, v in values.items()}


def _packed_note(config: Config) -> str:
    """A packed point's config.toml: it repeats the point's own run to float rounding, not bit for bit."""
    text = config.to_toml()
    first, rest = text.split("\n", 1)
    note = (
        "# ganfit run configuration of a sweep point that trained packed with other points as one ensemble"
        " (per_member):\n# `ganfit train --config THIS_FILE` repeats it to float rounding, not bit for bit;"
        " rerun the sweep to repeat the pack exactly."
    )
    return (note if first.startswith("# ganfit run configuration:") else first) + "\n" + rest


def split(run_dir: Path, first: int, config: Config) -> dict[str, bytes]:
    """The files that members [first, first + config.seeds) of the finished run in run_dir would have
    written as a run of their own with `config`: config.toml, metrics.jsonl, summary.json and
    weights.safetensors (a sweep trains several points as one ensemble, then hands each its files)."""
    K, whole = config.seeds, read_summary(run_dir)
    mine = range(first, first + K)
    rows = read_metrics(run_dir / METRICS)
    metrics = "".join(json.dumps(r | {"member": r["member"] - first}) + "\n" for r in rows if r["member"] in mine)
    members = [m | {"member": m["member"] - first} for m in whole["members"][first : first + K]]
    scalars = {n for n, v in members[0].items() if isinstance(v, float | int | None) and n not in ("member", "seed")}
    final = {n: np.array([np.nan if m[n] is None else m[n] for m in members], dtype=float) for n in scalars}
    statuses = [m["status"] for m in members]
    summary = whole | {
        "epochs_planned": config.epochs,
        "members_total": K,
        "learned": sum(bool(m.get("learned")) for m in members),
        "diverged": statuses.count("diverged"),
        "stopped_early": statuses.count("stopped"),
        "median": medians(final, make_target(config.target)),
        "gan_epochs_per_second": (  # this point's share of the pack's speed
            round(whole["gan_epochs_per_second"] * K / whole["members_total"], 1)
            if whole.get("gan_epochs_per_second")
            else None
        ),
        "members": members,
    }
    path = run_dir / WEIGHTS
    with safe_open(path, "pt") as fh:
        info = json.loads(fh.metadata()["ganfit"]) | {"members": K}
    weights = {n: t[first : first + K].contiguous() for n, t in load_file(path).items()}
    return {  # summary.json last: a directory with one is finished (sweep/tasks.write_files keeps the order)
        CONFIG: _packed_note(config).encode(),
        "metrics.jsonl": metrics.encode(),
        WEIGHTS: save(weights, metadata={"ganfit": json.dumps(info, sort_keys=True)}),
        "summary.json": (json.dumps(jsonable(summary), indent=2) + "\n").encode(),
    }
