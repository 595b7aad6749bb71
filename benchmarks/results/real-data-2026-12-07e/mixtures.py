"""Equal mixtures of the best members' refined samplers, from candidates.py's kept runs: for each of the
three best members by fit's rank rule, fit's own pick (the plain G or the D-guided sampler, then the
kernel, each chosen on validation as fit chooses), and the equal mixture of the first two and of all
three, scored on validation and on the test part. A member's G folds its noise in its own places; a
mixture of members that each had their bridges removed dilutes each one's piles.

    KEEP=DIR python mixtures.py quakes-depth,rivers 0:10 OUT.jsonl     # DIR: candidates.py's KEEP
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

from ganfit.fitting import SMOOTHING, dguided, ranking, scored_samples, split  # noqa: E402
from ganfit.game import rng  # noqa: E402
from ganfit.measure import metrics as M  # noqa: E402
from ganfit.run import load  # noqa: E402
from ganfit.sampler import CRITICS, bandwidths, fit_critic  # noqa: E402


def scores(samples, ref, scale):
    return {k[4:]: float(v[0]) for k, v in M.against(samples[None], ref, scale).items()}


def pick(run, m, parts, n, seed):
    """fit's choices after training on member m: (validation-draw samples, test-draw samples)."""
    train_x, val_x = parts["train"], parts["validation"]
    scale, dim = train_x.std(0), train_x.shape[1]
    names = tuple(k[4:] for k in M.validation_names(dim))
    plain = run.sample(n, member=m, seed=seed + 1)
    fake = run.sample(20_000, member=m, seed=seed + 2)
    best, best_score = plain, scores(plain, val_x, scale)[names[0]]
    guided = {}
    for critic, (r1, steps) in CRITICS.items():
        g = dguided(run, m, fit_critic(train_x, fake, run.frame, seed, r1, steps), fake)
        guided[critic] = (scores(g.sample(n, seed + 3)[0], val_x, scale)[names[0]], g)
    name = min(guided, key=lambda k: guided[k][0])
    if guided[name][0] < best_score:
        best = guided[name][1].sample(n, seed + 1)[0]
    h0 = bandwidths(train_x)
    e_val = np.random.default_rng(seed).standard_normal((n, dim))
    table = np.array([[scores(best + f * h0 * e_val, val_x, scale)[k] for k in names] for f in SMOOTHING])
    f = SMOOTHING[int(np.lexsort((np.arange(len(SMOOTHING)), table.argsort(0).argsort(0).sum(1)))[0])]
    u = rng.fixed(rng.member_keys([seed + 1], f"smooth/{m}"), 2 * n * dim).reshape(2, n, dim)
    e_test = rng.box_muller(u[0], u[1]).double().numpy()
    return best + f * h0 * e_val, best + f * h0 * e_test


def one(name: str, s: int, keep: Path) -> dict:
    run = load(keep / f"{name}-split{s}")
    data = RD.SETS[name]()
    x = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    info = run.summary["split"]
    rows = split(len(x), info["validation_fraction"], s, info["test_fraction"])
    parts = dict(zip(("train", "validation", "test"), (x[r] for r in rows)))
    n, seed, scale = scored_samples(run.config), run.config.seed, parts["train"].std(0)
    order = ranking(run.summary["members"], info["chosen_by"], x.shape[1])
    picks = [pick(run, m, parts, n, seed) for m in order[:3]]
    out = {"set": name, "split": s, "fit": run.summary["comparison"]["rows"][0]}
    for label, chosen in (("member", picks[:1]), ("mix2", picks[:2]), ("mix3", picks)):
        per = n // len(chosen)
        val = np.concatenate([p[0][:per] for p in chosen])
        test = np.concatenate([p[1][:per] for p in chosen])
        out[label] = {"val": scores(val, parts["validation"], scale), "test": scores(test, parts["test"], scale)}
    return out


def main() -> None:
    sets, (first, count), path = sys.argv[1].split(","), map(int, sys.argv[2].split(":")), sys.argv[3]
    keep = Path(os.environ["KEEP"])
    for name in sets:
        for s in range(first, first + count):
            r = one(name, s, keep)
            with open(path, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            shown = {k: round(next(iter(r[k]["test"].values())), 4) for k in ("member", "mix2", "mix3")}
            print(name, s, shown, flush=True)


if __name__ == "__main__":
    main()
