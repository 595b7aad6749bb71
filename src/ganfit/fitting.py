"""`ganfit fit`: a generator for a user's own small data set, judged on rows that chose nothing against
what an expert would fit instead.

The data (a CSV's column or two, a .npy file, or an array, list, Series or DataFrame in memory) are
split three ways (seeded; recorded in split.json and summary.json):
- the **train** part (60%): every model is fitted on it, G and D and the baselines alike;
- the **validation** part (20%): each member is measured on it at every log row, kept at its best score
  there (`keep_best`), stopped when it stops improving (`early_stop`); the member is chosen on it (by
  the sum of its ranks over both validation metrics, so that one noisy metric does not decide), and so
  are whether the D-guided sampler (sampler.py, with a smooth or a sharp critic) replaces the member's
  plain G, and the bandwidth of the Gaussian kernel put on its samples (sampler.Smoothed: 0 to 1 times
  Silverman's, by the same ranks). Where the members' Gs are of two kinds (fit1d's: half ELU's, half
  ReLU's, recipes.FIT_MEMBERS), each kind's best member goes through those steps, and the kind whose
  finished sampler ranks lower on both validation metrics is kept (`kinds` in summary.json);
- the **test** part (20%): touched only by the comparison. The chosen sampler, the median member, the
  expert baselines (measure/baselines.py; with `flow=True`, a normalizing flow too) and the train part
  itself are each scored on it.

Every model is scored, and every choice after training (critic, kernel) made, on `scored_samples(config)`
draws: at least SCORED, as a model's score on 2,000 draws moved with the draw by more than the gaps
between the models (a ten-split mean by up to 0.01).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import arrays, recipes
from .config import FIELDS, Config
from .errors import GanfitError
from .files import atomic_write, io_reason, jsonable, write_text
from .game.data import load_npy, read_csv_table
from .game.models import MLP
from .game.noise import make_noise
from .measure import metrics as M
from .measure.baselines import Baseline, baselines, flow_missing
from .pictures import figures
from .run import SAMPLER, Run
from .rundir.layout import SUMMARY
from .sampler import CRITICS, DGuided, Smoothed, bandwidths, threshold
from .sampler import fit_critics as sampler_critics
from .training import train

MIN_TRAIN, MIN_VALIDATION, MIN_TEST = 8, 2, 2
SPLIT, TEST = "split.json", "test.npy"
ENDED = ("finished", "all members stopped")  # a run that ends so is concluded; others resume first
SMOOTHING = (0.0, 0.25, 0.5, 0.75, 1.0)  # kernel bandwidths tried on validation, in Silverman's
SCORED = 20_000  # samples per model at the end of a fit (the module's doc): the draw's noise 1/sqrt(10) of 2,000's
OUTLIER = 20.0  # robust stds from the median beyond which a train row is named in the closing lines
GAP_ADVICE = "drop rows with gaps, or leave them out: ganfit fit --drop-missing, fit(..., drop_missing=True)"


def read_data(
    data, column: str | None = None, columns: list[str] | None = None, drop_missing: bool = False
) -> tuple[np.ndarray, list[str], str, int]:
    """(values [n, dim], column names, where they came from, how many rows with a gap were left out) of a
    file path or data in memory; a gap (an empty or NA cell, a NaN) is refused unless `drop_missing`."""
    if isinstance(data, str | Path):
        path = str(data)
        if not path.endswith(".npy"):
            picked = list(columns) if columns else ([column] if column else None)
            if picked and len(picked) > arrays.MAX_DIM:
                raise GanfitError(f"--columns names {len(picked)} columns; ganfit fits 1-D and 2-D data (1 or 2)")
            x, names, missing = read_csv_table(path, picked, drop_missing, GAP_ADVICE)
            return x, names, path, missing
        if column or columns:
            raise GanfitError(f"{path}: a .npy file's columns are its own; --column and --columns are for CSV")
        x, names, missing = _without_gaps(load_npy(path), f"npy file {path}", drop_missing)
        return x, names, path, missing
    if column or columns:
        raise GanfitError("column/columns pick from a CSV file; select from in-memory data before passing it")
    x, names, missing = _without_gaps(data, "data", drop_missing)
    return x, names, "data in memory", missing


def _without_gaps(data, where: str, drop_missing: bool) -> tuple[np.ndarray, list[str], int]:
    """arrays.as_array's values and names without the rows holding a NaN, and how many those were; a
    NaN refused in one line that says how to leave such rows out, unless `drop_missing`."""
    x, names = arrays.as_array(data, where, drop_missing=True)
    missing = len(data) - len(x)
    if missing and not drop_missing:
        raise GanfitError(f"{where}: {missing} row(s) with a missing value (NaN) ({GAP_ADVICE})")
    return x, names, missing


def split(
    n: int, validation_fraction: float, seed: int, test_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (train, validation, test), disjoint and covering 0..n-1, from a seeded permutation."""
    for name, f in (("validation", validation_fraction), ("test", test_fraction)):
        if not 0 < f < 1:
            raise GanfitError(f"{name} fraction must be in (0, 1), got {f}")
    if validation_fraction + test_fraction >= 1:
        raise GanfitError(f"validation and test fractions sum to {validation_fraction + test_fraction:g}: must be < 1")

    def sizes(m: int) -> tuple[int, int]:
        return max(MIN_VALIDATION, round(validation_fraction * m)), max(MIN_TEST, round(test_fraction * m))

    if n - sum(sizes(n)) < MIN_TRAIN:
        least = next(m for m in range(MIN_TRAIN, 10**6) if m - sum(sizes(m)) >= MIN_TRAIN)
        raise GanfitError(
            f"fit needs at least {MIN_TRAIN} train, {MIN_VALIDATION} validation and {MIN_TEST} test rows"
            f" ({least} or more rows at fractions {validation_fraction:g} and {test_fraction:g}), got {n} row(s)"
        )
    n_val, n_test = sizes(n)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val + n_test :]), np.sort(order[:n_val]), np.sort(order[n_val : n_val + n_test])


