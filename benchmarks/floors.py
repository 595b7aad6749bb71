"""The arithmetic floor of each speed workload: matmul FLOP per GAN-epoch, counted, and this machine's sgemm rate.

    .venv/bin/python benchmarks/floors.py

FLOP are counted with torch's FlopCounterMode over one epoch of the hand-derived torch step (the
compiled step does the same multiplications), per member (FlopCounterMode cannot follow autograd's
double backward, which R1 needs, so autograd's step is not counted); FlopCounterMode
counts matrix products only (activations, the view and Adam are a few percent more, not counted). The
sgemm rate is torch.mm on square float32 matrices, and a batched product of the workloads' own shapes,
on 1 and 2 threads. docs/performance.md divides a measured rate by these: the fraction of the floor.
"""

from __future__ import annotations

import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganfit import Config, recipes
from ganfit.game import Game, rng

WORKLOADS = {
    "article": Config(),
    "robust1d": recipes.load("robust1d"),
    "ring": recipes.load("ring"),
    "grid": recipes.load("grid"),
}


def flop_per_epoch(config: Config, K: int = 4) -> float:
    game = Game.build(config.replace(seeds=K, gradients="fast", threads=1))
    drawn = game.draw(rng.member_keys(config.replace(seeds=K).member_seeds(), "train"), 0, 2)
    game.step(*drawn.at(0))
    with FlopCounterMode(display=False) as counter:
        game.step(*drawn.at(1))
    return counter.get_total_flops() / K


def rate(f, flop: float, seconds: float = 1.0) -> float:
    f()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        f()
        n += 1
    return n * flop / (time.perf_counter() - start) / 1e9


def main() -> None:
    os.environ["GANFIT_COMPILED"] = "0"  # count the torch step's products
    print("| workload | matmul MFLOP per GAN-epoch |")
    print("|---|---:|")
    for name, c in WORKLOADS.items():
        print(f"| {name} | {flop_per_epoch(c) / 1e6:.2f} |")
    print("\n| product | threads | GFLOP/s |")
    print("|---|---:|---:|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for n in (256, 1024):
            a, b = torch.randn(n, n), torch.randn(n, n)
            print(f"| mm {n} x {n} x {n} | {threads} | {rate(lambda a=a, b=b: torch.mm(a, b), 2 * n**3):.1f} |")
        for K, rows, i, o in ((1, 200, 50, 50), (256, 200, 50, 50), (10, 512, 128, 128)):
            x, w = torch.randn(K, rows, i), torch.randn(K, i, o)
            gflops = rate(lambda x=x, w=w: torch.bmm(x, w), 2 * K * rows * i * o)
            print(f"| bmm [{K}, {rows}, {i}] x [{K}, {i}, {o}] | {threads} | {gflops:.1f} |")


if __name__ == "__main__":
    main()
