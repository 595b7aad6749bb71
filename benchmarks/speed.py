"""Training speed, back to back on one machine: the article's script, then ganfit at several ensemble sizes.

    .venv/bin/python benchmarks/speed.py                 # the table in docs/performance.md
    .venv/bin/python benchmarks/speed.py --ks 1,16 --budget 100000   # a quicker look

Every row is a separate process (so peak RSS is that run's own), timed from the command to its exit;
ganfit rows also report the training loop's own rate from summary.json. Ratios are against the
article's script measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_SCRIPT = ROOT.parent / "shared" / "seed" / "gan_seed.py"


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run cmd; return (wall seconds, peak RSS in MiB, stdout)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{text[-2000:]}")
    return wall, usage.ru_maxrss / 1024, text


def seed_row(epochs: int) -> dict | None:
    if not SEED_SCRIPT.exists():
        print(f"({SEED_SCRIPT} not found: skipping the article's script)", file=sys.stderr)
        return None
    wall, rss, _ = timed([sys.executable, str(SEED_SCRIPT)], env=os.environ | {"SEED_EPOCHS": str(epochs)})
    return {
        "what": f"article's script ({epochs} epochs)",
        "K": 1,
        "epochs": epochs,
        "wall": wall,
        "loop_rate": None,
        "rss": rss,
    }


def ganfit_row(K: int, epochs: int, device: str, extra: list[str], label: str = "", keep: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        if keep:
            tmp = tempfile.mkdtemp(prefix=f"K{K}-", dir=keep)
        cmd = [
            sys.executable,
            "-m",
            "ganfit",
            "train",
            "--seeds",
            str(K),
            "--epochs",
            str(epochs),
            "--device",
            device,
            "--out",
            f"{tmp}/run",
            *extra,
        ]
        wall, rss, _ = timed(cmd)
        summary = json.loads(Path(f"{tmp}/run/summary.json").read_text())
    loop = summary["wall_seconds"]
    return {
        "what": f"ganfit K={K}{label}",
        "K": K,
        "epochs": epochs,
        "wall": wall,
        "loop_rate": epochs / loop,
        "rss": rss,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ks", default="1,16,256,1024", help="ensemble sizes (default: 1,16,256,1024)")
    p.add_argument("--budget", type=int, default=300_000, help="GAN-epochs per ganfit row (default: 300,000)")
    p.add_argument("--seed-epochs", type=int, default=3000, help="epochs for the article's script (default: 3000)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--logging", action="store_true", help="also time K=1 and K=16 with metric rows off")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p.add_argument("--keep", metavar="DIR", help="keep the ganfit run directories under DIR")
    args = p.parse_args()

    rows = []
    seed = seed_row(args.seed_epochs) if args.device == "cpu" else None
    if seed:
        rows.append(seed)
    for K in [int(k) for k in args.ks.split(",")]:
        epochs = max(100, min(30_000, args.budget // K))
        rows.append(ganfit_row(K, epochs, args.device, [], keep=args.keep))
        if args.logging and K in (1, 16):
            rows.append(ganfit_row(K, epochs, args.device, ["--log-every", str(epochs)], " (metrics at end only)"))

    base = seed["epochs"] / seed["wall"] if seed else None
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, device {args.device}"
    )
    print(
        "| run | epochs | wall (s) | epochs/s (command) | GAN-epochs/s (command) | GAN-epochs/s (loop) "
        "| × article | compile | peak RSS (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        rate = r["epochs"] / r["wall"]
        loop = f"{r['K'] * r['loop_rate']:,.0f}" if r["loop_rate"] else "—"
        ratio = f"{r['K'] * rate / base:.1f}" if base else "—"
        print(
            f"| {r['what']} | {r['epochs']:,} | {r['wall']:.1f} | {rate:,.0f} | {r['K'] * rate:,.0f} | {loop} "
            f"| {ratio} | none (eager) | {r['rss']:,.0f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
