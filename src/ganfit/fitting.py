"""`ganfit fit`: a generator for a user's own small data set, judged on held-out rows against what a
practitioner would use instead.

The data (a CSV's column or two, a .npy file, or an array, list, Series or DataFrame in memory) are
split into a train and a validation part (seeded; the split is recorded in split.json and
summary.json). The recipe for the data's dimension (fit1d, fit2d) trains K members on the train part;
each is measured against the validation part at every log row and kept at its best score there
(`keep_best`). The best member on validation is the run's `best_member`, what `ganfit sample` draws
from. A KDE and a Gaussian mixture (components by BIC) are fitted on the same train part and scored on
the same validation part, from as many samples as G's; the train part itself, scored the same way, is
the floor a perfect model would sit near.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import arrays, recipes
from .config import FIELDS, Config
from .errors import GanfitError
from .files import io_reason, jsonable, write_text
from .game.data import read_csv_columns, read_npy
from .measure import metrics as M
from .measure.baselines import baseline_samples
from .pictures import figures
from .run import Run
from .rundir.layout import SUMMARY
from .training import train

MIN_TRAIN, MIN_VALIDATION = 8, 2
SPLIT = "split.json"


def read_data(data, column: str | None = None, columns: list[str] | None = None) -> tuple[np.ndarray, list[str], str]:
    """(values [n, dim], column names, where they came from) of a file path or data in memory."""
    if isinstance(data, str | Path):
        path = str(data)
        if path.endswith(".npy"):
            if column or columns:
                raise GanfitError(f"{path}: a .npy file's columns are its own; --column and --columns are for CSV")
            x, names = read_npy(path)
        else:
            picked = list(columns) if columns else ([column] if column else None)
            if picked and len(picked) > arrays.MAX_DIM:
                raise GanfitError(f"--columns names {len(picked)} columns; ganfit fits 1-D and 2-D data (1 or 2)")
            x, names = read_csv_columns(path, picked)
        return x, names, path
    if column or columns:
        raise GanfitError("column/columns pick from a CSV file; select from in-memory data before passing it")
    x, names = arrays.as_array(data, "data")
    return x, names, "data in memory"


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, validation), disjoint and covering 0..n-1, from a seeded permutation."""
    if not 0 < fraction < 1:
        raise GanfitError(f"validation fraction must be in (0, 1), got {fraction}")
    n_val = max(MIN_VALIDATION, round(fraction * n))
    if n - n_val < MIN_TRAIN:
        least = next(m for m in range(MIN_TRAIN, 10**6) if m - max(MIN_VALIDATION, round(fraction * m)) >= MIN_TRAIN)
        raise GanfitError(
            f"fit needs at least {MIN_TRAIN} train and {MIN_VALIDATION} validation rows"
            f" ({least} or more rows at validation fraction {fraction:g}), got {n} row(s)"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def fit(
    data,
    out: str | Path | None = None,
    *,
    column: str | None = None,
    columns: list[str] | None = None,
    validation_fraction: float = 0.2,
    recipe: str | None = None,
    progress="auto",
    **fields,
) -> Run:
    """Fit a generator to `data` (see the module's doc); `fields` are any config fields (epochs=300,
    seeds=2, ...) over the recipe's; `out=None` keeps the run in memory."""
    unknown = [k for k in fields if k not in FIELDS]
    if unknown:
        raise GanfitError(f"fit: unknown config field {unknown[0]!r}")
    for name in ("target", "validation"):
        if name in fields:
            raise GanfitError(f"fit: {name} comes from the data and its split; pass the data as the first argument")
    x, names, source = read_data(data, column, columns)
    base = recipes.load(recipe or ("fit1d" if x.shape[1] == 1 else "fit2d"))
    seed = base.replace(seed=fields["seed"]).validate().seed if "seed" in fields else base.seed  # checked first
    train_rows, val_rows = split(len(x), validation_fraction, seed)
    train_x, val_x = x[train_rows], x[val_rows]
    arrays.check_spread(train_x, names, "the train part")
    arrays.check_spread(val_x, names, "the validation part")
    config = base.replace(**fields, target=arrays.hold(train_x, names), validation=arrays.hold(val_x, names))
    config = Config.from_dict({f: getattr(config, f) for f in FIELDS}, "fit")
    run = train(config, out, progress=progress)
    info = {
        "source": source,
        "rows": len(x),
        "sha256": arrays.fingerprint(x),
        "validation_fraction": validation_fraction,
        "seed": seed,
        "train_rows": len(train_rows),
        "validation_rows": len(val_rows),
    }
    baselines = baseline_samples(train_x, config.eval_samples, config.seed)
    run.summary |= {"split": info} | judge(run, train_x, val_x, baselines)
    if run.dir:
        rows = {"train": train_rows.tolist(), "validation": val_rows.tolist()}
        try:
            write_text(run.dir / SPLIT, json.dumps(info | rows))
            write_text(run.dir / SUMMARY, json.dumps(jsonable(run.summary), indent=2) + "\n")
            figures.fit_picture(run, train_x, val_x, baselines, run.dir / "fit.png")
        except OSError as e:
            raise GanfitError(f"cannot write in {run.dir}: {io_reason(e)}") from None
    return run


def judge(run: Run, train_x: np.ndarray, val_x: np.ndarray, baselines: dict) -> dict:
    """best_member (lowest keep_best metric on validation) and the comparison table: the best and the
    median member, the baselines and the train part, each scored against the validation part."""
    names = M.validation_names(train_x.shape[1])
    metric = run.config.keep_best if run.config.keep_best in names else names[1]
    members = run.summary["members"]
    scores = np.array([np.inf if m.get(metric) is None else m[metric] for m in members])
    best = int(np.argmin(scores))
    median = {n: float(np.nanmedian([np.nan if m.get(n) is None else m[n] for m in members])) for n in names}
    rows = [
        {"model": f"ganfit, best member ({best})", "key": "ganfit"} | {n: members[best].get(n) for n in names},
        {"model": f"ganfit, median of {len(members)} members", "key": "median"} | median,
    ]
    for key, (label, samples) in baselines.items():
        rows.append({"model": label, "key": key} | _scores(samples, train_x, val_x))
    label = f"the train part itself ({len(train_x)} rows)"
    rows.append({"model": label, "key": "train"} | _scores(train_x, train_x, val_x))
    return {"best_member": best, "comparison": {"metric": metric, "rows": rows}}


def _scores(samples: np.ndarray, train_x: np.ndarray, val_x: np.ndarray) -> dict[str, float]:
    """Samples scored against the validation part as every member is (2-D: in the train part's stds)."""
    return {k: float(v[0]) for k, v in M.against(samples[None], val_x, train_x.std(0)).items()}


def comparison_lines(summary: dict) -> list[str]:
    """The comparison as the closing lines of `ganfit fit`."""
    comp, split_info = summary.get("comparison"), summary.get("split", {})
    if not comp:
        return []
    names = [k for k in comp["rows"][0] if k.startswith("val_")]
    width = max(len(r["model"]) for r in comp["rows"])
    lines = [
        f"validation: {split_info.get('validation_rows')} held-out rows ({split_info.get('train_rows')} trained on);"
        f" lower is better, the best member chosen by {comp['metric']}",
        "  " + "model".ljust(width) + "".join(f"{n:>12}" for n in names),
    ]
    for r in comp["rows"]:
        lines.append("  " + r["model"].ljust(width) + "".join(f"{_num(M.shown(n, r.get(n))):>12}" for n in names))
    by = {r["key"]: r.get(comp["metric"]) for r in comp["rows"]}
    if all(isinstance(by.get(k), float) for k in ("ganfit", "kde", "mixture")):
        beaten = [label for k, label in (("kde", "the KDE"), ("mixture", "the mixture")) if by["ganfit"] <= by[k]]
        lost = [label for k, label in (("kde", "the KDE"), ("mixture", "the mixture")) if by["ganfit"] > by[k]]
        verdict = f"at or below {' and '.join(beaten)}" if beaten else "above both baselines"
        tail = f", above {' and '.join(lost)}" if beaten and lost else ""
        lines.append(f"ganfit's best member is {verdict} on {comp['metric']}{tail}")
    return lines


def _num(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) and np.isfinite(v) else "—"
