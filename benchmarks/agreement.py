"""Does speed change what is learned? The fast engine against the autograd reference, same seeds.

    .venv/bin/python benchmarks/agreement.py              # 32 seeds x 30,000 epochs per engine
    .venv/bin/python benchmarks/agreement.py --seeds 8 --epochs 3000

Prints, per engine, the success rate under the article's criterion with a Wilson 95% interval, and the
mean / std of the final mean and std over the members that learned; then a two-proportion z-test.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from ganfit import Config, train


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=32)
    p.add_argument("--epochs", type=int, default=30_000)
    args = p.parse_args()
    results = {}
    for engine in ("fast", "autograd"):
        start = time.perf_counter()
        run = train(Config(seeds=args.seeds, epochs=args.epochs, gradients=engine, log_every=1000))
        wall = time.perf_counter() - start
        members = run.summary["members"]
        ok = [m for m in members if m["learned"]]
        lo, hi = wilson(len(ok), len(members))
        results[engine] = len(ok)
        mean = np.array([m["mean"] for m in ok])
        std = np.array([m["std"] for m in ok])
        print(
            f"{engine:9s} learned {len(ok)}/{len(members)} = {len(ok) / len(members):.0%} "
            f"(95% CI {lo:.0%}-{hi:.0%}); learned members: mean {mean.mean():.3f} ± {mean.std():.3f}, "
            f"std {std.mean():.3f} ± {std.std():.3f}; {wall:.0f} s, "
            f"{args.seeds * args.epochs / wall:,.0f} GAN-epochs/s",
            flush=True,
        )
    n = args.seeds
    p1, p2 = results["fast"] / n, results["autograd"] / n
    pooled = (results["fast"] + results["autograd"]) / (2 * n)
    se = math.sqrt(max(pooled * (1 - pooled) * 2 / n, 1e-12))
    z = (p1 - p2) / se
    print(f"difference {p1 - p2:+.0%}, z = {z:.2f} (|z| < 1.96: no difference at the 5% level)")


if __name__ == "__main__":
    main()
