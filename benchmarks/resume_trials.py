"""Kill a run with SIGKILL at random moments, resume it, and compare with an uninterrupted run, byte for byte.

    .venv/bin/python benchmarks/resume_trials.py --trials 10

Each trial waits for a random checkpoint epoch, then a random extra delay (so the kill lands anywhere:
mid-step, mid-log, mid-checkpoint), kills, resumes (again and again if the resumed run is killed too),
and compares weights.safetensors and metrics.jsonl with the reference run's.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from safetensors import safe_open

ARGS = ["--epochs", "1500", "--seeds", "3", "--log-every", "50", "--eval-samples", "1000", "--checkpoint-every", "100"]


def ganfit(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganfit", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def checkpoint_epoch(run: Path) -> int:
    try:
        with safe_open(run / "checkpoint.safetensors", "pt") as fh:
            return int(fh.metadata()["epoch"])
    except Exception:
        return -1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args()
    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="ganfit-resume-"))
    ref = tmp / "reference"
    assert ganfit("train", *ARGS, "--out", str(ref)).wait() == 0
    identical = 0
    for trial in range(args.trials):
        run = tmp / f"trial{trial}"
        target, delay = rnd.randrange(0, 1400, 100), rnd.uniform(0, 0.4)
        proc = ganfit("train", *ARGS, "--out", str(run))
        while checkpoint_epoch(run) < target and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = checkpoint_epoch(run)
        rc = ganfit("train", "--resume", str(run)).wait() if killed_at >= 0 else None
        if killed_at < 0:  # killed before the first checkpoint: nothing to resume, start again
            rc = ganfit("train", *ARGS, "--out", str(run / "again")).wait()
            run = run / "again"
        same = all((ref / f).read_bytes() == (run / f).read_bytes() for f in ("weights.safetensors", "metrics.jsonl"))
        identical += same
        print(
            f"trial {trial}: killed {delay:.2f} s after checkpoint epoch >= {target} (last checkpoint "
            f"{killed_at}), resume exit {rc}: {'identical' if same else 'DIFFERENT'}",
            flush=True,
        )
    print(f"{identical}/{args.trials} resumed runs identical, byte for byte, to the uninterrupted run")


if __name__ == "__main__":
    main()
