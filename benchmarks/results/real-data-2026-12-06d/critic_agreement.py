"""The hand-derived critic (sampler.fit_critic) against autograd's (tests/test_sampler.autograd_critic): the
largest weight difference after each (R1, steps), on a two-cluster sample. Run from the repository root."""

import sys

import numpy as np

from ganfit.game.frame import Frame
from ganfit.sampler import fit_critic

sys.path.insert(0, "tests")
from test_sampler import autograd_critic  # noqa: E402

rng = [np.random.default_rng(s) for s in range(3)]
real = np.where(rng[0].random(400) < 0.5, -2.6, 2.6)[:, None] + 0.35 * rng[1].standard_normal((400, 1))
fake = 3 * np.tanh(2 * rng[2].standard_normal((20000, 1)))
for r1, steps in ((0.01, 50), (0.1, 50), (0.1, 600), (0.01, 1500)):
    a = fit_critic(real, fake, Frame(np.ones(1), np.zeros(1)), 0, r1, steps)
    b = autograd_critic(real, fake, 0, r1, steps)
    print(r1, steps, max(float((p - q.detach()).abs().max()) for p, q in zip(a.parameters(), b.parameters())))