def fit(
    data,
    out: str | Path | None = None,
    *,
    column: str | None = None,
    columns: list[str] | None = None,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    recipe: str | None = None,
    progress="auto",
    flow: bool = False,
    drop_missing: bool = False,
    **fields,
) -> Run:
    """Fit a generator to `data` (see the module's doc); `fields` are any config fields (epochs=300,
    seeds=2, ...) over the recipe's; `out=None` keeps the run in memory; `flow` adds a normalizing flow
    to the baselines (the flow extra, zuko: about 1 s more on 300 rows, 8 s on 1,000 in 2-D);
    `drop_missing` leaves out the rows with a gap (an empty or NA cell, a NaN) and records how many."""
    unknown = [k for k in fields if k not in FIELDS]
    if unknown:
        raise GanfitError(f"fit: unknown config field {unknown[0]!r}")
    if flow and flow_missing():
        raise GanfitError(f"the flow baseline: {flow_missing()}")
    for name in ("target", "validation"):
        if name in fields:
            raise GanfitError(f"fit: {name} comes from the data and its split; pass the data as the first argument")
    x, names, source, missing = read_data(data, column, columns, drop_missing)
    base = recipes.for_fit(recipe or ("fit1d" if x.shape[1] == 1 else "fit2d"), fields)
    seed = base.replace(seed=fields["seed"]).validate().seed if "seed" in fields else base.seed  # checked first
    rows = dict(zip(("train", "validation", "test"), split(len(x), validation_fraction, seed, test_fraction)))
    parts = {k: x[v] for k, v in rows.items()}
    for part, values in parts.items():
        arrays.check_spread(values, names, f"the {part} part")
    config = base.replace(**fields, target=arrays.hold(parts["train"], names))
    config = config.replace(validation=arrays.hold(parts["validation"], names))
    config = Config.from_dict({f: getattr(config, f) for f in FIELDS}, "fit")
    info = {
        "source": source,
        "rows": len(x),
        "missing_dropped": missing,
        "sha256": arrays.fingerprint(x),
        "validation_fraction": validation_fraction,
        "test_fraction": test_fraction,
        "seed": seed,
        "chosen_by": _chooser(fields.get("keep_best"), x.shape[1]),
        "flow": bool(flow),
    } | {f"{k}_rows": len(v) for k, v in rows.items()}
    run = _train(config, out, progress, parts["test"], info | {k: v.tolist() for k, v in rows.items()})
    run.summary["split"] = info
    if run.summary.get("status") not in ENDED:
        return run  # interrupted: `ganfit train --resume` trains on and then concludes (see conclude_saved)
    return conclude(run, parts, info)


