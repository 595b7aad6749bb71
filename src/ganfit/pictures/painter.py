"""evolution.gif drawn in a second process while this one draws the PNGs: the end of a run with
pictures then costs about half as much on two cores (docs/performance.md).

The painter is a plain child process (`python -m ganfit.pictures.painter`), started when a run with pictures
starts, so that its imports overlap training, and reused by later runs of the same process. It reads
one job per line on stdin and answers one line on stdout. It is its own session (Ctrl-C is the
parent's to handle) and ends when its stdin closes, which happens when the parent exits or dies, so it
never outlives the run. Anything that goes wrong there is answered with None, and the caller draws
the GIF itself.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import select
import subprocess
import sys
from pathlib import Path

from ..game.targets import make_target
from .animate import evolution
from .snapdata import SnapData

_child: subprocess.Popen | None = None
TIMEOUT = 600  # seconds for one GIF, far above the ~1 s it takes


def start() -> subprocess.Popen | None:
    """The live painter (started now if there is none); None on a one-core machine."""
    global _child
    if _child is not None and _child.poll() is None:
        return _child
    if (os.cpu_count() or 1) < 2:
        return None
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    try:
        _child = subprocess.Popen(
            [sys.executable, "-m", "ganfit.pictures.painter"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
    except OSError:
        _child = None
    return _child


def submit(snapshots: Path, target_spec: str, path: Path) -> tuple[subprocess.Popen, str] | None:
    """Ask the painter for `path` (a GIF of the saved snapshots); the job to collect, or None."""
    child = start()
    if child is None:
        return None
    try:
        child.stdin.write(json.dumps({"snapshots": str(snapshots), "target": target_spec, "path": str(path)}) + "\n")
        child.stdin.flush()
    except OSError:  # it died: the caller draws
        stop()
        return None
    return child, str(path)


def collect(job: tuple[subprocess.Popen, str] | None, timeout: float = TIMEOUT) -> Path | None:
    """The painter's answer: the GIF's path, or None (it failed, died, took too long, or answered a
    job nobody collected, in which case it is replaced)."""
    if job is None:
        return None
    child, path = job
    try:
        ready, _, _ = select.select([child.stdout], [], [], timeout)
        answer = json.loads(child.stdout.readline()) if ready else {}
    except (OSError, ValueError):
        answer = {}
    if answer.get("path") != path:
        stop()
        return None
    return Path(path)


def stop() -> None:
    """End the painter (its stdin closes; it exits)."""
    global _child
    child, _child = _child, None
    if child is not None:
        try:
            child.stdin.close()
            child.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()


atexit.register(stop)


def main() -> None:
    for line in sys.stdin:
        try:
            job = json.loads(line)
            snaps, target = SnapData.load(Path(job["snapshots"])), make_target(job["target"])
            answer = {"path": str(evolution(snaps, target, Path(job["path"])))}
        except Exception as e:  # the parent draws it instead, and reports whatever goes wrong there
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)
    gc.freeze()  # stdin closed: exit without collecting torch's and matplotlib's objects (0.5 s the parent waits)


if __name__ == "__main__":
    main()
