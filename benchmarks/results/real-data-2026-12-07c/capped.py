"""Screen (2026-12-07c): the peaks at the turns of a 1-D G's map (where G'(z) = 0 its density p(z)/|G'(z)|
has no bound) taken off before the fit's step after training: each of the chosen member's samples kept
with probability min(1, |G'(z)| / c), c the Q-quantile of |G'| over G's noise (a rejected one is drawn
again), so that no branch of the map puts more than p(z)/c there. Then `fitting.conclude` as a fit runs it
(the critic is fitted against, and the kernel put on, the capped samples), on the kept runs of
`benchmarks/real_data.py --keep DIR`.

usage: capped.py DIR GLOB Q   (one JSON line per run, with `val`: the chosen sampler's validation KS)"""

import sys

import torch
from kept import conclude_each

from ganfit import fitting

EPS = 1e-3


def slope(G, z: torch.Tensor) -> torch.Tensor:
    return ((G(z + EPS) - G(z - EPS)) / (2 * EPS)).abs()[:, 0]


class Capped(torch.nn.Module):
    def __init__(self, G, c: float, seed: int):
        super().__init__()
        self.G, self.c, self.gen = G, c, torch.Generator().manual_seed(seed)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.clone()
        todo = torch.ones(len(z), dtype=torch.bool)
        out = torch.empty(len(z), 1)
        while todo.any():
            x = self.G(z[todo])
            keep = torch.rand(len(x), generator=self.gen) < (slope(self.G, z[todo]) / self.c).clamp(max=1)
            idx = todo.nonzero()[:, 0]
            out[idx[keep]] = x[keep]
            todo[idx[keep]] = False
            z[todo] = torch.randn(int(todo.sum()), z.shape[1], generator=self.gen)
        return out


def main() -> None:
    q = float(sys.argv[3])

    def cap(run, parts, info) -> None:  # the chosen member's G, as conclude will choose it, capped
        best = fitting.choose(run.summary["members"], info["chosen_by"], parts["train"].shape[1])
        plain = run.generator(best, plain=True)
        with torch.no_grad():
            c = float(torch.quantile(slope(plain, run.noise(20_000, 99, best)), q))
        capped, own = Capped(plain, c, run.config.seed), run.generator
        run.generator = lambda member=None, plain=False: capped if member == best else own(member, plain)

    with torch.no_grad():
        conclude_each(sys.argv[1], sys.argv[2], cap if q > 0 else None)


if __name__ == "__main__":
    main()