def _chooser(keep_best: str | None, dim: int) -> str:
    """How the member is chosen: by the validation metric a user's keep_best names (ks -> val_ks), else by
    the sum of each member's ranks over both validation metrics."""
    names = M.validation_names(dim)
    if keep_best:
        named = keep_best if keep_best.startswith("val_") else f"val_{keep_best}"
        if named in names:
            return named
    return "rank"


def _train(config: Config, out, progress, test: np.ndarray, split_record: dict) -> Run:
    """train() into `out`, then split.json and test.npy, written once training returns (finished or
    interrupted), so that `ganfit train --resume` knows the run as a fit; a Ctrl-C that ends training
    before its first checkpoint leaves nothing (train removes what it claimed)."""
    run = train(config, out, progress=progress)
    if run.dir:
        _write(run.dir, lambda: _save_split(run.dir, test, split_record))
    return run


def _save_split(d: Path, test: np.ndarray, record: dict) -> None:
    def save(tmp):
        with open(tmp, "wb") as fh:
            np.save(fh, test)

    atomic_write(d / TEST, save)
    write_text(d / SPLIT, json.dumps(record))


def _write(d: Path, fn) -> None:
    try:
        fn()
    except OSError as e:
        raise GanfitError(f"cannot write in {d}: {io_reason(e)}") from None


def conclude(run: Run, parts: dict[str, np.ndarray], info: dict) -> Run:
    """The end of a fit: the member chosen on validation, the D-guided sampler fitted and kept if it is
    better there, the baselines, and the comparison of them all on the test part; written to the run."""
    train_x, val_x = parts["train"], parts["validation"]
    n, seed = scored_samples(run.config), run.config.seed
    groups = kinds(run)
    table = run.summary["members"]
    tops = {k: g[choose([table[m] for m in g], info["chosen_by"], train_x.shape[1])] for k, g in groups.items()}
    critics = fit_critics(run, list(tops.values()), train_x)  # every kind's at once: they share the cores
    # each kind's best member, through the critics and the kernel
    finished = {k: finish(run, m, train_x, val_x, n, critics.get(m)) for k, m in tops.items()}
    kind = pick_kind(finished, M.validation_names(train_x.shape[1]))
    plain, run.refined, sampler = finished[kind]
    run.summary["best_member"] = sampler["member"]
    if len(groups) > 1:
        run.summary["kinds"] = {k: {"member": s["member"], "validation": final(s)} for k, (_, _, s) in finished.items()}
        sampler["g_activation"] = kind
    run.summary["sampler"] = sampler
    chosen = run.refined.sample(n, seed + 1)[0] if run.refined is not None else plain
    fitted = baselines(train_x, n, seed, flow=bool(info.get("flow")))
    best = sampler["member"]
    members = [plain if m == best else run.sample(n, member=m, seed=seed + 1) for m in range(run.members)]
    run.summary["comparison"] = compare(run, chosen, plain, members, fitted, parts)
    if run.dir:
        _write(run.dir, lambda: _save_results(run, fitted, chosen, parts))
    return run


def kinds(run: Run) -> dict[str, list[int]]:
    """The members by G's activation where they differ (config.per_member's g_activation), else all as one."""
    named = getattr(run.G, "kinds", None)
    if not named:
        return {"": list(range(run.members))}
    return {k: [m for m, a in enumerate(named) if a == k] for k in dict.fromkeys(named)}


def finish(run: Run, member: int, train_x: np.ndarray, val_x: np.ndarray, n: int, critics=None):
    """fit's steps after training on `member`: (its plain G's n samples, the sampler kept (the D-guided one
    and/or the kernel; None: the plain G), the record for summary.json); `critics`: fit_critics' for it."""
    seed = run.config.seed
    plain = run.sample(n, member=member, seed=seed + 1)
    refined, sampler = refine(run, member, train_x, val_x, plain, critics)
    kept = refined if sampler["kind"] == "d-guided" else None
    sampler["smoothing"] = smoothing(kept.sample(n, seed + 1)[0] if kept is not None else plain, train_x, val_x, seed)
    if sampler["smoothing"]["factor"]:
        kept = smoothed(run, sampler, kept)
    return plain, kept, sampler


def final(sampler: dict) -> dict[str, float]:
    """The validation scores of the sampler `finish` kept (its kernel's row)."""
    return sampler["smoothing"]["validation"][str(sampler["smoothing"]["factor"])]


