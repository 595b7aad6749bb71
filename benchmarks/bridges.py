"""Where a mixture run's low-quality samples lie: near a mode (a blob too wide) or far out (bridges).

    .venv/bin/python benchmarks/bridges.py RUN_DIR [RUN_DIR ...]            # 20,000 samples per member
    .venv/bin/python benchmarks/bridges.py runs/grid10 --samples 50000 --plot bridges.png

For each member, on many more samples than the 2,500 the mode metrics use (whose high-quality fraction
carries a sampling error of about 0.4 points at 95%), it prints the fraction of samples
- `hq`: within 3 std of the nearest mode (the metric's definition);
- `shoulder`: between 3 and 6 std (a mode drawn too wide);
- `bridge`: beyond 6 std, on the grid the lines G draws between modes as it moves its noise from one
  mode to the next;
for the averaged G the run saved and, when the run kept a moving average (g_ema), for the live G in its
last checkpoint. --plot draws the worst member's samples with its bridge samples in red.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from scipy.stats import chi2

import ganfit
from ganfit.measure.metrics import HQ_SIGMAS, mode_distances
from ganfit.rundir.checkpoint import CHECKPOINT


def nearest(x: np.ndarray, target) -> np.ndarray:
    """Each sample's distance to its nearest mode, in that mode's stds (as the mode metrics measure it)."""
    return mode_distances(x, target).min(-1)


def fractions(d: np.ndarray) -> dict[str, float]:
    far = 2 * HQ_SIGMAS
    return {
        "hq": (d < HQ_SIGMAS).mean(),
        "shoulder": ((d >= HQ_SIGMAS) & (d <= far)).mean(),
        "bridge": (d > far).mean(),
    }


def live_g(run: ganfit.Run, run_dir: Path) -> bool:
    """Put the live G of the last checkpoint into run.G (autograd runs keep it as G.i.param)."""
    tensors = load_file(run_dir / CHECKPOINT)
    if "G.ema.0" not in tensors or "G.0.param" not in tensors:
        return False
    with torch.no_grad():
        for i, p in enumerate(run.G.parameters()):
            p.copy_(tensors[f"G.{i}.param"])
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--plot", type=Path, help="PNG of the worst member's samples, bridges in red")
    args = ap.parse_args()
    for run_dir in args.runs:
        run = ganfit.load(run_dir)
        target = ganfit.make_target(run.config.target)
        if target.modes is None:
            raise SystemExit(f"{run_dir}: {run.config.target} has no modes")
        saved = [run.sample(args.samples, member=m, seed=1) for m in range(run.members)]
        dists = [nearest(x, target) for x in saved]
        rows = [fractions(d) for d in dists]
        live = (
            [fractions(nearest(run.sample(args.samples, member=m, seed=1), target)) for m in range(run.members)]
            if live_g(run, run_dir)
            else None
        )
        print(f"{run_dir} ({args.samples} samples per member; 'live': the live G of the last checkpoint)")
        for m, row in enumerate(rows):
            line = f"  member {m}: " + "  ".join(f"{k} {v:.4f}" for k, v in row.items())
            if live:
                line += "   live: " + "  ".join(f"{k} {v:.4f}" for k, v in live[m].items())
            print(line)
        means = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print("  mean:     " + "  ".join(f"{k} {v:.4f}" for k, v in means.items()))
        print(f"  the target itself: hq {chi2.cdf(HQ_SIGMAS**2, target.dim):.4f} (a Gaussian mode's mass within 3 std)")
        if args.plot and target.dim != 2:
            print("  --plot draws 2-D targets only")
        elif args.plot:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            worst = int(np.argmin([r["hq"] for r in rows]))
            x, far = saved[worst], dists[worst] > 2 * HQ_SIGMAS
            fig, ax = plt.subplots(figsize=(6, 6))
            ax.scatter(*x[~far].T, s=0.3, alpha=0.3, label="within 6 std of a mode")
            ax.scatter(*x[far].T, s=0.6, c="red", label=f"bridges ({far.mean():.1%})")
            ax.scatter(*np.asarray(target.modes).T, s=12, c="black", marker="x", label="modes")
            ax.set_title(f"{run_dir.name}, member {worst}: high quality {rows[worst]['hq']:.1%}")
            ax.legend(loc="upper right", fontsize=8, markerscale=3)
            fig.savefig(args.plot, dpi=90, bbox_inches="tight")
            print(f"  wrote {args.plot}")


if __name__ == "__main__":
    main()
