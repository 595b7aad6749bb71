"""The D-guided sampler on the ring and grid recipes' runs: modes, high quality and reverse KL per seed,
for each member's plain G, the sampler with its own post-hoc critic (sampler.py), and DRS with the
run's trained D (PacGAN's pack view: its per-sample log-ratio taken as the mean logit of D over 16
partners drawn from the same G, since logit D*(x, y) = s(x) + s(y) for independent pairs).

    .venv/bin/python benchmarks/toys_sampler.py runs/ring20 runs/grid20 [--samples 20000]

The runs: `ganfit train --recipe ring --seeds 20 --out runs/ring20` (and grid), trained as the recipes
are. Per run it prints one line per member and the totals: seeds with all modes, with HQ >= 0.99, with
reverse KL <= 0.002, and the mean candidates drawn per sample kept. The target itself scores HQ
chi2.cdf(9, 2) = 0.9889 under the 3-std test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

import ganfit
from ganfit.game.models import discriminator
from ganfit.game.noise import make_noise
from ganfit.measure.metrics import mode_metrics
from ganfit.sampler import DGuided, fit_critic, threshold


def trained_d_scores(run: ganfit.Run, run_dir: Path, x: np.ndarray, member: int, partners: int = 16) -> np.ndarray:
    """The run's own D as a per-sample log-ratio (pack:m=2: the mean logit over partners from G)."""
    c = run.config
    D = discriminator(c, x.shape[1], list(range(c.seeds)))
    tensors = load_file(run_dir / "weights.safetensors")
    with torch.no_grad():
        for name, p in D.named_parameters():
            p.copy_(tensors[f"D.{name}"])
        one = D.member(member)
        xs = torch.as_tensor(x, dtype=torch.float32)
        ys = torch.as_tensor(run.sample(partners, member=member, seed=9), dtype=torch.float32)
        return np.mean([one(torch.cat([xs, y.expand_as(xs)], 1)[None])[0, :, 0].numpy() for y in ys], 0)


def rejection(scores: np.ndarray, seed: int, quantile: float = 0.95) -> np.ndarray:
    p = np.minimum(1.0, np.exp(scores - np.quantile(scores, quantile)))
    return np.random.default_rng(seed).random(len(p)) < p


def row(x: np.ndarray, target) -> tuple[float, float, float]:
    m = mode_metrics(x[None], target, n=len(x))
    return float(m["modes"][0]), float(m["hq"][0]), float(m["reverse_kl"][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--samples", type=int, default=20_000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for run_dir in args.runs:
        run = ganfit.load(run_dir)
        target = ganfit.make_target(run.config.target)
        real, noise = target.reference(args.samples), make_noise(run.config.noise)
        results = {"plain": [], "critic": [], "trained D": []}
        for m in range(run.members):
            fake = run.sample(args.samples, member=m, seed=1)
            critic = fit_critic(real, run.sample(args.samples, member=m, seed=2), run.frame, m)
            sampler = DGuided(run.generator(m), critic, run.frame, threshold(critic, fake, run.frame), noise, m)
            refined, cost = sampler.sample(args.samples, seed=3)
            keep = rejection(trained_d_scores(run, run_dir, fake, m), m)
            results["plain"].append((*row(fake, target), 1.0))
            results["critic"].append((*row(refined, target), cost))
            results["trained D"].append((*row(fake[keep], target), 1 / keep.mean()))
            print(f"{run_dir} member {m}: " + "; ".join(f"{k} {v[-1]}" for k, v in results.items()), flush=True)
        modes = len(target.modes)
        for name, rs in results.items():
            a = np.array(rs)
            print(
                f"{run_dir} | {name} | all {modes} modes {int((a[:, 0] == modes).sum())}/{len(a)}"
                f" | HQ {a[:, 1].mean():.4f} (min {a[:, 1].min():.4f}; >= 0.99 on {int((a[:, 1] >= 0.99).sum())})"
                f" | reverse KL {a[:, 2].mean():.4f} (max {a[:, 2].max():.4f};"
                f" <= 0.002 on {int((a[:, 2] <= 0.002).sum())})"
                f" | draws per sample kept {a[:, 3].mean():.2f}"
            )


if __name__ == "__main__":
    main()