def pick_kind(finished: dict, names: list[str]) -> str:
    """The kind whose finished sampler has the lowest sum of ranks over both validation metrics (a rank:
    how many kinds score lower; ties: the lower first metric, then the first kind)."""
    table = np.array([[final(s)[k] for k in names] for _, _, s in finished.values()])
    table[~np.isfinite(table)] = np.inf
    ranks = (table[None, :, :] < table[:, None, :]).sum((1, 2))
    return list(finished)[int(np.lexsort((np.arange(len(table)), table[:, 0], ranks))[0])]


def scored_samples(config: Config) -> int:
    """How many samples each model of a fit's comparison is scored on, and its choices made with."""
    return max(config.eval_samples, SCORED)


def choose(members: list[dict], by: str, dim: int) -> int:
    """The member with the lowest validation score `by`, or ("rank") the lowest sum of ranks over both
    validation metrics (ties: the lower first metric); a member without a finite score is never chosen."""
    return ranking(members, by, dim)[0]


def ranking(members: list[dict], by: str, dim: int) -> list[int]:
    """The members from best to worst by `choose`'s rule (those without a finite score last)."""
    names = M.validation_names(dim)
    table = np.array([[np.inf if m.get(k) is None else float(m[k]) for k in names] for m in members])
    table[~np.isfinite(table)] = np.inf
    if by != "rank":
        return [int(i) for i in np.argsort(table[:, names.index(by)], kind="stable")]
    ranks = table.argsort(0).argsort(0).sum(1) + np.isinf(table).any(1) * 10 * len(members)
    return [int(i) for i in np.lexsort((table[:, 0], ranks))]


def fit_critics(run: Run, members: list[int], train_x: np.ndarray) -> dict[int, tuple[np.ndarray, dict]]:
    """For each of `members`: (its G's samples the critics learn, {name: critic} for each of
    sampler.CRITICS), trained in one call; {} for a custom G (it has no D-guided step)."""
    if not isinstance(run.G, MLP):
        return {}
    seed = run.config.seed
    fakes = {m: run.sample(20_000, member=m, seed=seed + 2) for m in members}
    specs = [(m, name) for m in members for name in CRITICS]
    fitted = sampler_critics(train_x, [fakes[m] for m, _ in specs], run.frame, seed, [CRITICS[c] for _, c in specs])
    out = {m: (fakes[m], {}) for m in members}
    for (m, name), critic in zip(specs, fitted):
        out[m][1][name] = critic
    return out


def refine(run: Run, member: int, train_x: np.ndarray, val_x: np.ndarray, plain: np.ndarray, critics=None):
    """The D-guided sampler on `member` with each of sampler.CRITICS (`critics`: fit_critics' for it, fitted
    here if None), and which of them, or the plain member, is kept: the lowest on the validation part's
    first metric (KS in 1-D, sliced W1 in 2-D; ties: plain). Returns (the D-guided sampler that scored
    lowest there, kept or not, None for a custom G; the record for summary.json)."""
    seed, names = run.config.seed, M.validation_names(train_x.shape[1])
    if not isinstance(run.G, MLP):  # a G from Python: the plain member only
        return None, {"kind": "plain", "member": member, "why": "a custom G"}
    fake, fitted = critics or fit_critics(run, [member], train_x)[member]
    scale = train_x.std(0)
    scores, guided, costs = {"plain": M.against(plain[None], val_x, scale)}, {}, {}
    for name in CRITICS:
        guided[name] = dguided(run, member, fitted[name], fake)
        samples, costs[name] = guided[name].sample(len(plain), seed + 3)  # the same draws for every critic
        scores[name] = M.against(samples[None], val_x, scale)
    first = lambda name: scores[name][names[0]][0]  # noqa: E731
    best = min(guided, key=first)
    record = {
        "member": member,
        "critic": {"name": best} | dict(zip(("r1", "steps"), CRITICS[best])),
        "draws_per_sample": round(costs[best], 4),
        "threshold": guided[best].threshold,
        "validation": {name: {k: float(v[k][0]) for k in names} for name, v in scores.items()},
        "kind": "d-guided" if first(best) < first("plain") else "plain",
    }
    return guided[best], record


def dguided(run: Run, member: int, critic, fake: np.ndarray) -> DGuided:
    """The D-guided sampler on a fit's `member` with `critic`, its threshold from G's samples `fake`."""
    m = threshold(critic, fake, run.frame)
    return DGuided(run.generator(member, plain=True), critic, run.frame, m, make_noise(run.config.noise), member)


