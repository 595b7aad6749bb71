"""The training step alone, per engine and thread count, back to back in one invocation.

    .venv/bin/python benchmarks/steps.py                       # every workload
    .venv/bin/python benchmarks/steps.py --only article-K1

Each row is its own process (so that thread pools and caches start fresh): it builds the game, draws
the random inputs ahead, plays a few warm-up epochs, then times `Game.step` alone (no metric rows, no
files) and prints GAN-epochs/s. Ratios are against the autograd engine on one thread, measured in the
same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

# name: (recipe or "" for the article's game, K, epochs timed)
WORKLOADS = {
    "article-K1": ("", 1, 3000),
    "article-K256": ("", 256, 100),
    "robust1d-K16": ("robust1d", 16, 200),
    "ring-K10": ("ring", 10, 100),
    "grid-K10": ("grid", 10, 50),
}
ENGINES = [("autograd", 1), ("fast", 1), ("fast", 2), ("compiled", 1), ("compiled", 2)]


def child(recipe: str, K: int, epochs: int, engine: str, threads: int) -> None:
    os.environ["GANFIT_COMPILED"] = "1" if engine == "compiled" else "0"
    from ganfit import Config, recipes  # noqa: I001 (before torch: ganfit sets the OpenMP wait policy)
    from ganfit.game import Game, rng

    import torch

    torch.set_num_threads(threads)
    base = recipes.load(recipe) if recipe else Config()
    gradients = "autograd" if engine == "autograd" else "fast"
    config = base.replace(seeds=K, threads=threads, gradients=gradients)
    game = Game.build(config)
    drawn = game.draw(rng.member_keys(config.member_seeds(), "train"), 0, epochs + 5)
    for t in range(5):
        game.step(*drawn.at(t))
    start = time.perf_counter()
    for t in range(5, epochs + 5):
        game.step(*drawn.at(t))
    rate = K * epochs / (time.perf_counter() - start)
    print(json.dumps({"rate": rate, "engine": game.engine.name}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        recipe, K, epochs, engine, threads = args.child
        return child(recipe, int(K), int(epochs), engine, int(threads))
    print("| workload | engine | threads | GAN-epochs/s (step only) | × autograd on 1 thread |")
    print("|---|---|---:|---:|---:|")
    for name in args.only.split(","):
        recipe, K, epochs = WORKLOADS[name]
        base = None
        for engine, threads in ENGINES:
            cmd = [sys.executable, __file__, "--child", recipe, str(K), str(epochs), engine, str(threads)]
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            if out["engine"] != engine:  # e.g. no compiled step for the per-sample games
                continue
            base = base or out["rate"]
            print(f"| {name} | {engine} | {threads} | {out['rate']:,.0f} | {out['rate'] / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
