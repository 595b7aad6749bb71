"""Screen (2026-12-07c): a third D-guided candidate whose critic is the mean of the smooth and the sharp
critics' logits (no extra fitting), beside them in `fitting.refine`'s choice on validation (`choice`), or
in place of both (`only`); then `fitting.conclude` as a fit runs it, on the kept runs of
`benchmarks/real_data.py --keep DIR`.

usage: mean_critic.py DIR GLOB choice|only   (one JSON line per run)"""

import sys

import torch
from kept import conclude_each

from ganfit import fitting, sampler
from ganfit.measure import metrics as M

MODE = sys.argv[3]


class Mean(torch.nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, z):
        return (self.a(z) + self.b(z)) / 2


def refine(run, member, train_x, val_x, plain):
    """fitting.refine with the mean critic as a candidate (`choice`) or the only one (`only`)."""
    seed, names = run.config.seed, M.validation_names(train_x.shape[1])
    fake = run.sample(20_000, member=member, seed=seed + 2)
    scale = train_x.std(0)
    critics = {
        name: sampler.fit_critic(train_x, fake, run.frame, seed, r1, s) for name, (r1, s) in sampler.CRITICS.items()
    }
    critics["mean"] = Mean(critics["smooth"], critics["sharp"])
    if MODE == "only":
        critics = {"mean": critics["mean"]}
    scores, guided, costs = {"plain": M.against(plain[None], val_x, scale)}, {}, {}
    for name, critic in critics.items():
        guided[name] = fitting.dguided(run, member, critic, fake)
        samples, costs[name] = guided[name].sample(len(plain), seed + 3)
        scores[name] = M.against(samples[None], val_x, scale)
    first = lambda name: scores[name][names[0]][0]  # noqa: E731
    best = min(guided, key=first)
    record = {
        "member": member,
        "critic": {"name": best},
        "draws_per_sample": round(costs[best], 4),
        "kind": "d-guided" if first(best) < first("plain") else "plain",
    }
    return guided[best], record


def main() -> None:
    fitting.refine = refine
    conclude_each(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
