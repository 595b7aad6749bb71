"""The CUDA path, checked and timed against the CPU on the same machine (run it where there is a GPU).

    PYTHONPATH=src python benchmarks/cuda_check.py [--epochs 1000] [--ks 1,16,256,4096]

1. Agreement: the same configs (the seed's game on the fast engine; the ring recipe on autograd with
   R1 and PacGAN) trained on cpu and cuda: largest weight difference and each side's median metrics.
2. Resume on cuda: 200 epochs straight vs 100, a checkpoint, and a resume: bit-identical weights.
3. Speed: the training loop's GAN-epochs/s on cuda and on cpu (all cores) at several ensemble sizes,
   from summary.json's loop time, so start-up and the final metrics are left out.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import torch

from ganfit import Config, rundir, train
from ganfit.recipes import load as recipe


def max_diff(a, b) -> float:
    return max(float((p.detach().cpu() - q.detach().cpu()).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def agreement() -> None:
    cases = {
        "seed game, fast engine, K=16, 300 epochs": Config(seeds=16, epochs=300, log_every=100, eval_samples=2000),
        "ring recipe, autograd (R1, pack:m=2), K=4, 300 epochs": recipe("ring").replace(
            seeds=4, epochs=300, log_every=100
        ),
    }
    for what, c in cases.items():
        cpu, gpu = train(c.replace(device="cpu", threads=1)), train(c.replace(device="cuda", threads=1))
        key = "ks" if "ks" in cpu.summary["median"] else "sw"
        print(
            f"agreement | {what}: max |weight cpu - cuda| = {max_diff(cpu.G, gpu.G):.2e} (G), "
            f"{max_diff(cpu.D, gpu.D):.2e} (D); median {key} cpu {cpu.summary['median'][key]:.4f}, "
            f"cuda {gpu.summary['median'][key]:.4f}",
            flush=True,
        )


def resume() -> None:
    c = Config(seeds=4, epochs=200, log_every=50, eval_samples=1000, checkpoint_every=100, device="cuda")
    with tempfile.TemporaryDirectory() as tmp:
        whole, half = Path(tmp, "whole"), Path(tmp, "half")
        train(c, whole)
        train(c.replace(epochs=100), half)
        train(rundir.reopen(half, 200), half, resume=True)
        same = (whole / "weights.safetensors").read_bytes() == (half / "weights.safetensors").read_bytes()
        # the 100-epoch run also logged its own last epoch (99): compare the rows both have
        a = (whole / "metrics.jsonl").read_text().splitlines()
        b = [r for r in (half / "metrics.jsonl").read_text().splitlines() if '"epoch": 99,' not in r]
    print(f"resume on cuda: weights bit-identical {same}, metrics rows identical {a == b}", flush=True)


def speed(ks: list[int], epochs: int) -> None:
    print(f"\n| K | cpu GAN-epochs/s ({os.cpu_count()} cores) | cuda GAN-epochs/s | cuda / cpu |")
    print("|---:|---:|---:|---:|")
    for K in ks:
        rate = {}
        for device in ("cpu", "cuda"):
            c = Config(seeds=K, epochs=epochs, log_every=epochs, eval_samples=1000, device=device)
            rate[device] = train(c if device == "cuda" else c.replace(threads=os.cpu_count())).summary[
                "gan_epochs_per_second"
            ]
        print(f"| {K:,} | {rate['cpu']:,.0f} | {rate['cuda']:,.0f} | {rate['cuda'] / rate['cpu']:.2f} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1000, help="epochs per speed row (default: 1000)")
    p.add_argument("--ks", default="1,16,256,4096", help="ensemble sizes for the speed rows")
    args = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    print(
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPU cores",
        flush=True,
    )
    agreement()
    resume()
    speed([int(k) for k in args.ks.split(",")], args.epochs)


if __name__ == "__main__":
    main()