def smoothing(samples: np.ndarray, train_x: np.ndarray, val_x: np.ndarray, seed: int) -> dict:
    """The kernel's bandwidth for the chosen sampler's samples: SMOOTHING times Silverman's (per column),
    the factor with the lowest sum of ranks over both validation metrics (ties: the smaller)."""
    names, scale = M.validation_names(train_x.shape[1]), train_x.std(0)
    h0 = bandwidths(train_x)
    e = np.random.default_rng(seed).standard_normal(samples.shape)
    table = np.array([[M.against((samples + f * h0 * e)[None], val_x, scale)[k][0] for k in names] for f in SMOOTHING])
    table[~np.isfinite(table)] = np.inf
    factor = SMOOTHING[int(np.lexsort((np.arange(len(SMOOTHING)), table.argsort(0).argsort(0).sum(1)))[0])]
    return {
        "factor": factor,
        "bandwidth": (factor * h0).tolist(),
        "validation": {str(f): dict(zip(names, map(float, row))) for f, row in zip(SMOOTHING, table)},
    }


def smoothed(run: Run, sampler: dict, refined=None) -> Smoothed:
    """The chosen sampler (`refined`, the D-guided one, or the member's plain G) with the kernel `sampler`
    records."""
    member = sampler["member"]
    inner = refined.inner if isinstance(refined, Smoothed) else refined  # never a kernel twice
    inner = inner if inner is not None else run.generator(member, plain=True)
    return Smoothed(inner, sampler["smoothing"]["bandwidth"], make_noise(run.config.noise), member)


def compare(run: Run, chosen, plain, members: list, fitted: list[Baseline], parts: dict) -> dict:
    """The comparison table, every row scored on the test part (2-D: in the train part's stds)."""
    train_x, test_x = parts["train"], parts["test"]
    names = [f"test_{k[4:]}" for k in M.validation_names(train_x.shape[1])]
    scale = train_x.std(0)

    def score(samples: np.ndarray) -> dict[str, float]:
        return {f"test_{k[4:]}": float(v[0]) for k, v in M.against(samples[None], test_x, scale).items()}

    s, best = run.summary["sampler"], run.summary["best_member"]
    how = f"D-guided, {s['critic']['name']} critic" if s["kind"] == "d-guided" else "plain G"
    if s.get("g_activation"):  # which kind of G the member is (fit1d's members are of two)
        how = f"{s['g_activation']} G, " + (how if s["kind"] == "d-guided" else "no D-guided step")
    if s.get("smoothing", {}).get("factor"):
        how += f", smoothed ({s['smoothing']['factor']:g} x Silverman's bandwidth)"
    rows = [{"model": f"ganfit, member {best} ({how}), chosen on validation", "key": "ganfit"} | score(chosen)]
    if s["kind"] == "d-guided" or s.get("smoothing", {}).get("factor"):
        rows.append({"model": f"ganfit, member {best}, its plain G", "key": "plain"} | score(plain))
    per = [score(m) for m in members]
    median = {k: float(np.nanmedian([p[k] for p in per])) for k in names}
    rows.append({"model": f"ganfit, median of {len(members)} members (plain G)", "key": "median"} | median)
    for b in fitted:
        if b.samples is None:
            rows.append({"model": f"{b.label}: skipped ({b.skipped})", "key": b.key} | dict.fromkeys(names))
        else:
            rows.append({"model": b.label, "key": b.key} | score(b.samples))
    rows.append({"model": f"the train part itself ({len(train_x)} rows)", "key": "train"} | score(train_x))
    comp = {"metric": names[0], "metrics": names, "scored_on": "test", "rows": rows, "outliers": outliers(train_x)}
    return comp | {"verdict": verdict(comp)}  # for summary.json and the report; the closing lines say it again


def outliers(x: np.ndarray) -> int:
    """How many rows lie more than OUTLIER robust stds from the median in some column."""
    q75, q50, q25 = np.percentile(x, [75, 50, 25], axis=0)
    scale = np.where(q75 > q25, (q75 - q25) / 1.349, np.maximum(x.std(0), 1e-300))
    return int((np.abs(x - q50) / scale > OUTLIER).any(1).sum())


