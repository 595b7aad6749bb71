"""Every candidate a fit's choices after training pick from, scored on validation and on the test part,
so that choice rules can be compared without training again (rules.py reads the output).

Per set and split: `ganfit fit` with the defaults (kept in KEEP), then for each of its three best members
by fit's rank rule: the plain G, and the D-guided sampler with each of sampler.CRITICS, each with the
kernel at every SMOOTHING factor. The draws are fit's own: G's samples for the critic seed + 2, the
critic's choice on seed + 3, every sample scored on seed + 1 and the kernel's noise for validation from
default_rng(seed), for the test part from Smoothed's stream, so that rules.py's "defaults" rule gives
the fit's own test score.

    python candidates.py quakes-depth,rivers 0:10 OUT.jsonl
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

from ganfit.fitting import SMOOTHING, dguided, ranking, scored_samples, split  # noqa: E402
from ganfit.game import rng  # noqa: E402
from ganfit.measure import metrics as M  # noqa: E402
from ganfit.run import load  # noqa: E402
from ganfit.sampler import CRITICS, bandwidths, fit_critic  # noqa: E402

MEMBERS = 3


def scores(samples, ref, scale):
    return {k[4:]: float(v[0]) for k, v in M.against(samples[None], ref, scale).items()}


def candidates(name: str, s: int, keep: Path) -> dict:
    r = RD.one(name, s, keep)
    run = load(keep / f"{name}-split{s}")
    data = RD.SETS[name]()
    x = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    info = run.summary["split"]
    tr, va, te = split(len(x), info["validation_fraction"], s, info["test_fraction"])
    train_x, val_x, test_x = x[tr], x[va], x[te]
    n, seed, scale, dim = scored_samples(run.config), run.config.seed, train_x.std(0), x.shape[1]
    h0 = bandwidths(train_x)
    e_val = np.random.default_rng(seed).standard_normal((n, dim))
    order = ranking(run.summary["members"], info["chosen_by"], dim)
    out = []
    for rank, m in enumerate(order[:MEMBERS]):
        plain = run.sample(n, member=m, seed=seed + 1)
        samplers = {"plain": (plain, None)}
        fake = run.sample(20_000, member=m, seed=seed + 2)
        for critic, (r1, steps) in CRITICS.items():
            g = dguided(run, m, fit_critic(train_x, fake, run.frame, seed, r1, steps), fake)
            choice = scores(g.sample(n, seed + 3)[0], val_x, scale)
            samplers[critic] = (g.sample(n, seed + 1)[0], choice)
        u = rng.fixed(rng.member_keys([seed + 1], f"smooth/{m}"), 2 * n * dim).reshape(2, n, dim)
        e_test = rng.box_muller(u[0], u[1]).double().numpy()
        for kind, (xs, choice) in samplers.items():
            for f in SMOOTHING:
                out.append(
                    {
                        "rank": rank,
                        "member": m,
                        "sampler": kind,
                        "factor": f,
                        "choice": choice if choice is not None else scores(plain, val_x, scale),
                        "val": scores(xs + f * h0 * e_val, val_x, scale),
                        "test": scores(xs + f * h0 * e_test, test_x, scale),
                    }
                )
    r.pop("validation", None)
    return r | {"candidates": out}


def main() -> None:
    sets, (first, count), path = sys.argv[1].split(","), map(int, sys.argv[2].split(":")), sys.argv[3]
    keep = Path(os.environ.get("KEEP") or tempfile.mkdtemp())
    for name in sets:
        for s in range(first, first + count):
            r = candidates(name, s, keep)
            with open(path, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            print(name, s, round(r["wall"], 1), round(r["scores"]["ganfit"], 4), len(r["candidates"]), flush=True)


if __name__ == "__main__":
    main()
