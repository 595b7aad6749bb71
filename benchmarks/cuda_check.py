"""The CUDA path, checked and timed against the CPU on the same machine, in one invocation.

    PYTHONPATH=src python benchmarks/cuda_check.py --out DIR        # on a machine with a GPU
    PYTHONPATH=src python benchmarks/cuda_check.py --dry --out DIR  # here: every section, tiny, cpu for cuda

Each section prints its lines and appends JSON rows to DIR/cuda_check.jsonl as it goes, so a run cut
short keeps what it measured:

- env: the card, its driver, torch and CUDA versions, the CPU cores; the device-to-device copy rate
  (bytes read + written per second): the memory-bandwidth ceiling the speed rows are set against.
- agreement: the same configs on cpu and cuda for a short horizon (largest weight difference), and the
  graph engine against the torch step launched op by op on cuda.
- resume: a cuda run interrupted at a checkpoint and resumed, against the same run straight through.
- speed: GAN-epochs/s of the training step as the loop plays it (draw, blocks, no metric rows), cuda
  (graphs) beside cpu (the compiled step on all cores), per workload and ensemble size; at K = 1 also
  the torch step on cuda without graphs (the engine before this one).
- e2e: `ganfit train` with no options (K = 1, 30,000 epochs) on each device, command to exit.
- success: the seed's game (30,000 epochs) and robust1d (4,000) over 64 seeds on cpu and cuda: how many
  learned, with Wilson 95% intervals.
- kernels: kernels per epoch on cuda, from the profiler (what bounds K = 1).
- compile: torch.compile(mode="reduce-overhead") of the seed's epoch at K = 1, for comparison (a child
  process with a time limit).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganfit import Config, GanfitError, budget, rundir, train
from ganfit.game import Game, rng
from ganfit.recipes import load as recipe
from ganfit.training import CHUNK, DRAW_BUDGET

OUT: Path = Path(".")
COPY_GBPS = 0.0  # measured in env: the device-to-device copy rate
ROWS: list[dict] = []  # the speed rows, for the closing table
DEV = "cuda"  # --dry: "cpu", so that every section runs here
STARTED = time.perf_counter()


def emit(section: str, **row) -> None:
    row = {"section": section, "t": round(time.perf_counter() - STARTED, 1)} | row
    with open(OUT / "cuda_check.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")


def say(text: str) -> None:
    print(text, flush=True)


def sync() -> None:
    if DEV.startswith("cuda"):
        torch.cuda.synchronize()


def environment() -> None:
    smi = "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader"
    try:
        card = subprocess.run(smi.split(), capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        card = "no nvidia-smi"
    info = {
        "card": card,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "cpu_cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
    }
    n = 1 << 28 if DEV.startswith("cuda") else 1 << 22  # 1 GiB of float32 (here: 16 MiB)
    a = torch.empty(n, device=DEV).uniform_()
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    sync()
    t = time.perf_counter()
    reps = 20
    for _ in range(reps):
        b.copy_(a)
    sync()
    global COPY_GBPS
    info["copy_GBps"] = COPY_GBPS = round(2 * 4 * n * reps / (time.perf_counter() - t) / 1e9, 1)
    del a, b
    emit("env", **info)
    say(f"env | {json.dumps(info)}")


def weights(run) -> list[torch.Tensor]:
    return [p.detach().cpu() for p in (*run.G.parameters(), *run.D.parameters())]


def max_diff(a: list, b: list) -> float:
    return max(float((p - q).abs().max()) for p, q in zip(a, b, strict=True))


def with_graphs(on: bool):
    os.environ["GANFIT_CUDA_GRAPHS"] = "1" if on else "0"


def agreement(epochs: int) -> None:
    cases = {
        "seed game, K=16": Config(seeds=16),
        "robust1d, K=8": recipe("robust1d").replace(seeds=8),
        "ring, K=4": recipe("ring").replace(seeds=4),
    }
    for what, c in cases.items():
        c = c.replace(epochs=epochs, log_every=epochs, eval_samples=2000, threads=1)
        cpu = train(c.replace(device="cpu"), progress=None)
        gpu = train(c.replace(device=DEV), progress=None)
        with_graphs(False)
        eager = train(c.replace(device=DEV), progress=None)
        with_graphs(True)
        key = "ks" if "ks" in cpu.summary["median"] else "sw"
        row = {
            "case": what,
            "epochs": epochs,
            "engines": [cpu.summary["engine"], gpu.summary["engine"], eager.summary["engine"]],
            "max_diff_cpu_cuda": max_diff(weights(cpu), weights(gpu)),
            "max_diff_graph_eager": max_diff(weights(gpu), weights(eager)),
            "bit_identical_graph_eager": all(torch.equal(a, b) for a, b in zip(weights(gpu), weights(eager))),
            f"median_{key}": [cpu.summary["median"][key], gpu.summary["median"][key]],
        }
        emit("agreement", **row)
        say(f"agreement | {json.dumps(row)}")


def resume() -> None:
    for name, c in {"seed game": Config(seeds=4), "robust1d": recipe("robust1d").replace(seeds=4)}.items():
        c = c.replace(epochs=300, log_every=50, eval_samples=1000, checkpoint_every=100, device=DEV)
        with tempfile.TemporaryDirectory() as tmp:
            whole, half = Path(tmp, "whole"), Path(tmp, "half")
            train(c, whole, progress=None)
            train(c.replace(epochs=150), half, progress=None)
            train(rundir.reopen(half, 300), half, resume=True, progress=None)
            same = (whole / "weights.safetensors").read_bytes() == (half / "weights.safetensors").read_bytes()
            a = [json.loads(r) for r in (whole / "metrics.jsonl").read_text().splitlines()]
            b = [json.loads(r) for r in (half / "metrics.jsonl").read_text().splitlines()]
            b = [r for r in b if r["epoch"] != 149]  # the 150-epoch run's own last row
        emit("resume", case=name, weights_bit_identical=same, metric_rows_identical=a == b)
        say(f"resume | {name}: weights bit-identical {same}, metric rows identical {a == b}")


def play(game: Game, keys, start: int, count: int) -> None:
    """count epochs from start as training._play hands them to the game (no metric rows)."""
    K = keys.shape[0]
    block = max(1, DRAW_BUDGET // (K * game.uniforms_per_epoch()))
    epoch, end = start, start + count
    while epoch < end:
        first = epoch - epoch % block
        drawn = game.draw(keys, first, block)
        while epoch - first < block and epoch < end:
            t = epoch - first
            n = min(CHUNK, block - t, end - epoch)
            game.play(drawn, t, t + n)
            epoch += n
    sync()


def rate(config: Config, seconds: float) -> dict:
    """GAN-epochs/s of config's step on its device: a warm-up that plays each block length once (the
    graphs' captures), a probe, then about `seconds` of epochs."""
    budget.check(config)
    torch.set_num_threads(config.threads)  # as train() does
    game = Game.build(config)
    keys = rng.member_keys(config.member_seeds(), "train", game.G.device)
    K = config.seeds
    block = max(1, DRAW_BUDGET // (K * game.uniforms_per_epoch()))
    drawn = game.draw(keys, 0, block)
    for size in (1 << i for i in range(7)):
        if size <= min(CHUNK, block):
            game.play(drawn, 0, size)
    sync()
    at, probe = CHUNK, 1
    for _ in range(2):  # one epoch, then about 0.2 s of them: the epochs the timed part needs
        t = time.perf_counter()
        play(game, keys, at, probe)
        per_epoch = (time.perf_counter() - t) / probe
        at, probe = at + probe, max(1, min(5000, round(0.2 / per_epoch)))
    count = max(1, round(seconds / per_epoch))
    t = time.perf_counter()
    play(game, keys, at, count)
    wall = time.perf_counter() - t
    out = {"engine": game.engine.name, "epochs": count, "wall": round(wall, 3), "gan_epochs_per_s": K * count / wall}
    if DEV.startswith("cuda") and game.G.device.type == "cuda":
        out["peak_GB"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
        out["state_bytes_per_gan_epoch"] = 8 * 4 * (game.engine.G.theta.shape[1] + game.engine.D.theta.shape[1])
    del game, drawn
    if DEV.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    return out


WORKLOADS = {"seed": lambda: Config(), "robust1d": lambda: recipe("robust1d"), "ring": lambda: recipe("ring")}


def speed_row(name: str, K: int, seconds: float, cpu: bool = True) -> dict:
    base = WORKLOADS[name]().replace(seeds=K, epochs=10**7, log_every=10**7, eval_samples=100)
    row = {"workload": name, "K": K}
    row["cuda"] = rate(base.replace(device=DEV, threads=1), seconds)
    if K == 1 and name == "seed":
        with_graphs(False)
        row["cuda_eager"] = rate(base.replace(device=DEV, threads=1), seconds)
        with_graphs(True)
    if cpu:
        try:
            row["cpu"] = rate(base.replace(device="cpu", threads=min(K, os.cpu_count())), seconds)
        except GanfitError as e:
            row["cpu"] = {"skipped": str(e)}
    cpu_rate = row.get("cpu", {}).get("gan_epochs_per_s")
    if COPY_GBPS and "state_bytes_per_gan_epoch" in row["cuda"]:
        moved = row["cuda"]["state_bytes_per_gan_epoch"] * row["cuda"]["gan_epochs_per_s"] / 1e9
        row["cuda"]["state_GBps"], row["cuda"]["of_copy_bandwidth"] = round(moved, 1), round(moved / COPY_GBPS, 4)
    emit("speed", **row)
    ROWS.append(row)
    ratio = f"{row['cuda']['gan_epochs_per_s'] / cpu_rate:.2f}" if cpu_rate else "-"
    say(
        f"speed | {name} K={K:,}: cuda {row['cuda']['gan_epochs_per_s']:,.0f} ({row['cuda']['engine']}), "
        f"cpu {cpu_rate or 0:,.0f} ({row.get('cpu', {}).get('engine')}), cuda/cpu {ratio}"
        + (f", {row['cuda']['of_copy_bandwidth']:.1%} of copy bandwidth" if "of_copy_bandwidth" in row["cuda"] else "")
        + (f"; cuda without graphs {row['cuda_eager']['gan_epochs_per_s']:,.0f}" if "cuda_eager" in row else "")
    )
    return row


def speed(seconds: float, seed_ks: list[int], recipe_ks: list[int]) -> None:
    last = None
    for K in seed_ks:
        last = speed_row("seed", K, seconds)
    for name in ("robust1d", "ring"):
        for K in recipe_ks:
            speed_row(name, K, seconds)
    if DEV.startswith("cuda") and last is not None:  # the largest K that fits: from the largest row's peak
        free, total = torch.cuda.mem_get_info()
        per_member = last["cuda"]["peak_GB"] * 1e9 / seed_ks[-1]
        K = int(0.6 * free / per_member) // 16384 * 16384
        if K > seed_ks[-1]:
            try:  # the cpu not at this size: its rate is flat from K = 4,096 (rows above), and a lease is short
                speed_row("seed", K, seconds, cpu=False)
            except (GanfitError, torch.OutOfMemoryError) as e:
                emit("speed", workload="seed", K=K, error=str(e)[:300])
                say(f"speed | seed K={K:,}: {str(e)[:200]}")


def end_to_end() -> None:
    """`ganfit train` as a user runs it (the article's game, K = 1, 30,000 epochs, metric rows every 200),
    from the command to its exit, on each device."""
    row = {}
    for device in ("cpu", DEV):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "ganfit", "train", "--device", device, "--out", str(Path(tmp, "run"))]
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            wall = time.perf_counter() - t
            summary = rundir.read_summary(Path(tmp, "run")) if r.returncode == 0 else {}
        row[device] = {
            "rc": r.returncode,
            "wall": round(wall, 2),
            "loop_epochs_per_s": summary.get("gan_epochs_per_second"),
            "engine": summary.get("engine"),
            "learned": summary.get("learned"),
        } | ({"stderr": r.stderr[-500:]} if r.returncode else {})
    emit("e2e", **row)
    say(f"e2e | ganfit train (K=1, 30,000 epochs): {json.dumps(row)}")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(centre - half / (1 + z * z / n), 3), round(centre + half / (1 + z * z / n), 3)


def success(seeds: int, scale: float) -> None:
    cases = {
        "seed game (learned: the article's test)": (Config(), "learned"),
        "robust1d (KS < 0.03 on 10,000 samples)": (recipe("robust1d"), "ks"),
    }
    for what, (c, rule) in cases.items():
        c = c.replace(seeds=seeds, epochs=max(2, round(c.epochs * scale)), log_every=10**9)
        row = {"case": what, "seeds": seeds, "epochs": c.epochs}
        for label, device, threads in (("cpu", "cpu", os.cpu_count()), ("cuda", DEV, 1)):
            t = time.perf_counter()
            run = train(c.replace(device=device, threads=threads), progress=None)
            members = run.summary["members"]
            k = run.summary["learned"] if rule == "learned" else sum(m["ks"] < 0.03 for m in members)
            wall = round(time.perf_counter() - t, 1)
            row[label] = {"succeeded": k, "wilson95": wilson(k, seeds), "wall": wall, "engine": run.summary["engine"]}
        emit("success", **row)
        say(f"success | {json.dumps(row)}")


def kernels() -> None:
    """CUDA kernels per epoch (one eager epoch under the profiler) and the graph's time per epoch."""
    from torch.profiler import ProfilerActivity, profile  # a profiler only this section needs

    for name in ("seed", "robust1d", "ring"):
        with_graphs(False)
        c = WORKLOADS[name]().replace(seeds=1, device=DEV, epochs=10**7, threads=1)
        game = Game.build(c)
        keys = rng.member_keys(c.member_seeds(), "train", game.G.device)
        drawn = game.draw(keys, 0, 4)
        game.play(drawn, 0, 2)
        sync()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            game.play(drawn, 2, 3)
            sync()
        with_graphs(True)
        n = sum(1 for e in prof.events() if str(getattr(e, "device_type", "")).endswith("CUDA"))
        emit("kernels", workload=name, kernels_per_epoch_step_only=n)
        say(f"kernels | {name}: {n} CUDA kernels in one epoch's step (draws not counted)")


def compiled_experiment(seconds: float) -> None:
    """torch.compile(mode='reduce-overhead') of the seed's epoch at K = 1 (run in a child process)."""
    with_graphs(False)
    from ganfit.game.fast import FastEngine  # the step compiled here

    c = Config(seeds=1, device=DEV, epochs=10**7, threads=1)
    game = Game.build(c)
    drawn = game.sample_draws(rng.member_keys(c.member_seeds(), "train", game.G.device), 0, 64)

    def epoch(real, z_d, z_g):
        return FastEngine.step(game.engine, real, z_d, z_g)[1]

    f = torch.compile(epoch, mode="reduce-overhead")
    t = time.perf_counter()
    for i in range(3):
        f(*drawn.at(i)[:3])
    sync()
    compile_s = time.perf_counter() - t
    count, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        for i in range(64):
            f(*drawn.at(i)[:3])
        count += 64
    sync()
    row = {"compile_s": round(compile_s, 1), "epochs_per_s": count / (time.perf_counter() - t)}
    emit("compile", **row)
    say(f"compile | seed K=1, torch.compile reduce-overhead (fixed draws): {json.dumps(row)}")


def table() -> None:
    """The speed rows as docs/performance.md's table."""
    say("\n| workload | K | cuda GAN-epochs/s | cpu GAN-epochs/s | cuda / cpu | of copy bandwidth |")
    say("|---|---:|---:|---:|---:|---:|")
    for r in ROWS:
        g, c = r["cuda"]["gan_epochs_per_s"], r.get("cpu", {}).get("gan_epochs_per_s")
        frac = r["cuda"].get("of_copy_bandwidth")
        say(
            f"| {r['workload']} | {r['K']:,} | {g:,.0f} | {f'{c:,.0f}' if c else '-'} | "
            f"{f'{g / c:.2f}' if c else '-'} | {f'{frac:.1%}' if frac else '-'} |"
        )


def main() -> None:
    global OUT, DEV
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=".", help="folder for cuda_check.jsonl")
    p.add_argument("--dry", action="store_true", help="every section on the cpu, tiny: to check the script")
    p.add_argument("--seconds", type=float, default=2.0, help="seconds per speed cell (default 2)")
    p.add_argument("--sections", default="env,agreement,resume,speed,e2e,success,kernels,compile")
    p.add_argument("--deadline", type=float, default=380, help="seconds: the compile section gets what is left")
    p.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    OUT = Path(args.out)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.dry:
        DEV = "cpu"
    elif not torch.cuda.is_available():
        raise SystemExit("no CUDA device here (--dry runs every section on the cpu)")
    if args.compile_child:
        return compiled_experiment(args.seconds)
    dry = args.dry
    for section in args.sections.split(","):
        t = time.perf_counter()
        try:
            if section == "env":
                environment()
            elif section == "agreement":
                agreement(20 if dry else 300)
            elif section == "resume":
                resume()
            elif section == "speed":
                seed_ks, recipe_ks = ([1, 64], [1, 8]) if dry else ([1, 256, 4096, 16384], [1, 64, 1024])
                speed(0.2 if dry else args.seconds, seed_ks, recipe_ks)
            elif section == "e2e":
                end_to_end()
            elif section == "success":
                success(4 if dry else 64, 0.005 if dry else 1.0)
            elif section == "kernels" and not dry:
                kernels()
            elif section == "compile" and not dry:
                left = args.deadline - (time.perf_counter() - STARTED)
                if left < 60:
                    say(f"compile | skipped: {left:.0f} s left before the deadline")
                    continue
                child = [sys.executable, __file__, "--compile-child", "--out", str(OUT), "--seconds", "2"]
                r = subprocess.run(child, capture_output=True, text=True, timeout=min(150, left - 10))
                if r.returncode:
                    emit("compile", error=r.stderr[-1500:])
                    say(f"compile | failed: {r.stderr[-600:]}")
        except Exception as e:  # a section that breaks is recorded; the others still run
            emit(section, error=f"{type(e).__name__}: {str(e)[:1500]}")
            say(f"{section} | FAILED: {type(e).__name__}: {str(e)[:800]}")
        say(f"({section}: {time.perf_counter() - t:.1f} s; {time.perf_counter() - STARTED:.0f} s in all)")
    table()


if __name__ == "__main__":
    main()
