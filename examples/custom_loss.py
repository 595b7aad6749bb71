"""Bring your own loss: the relativistic average GAN loss (Jolicoeur-Martineau, 2018) in a few lines,
against the non-saturating loss on the same game and the same seeds.

    .venv/bin/python examples/custom_loss.py                  # 16 seeds each, 1,500 epochs: about a minute
    .venv/bin/python examples/custom_loss.py --epochs 4000    # robust1d's own length

A loss is a function of D's logits on a real and a fake batch, [K, rows, 1] (K members at once), that
returns D's loss on the real rows, D's loss on the fake rows and G's loss, one value per member. It runs
on the autograd engine; config.toml records it as custom:relativistic_average.
"""

import argparse

import torch.nn.functional as F

import ganfit
from ganfit import recipes
from ganfit.sweep import wilson


def relativistic_average(real, fake):
    """RaSGAN: D asks "is the real row more real than the average fake?", G the reverse."""
    r = real - fake.mean(1, keepdim=True)  # each member's own batch: dim 1 is the rows
    f = fake - real.mean(1, keepdim=True)
    d_real, d_fake = F.softplus(-r).mean((1, 2)), F.softplus(f).mean((1, 2))
    g = F.softplus(-f).mean((1, 2)) + F.softplus(r).mean((1, 2))
    return d_real, d_fake, g


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=16)
    p.add_argument("--epochs", type=int, default=1500)
    args = p.parse_args()
    base = recipes.load("robust1d").replace(seeds=args.seeds, epochs=args.epochs, log_every=500)
    for name, loss in (("ns", "ns"), ("relativistic average", relativistic_average)):
        run = ganfit.train(base.replace(loss=loss), progress=None)
        ks = [m["ks"] for m in run.summary["members"]]
        k = sum(v < 0.05 for v in ks)
        lo, hi = wilson(k, len(ks))
        median = sorted(ks)[len(ks) // 2]
        print(f"{name:>22}: KS < 0.05 in {k}/{len(ks)} seeds [{lo:.2f}, {hi:.2f}], median KS {median:.4f}")


if __name__ == "__main__":
    main()