def _save_results(run: Run, fitted: list[Baseline], chosen: np.ndarray, parts: dict) -> None:
    if run.refined is not None:
        run.refined.save(run.dir / SAMPLER)
    write_text(run.dir / SUMMARY, json.dumps(jsonable(run.summary), indent=2) + "\n")
    models = {b.key: (b.label, b.samples) for b in fitted if b.samples is not None and b.key in ("cv", "mixture")}
    figures.fit_picture(run, parts["train"], parts["test"], models, run.dir / "fit.png", chosen)


def conclude_saved(run: Run) -> Run:
    """conclude() for a fit run read back from its directory (after `ganfit train --resume`, or a fit
    interrupted while it compared): its split from split.json and its parts from the run's files."""
    record = json.loads((run.dir / SPLIT).read_text())
    info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
    parts = {
        "train": np.load(run.dir / "target.npy", allow_pickle=False),
        "validation": np.load(run.dir / "validation.npy", allow_pickle=False),
        "test": np.load(run.dir / TEST, allow_pickle=False),
    }
    run.summary["split"] = info
    return conclude(run, parts, info)


def sampler_words(sampler: dict) -> str:
    """What `ganfit sample` draws from, for the closing line."""
    critic = (sampler.get("critic") or {}).get("name")
    g = f"{sampler['g_activation']} G" if sampler.get("g_activation") else "G"  # fit1d's two kinds
    how = f"its plain {g}"
    if sampler.get("kind") == "d-guided":
        how = f"its {g} through its D-guided sampler" + (f" ({critic} critic)" if critic else "")
    factor = (sampler.get("smoothing") or {}).get("factor")
    return how + (f", smoothed by a kernel ({factor:g} x Silverman's bandwidth)" if factor else "")


def comparison_lines(summary: dict) -> list[str]:
    """The comparison as the closing lines of `ganfit fit`."""
    comp, info = summary.get("comparison"), summary.get("split", {})
    if not comp:
        return []
    names = comp.get("metrics") or [k for k in comp["rows"][0] if k.startswith(("test_", "val_"))]
    width = max(len(r["model"]) for r in comp["rows"])
    chosen = "the sum of its ranks on both metrics" if info.get("chosen_by") == "rank" else info.get("chosen_by")
    lines = [
        f"test: {info.get('test_rows')} rows that neither trained nor chose anything ({info.get('train_rows')} trained"
        f" on, {info.get('validation_rows')} chose the member, by {chosen}); lower is better"
        + (f"; {info['missing_dropped']} row(s) with a gap left out" if info.get("missing_dropped") else ""),
        "  " + "model".ljust(width) + "".join(f"{n:>12}" for n in names),
    ]
    for r in comp["rows"]:
        lines.append("  " + r["model"].ljust(width) + "".join(f"{_num(M.shown(n, r.get(n))):>12}" for n in names))
    return lines + [verdict(comp)] + _outlier_line(comp)


def verdict(comp: dict) -> str:
    """Where ganfit stands against the best expert baseline, on each metric."""
    experts = [r for r in comp["rows"] if r["key"] in ("isj", "cv", "mixture", "flow", "scott")]
    ours = next(r for r in comp["rows"] if r["key"] == "ganfit")
    parts = []
    for n in comp.get("metrics", [comp["metric"]]):
        scored = [r for r in experts if isinstance(r.get(n), float) and np.isfinite(r[n])]
        if not scored or not isinstance(ours.get(n), float):
            continue
        top = min(scored, key=lambda r: r[n])
        label = top["model"].split(" (")[0]
        mine, best = M.shown(n, ours[n]), M.shown(n, top[n])  # as the table shows them: an MMD² is never < 0
        if mine <= best:
            parts.append(f"at or below the best expert baseline on {n} ({label}: {_num(best)})")
        elif best > 0:
            parts.append(f"{mine / best:.2f}x the best expert baseline on {n} ({label}: {_num(best)})")
        else:  # no ratio to an estimate within its noise of 0
            parts.append(f"above the best expert baseline on {n} ({label}: 0 within its noise)")
    return "ganfit is " + "; ".join(parts) if parts else "ganfit: no baseline could be scored"


def _outlier_line(comp: dict) -> list[str]:
    k = comp.get("outliers") or 0
    if not k:
        return []
    return [
        f"note: {k} train row(s) lie over {OUTLIER:g} robust stds from the median; W1 weighs them by their"
        " distance, KS does not: read both"
    ]


def _num(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) and np.isfinite(v) else "—"
