"""A sweep file: a base config, axes over any config fields, seeds per point, and a success criterion.

    # examples/lr.toml
    recipe = "seed"             # start from a recipe, or config = "a/config.toml" (relative to this file)
    seeds = 8                   # seeds per point: members seed .. seed+7, the same seeds at every point
    success = "ks < 0.05"       # over each member's final metrics (criteria.py); default "learned"
    random_seed = 0             # for random axes

    [base]                      # fields set at every point
    epochs = 3000

    [axes]                      # the grid: every combination of these (in this order)
    lr_d = [1e-4, 2e-4, 5e-4]                   # a list
    g_hidden = {range = [10, 50], num = 3}      # evenly spaced, ends included (or step = 20)
    lr_g = {log = [1e-4, 1e-3], num = 3}        # log-spaced, ends included
    beta1 = {uniform = [0.3, 0.9], count = 4}   # random draws; also loguniform = [a, b] and
    loss = {choice = ["ns", "lsgan"], count = 4}   # choice = [...]; random axes are drawn together

Every point is the base, then the CLI's flags, then its axis values; each is checked as a Config
before anything runs, and the criterion's names against the metrics of each point's target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import recipes
from ..config import DATA_FIELDS, FIELDS, MAX_TOML_BYTES, Config, read_toml, rebase, renamed
from ..errors import GanfitError
from ..files import read_regular
from ..game.targets import make_target
from ..measure import metrics
from . import criteria

TOP_KEYS = ("recipe", "config", "seeds", "success", "random_seed", "description", "base", "axes")
RANDOM_KINDS = ("uniform", "loguniform", "choice")
NOT_AXES = ("seed", "seeds")
MAX_VALUES = 10_000  # values on one axis (and random draws)
MAX_POINTS = 10_000  # points in one sweep: the product of the axes' lengths, checked before any is built


@dataclass
class Point:
    id: str
    values: dict[str, Any]  # the swept fields' values
    config: Config


@dataclass
class Sweep:
    path: Path
    text: str
    base: Config
    axes: list[str]
    points: list[Point]
    criterion: criteria.Criterion
    description: str = ""

    @property
    def seeds(self) -> int:
        return self.base.seeds


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> Sweep:
    """Read and check a sweep file; `overrides` (the CLI's flags) apply to every point."""
    path = Path(path)
    where = f"sweep file {path}"
    raw = read_toml(path, where)
    text = read_regular(path, MAX_TOML_BYTES, where).decode("utf-8")  # kept beside the results, as written
    for key in raw:
        if key not in TOP_KEYS:
            hint = " (config fields go under [base])" if key in FIELDS else ""
            raise GanfitError(f"{where}: unknown key {key!r}{hint} (known: {', '.join(TOP_KEYS)})")
    base = _base(raw, path, where)
    overrides = dict(overrides or {})
    axes_raw = raw.get("axes", {})
    if not isinstance(axes_raw, dict):
        raise GanfitError(f"{where}: axes must be a table ([axes]), got {axes_raw!r}")
    axes_raw = renamed(axes_raw)
    for name in axes_raw:
        if name not in FIELDS:
            raise GanfitError(f"{where}: [axes] unknown field {name!r}")
        if name in NOT_AXES:
            why = "a point's members are its seeds (set seeds = N)"
            raise GanfitError(f"{where}: [axes] {name!r} cannot be an axis: {why}")
        if name in overrides:
            flag = "--" + name.replace("_", "-")
            raise GanfitError(f"{flag} sets {name}, which this sweep varies along an axis")
    try:
        base = dataclasses.replace(base, **overrides).validate()
    except GanfitError as e:
        raise GanfitError(f"{where}: {e}") from None
    rng = np.random.default_rng(_int(raw.get("random_seed", 0), "random_seed", where))
    grid, random = [], []
    for name, spec in axes_raw.items():
        kind = _random_kind(spec)
        (random if kind else grid).append((name, spec))
    grid_values = [(name, _grid_axis(name, spec, where)) for name, spec in grid]
    points = _points(grid_values, _random_axes(random, rng, where), where)
    success = raw.get("success", "learned")
    crit = criteria.parse(success)  # syntax first, names per target below
    built, seen, known_by_target = [], set(), {}
    for values in points:
        try:
            config = dataclasses.replace(base, **values).validate()
        except (GanfitError, TypeError) as e:
            raise GanfitError(f"{where}: point {_describe(values)}: {e}") from None
        values = {k: getattr(config, k) for k in values}  # as validated (an int given for a float field)
        # data files named relative to the working directory, as each point's config.toml records them
        config = config.replace(**{f: rebase(getattr(config, f), Path.cwd()) for f in DATA_FIELDS})
        key = (config.target, bool(config.validation))
        if key not in known_by_target:
            known_by_target[key] = _metric_names(config.target, where, bool(config.validation))
        criteria.parse(success, known_by_target[key])
        pid = point_id(values)
        if pid in seen:
            raise GanfitError(f"{where}: two points have the same values ({_describe(values)})")
        seen.add(pid)
        built.append(Point(pid, values, config))
    return Sweep(path, text, base, list(axes_raw), built, crit, str(raw.get("description", "")))


def _points(grid_values: list[tuple[str, list]], draws: list[dict], where: str) -> list[dict[str, Any]]:
    """Every combination of the grid axes' values, each with every random draw: counted before built."""
    sizes = [len(vals) for _, vals in grid_values] + ([len(draws)] if draws else [])
    if math.prod(sizes) > MAX_POINTS:
        product = " x ".join(f"{n:,}" for n in sizes)
        raise GanfitError(f"{where}: the axes make {product} = {math.prod(sizes):,} points, at most {MAX_POINTS:,}")
    points = []
    for combo in itertools.product(*(vals for _, vals in grid_values)):
        values = dict(zip([n for n, _ in grid_values], combo))
        for draw in draws or [{}]:
            points.append(values | draw)
    return points


def _base(raw: dict, path: Path, where: str) -> Config:
    recipe, config_path = raw.get("recipe"), raw.get("config")
    if recipe is not None and config_path is not None:
        raise GanfitError(f"{where}: recipe and config both name a starting config: give one")
    if recipe is not None:
        base = recipes.load(str(recipe))
    elif config_path is not None:
        p = Path(str(config_path))
        base = Config.from_toml(p if p.is_absolute() else path.parent / p)
    else:
        base = Config()
    fields = raw.get("base", {})
    if not isinstance(fields, dict):
        raise GanfitError(f"{where}: base must be a table ([base]), got {fields!r}")
    fields = renamed(fields)
    for key, value in fields.items():
        if key not in FIELDS:
            raise GanfitError(f"{where}: [base] unknown field {key!r}")
        if isinstance(value, (dict, list)):
            raise GanfitError(f"{where}: [base] {key} = {value!r}: a single value (lists go under [axes])")
    if "seeds" in fields and "seeds" in raw:
        raise GanfitError(f"{where}: seeds is given twice (top level and [base]): give it once")
    if "seeds" in raw:
        fields = fields | {"seeds": _int(raw["seeds"], "seeds", where)}
    try:
        return dataclasses.replace(base, **fields).validate()
    except GanfitError as e:
        raise GanfitError(f"{where}: {e}") from None


def _int(v: Any, name: str, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise GanfitError(f"{where}: {name} must be an integer, got {v!r}")
    return v


def _random_kind(spec: Any) -> str | None:
    if isinstance(spec, dict):
        kinds = [k for k in RANDOM_KINDS if k in spec]
        return kinds[0] if kinds else None
    return None


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise GanfitError(f"{what}: expected a finite number, got {v!r}")
    return float(v)


def _pair(spec: dict, key: str, what: str) -> tuple[float, float]:
    v = spec[key]
    if not isinstance(v, list) or len(v) != 2:
        raise GanfitError(f"{what}: {key} must be [low, high], got {v!r}")
    lo, hi = (_number(x, what) for x in v)
    if key in ("log", "loguniform") and (lo <= 0 or hi <= 0):
        raise GanfitError(f"{what}: {key} needs positive ends, got {v!r}")
    return lo, hi


def _check_keys(spec: dict, allowed: tuple[str, ...], what: str) -> None:
    for key in spec:
        if key not in allowed:
            raise GanfitError(f"{what}: unknown key {key!r} (known: {', '.join(allowed)})")


def _cast(name: str, values: list[float], what: str) -> list[Any]:
    """Numbers to the field's type: ints rounded (repeats dropped), floats to 12 significant digits."""
    kind = FIELDS[name].type
    if kind == "int":
        return list(dict.fromkeys(int(round(x)) for x in values))
    if kind == "float":
        return [float(f"{x:.12g}") for x in values]
    raise GanfitError(f"{what}: {name} is a {kind} field: give a list of values, or choice = [...]")


def _grid_axis(name: str, spec: Any, where: str) -> list[Any]:
    what = f"{where}: [axes] {name}"
    if isinstance(spec, list):
        if not spec:
            raise GanfitError(f"{what}: an empty list")
        if len(spec) > MAX_VALUES:
            raise GanfitError(f"{what}: {len(spec):,} values, at most {MAX_VALUES:,} on one axis")
        return list(spec)
    if not isinstance(spec, dict):
        return [spec]  # a single value: a one-point axis, shown in the tables
    if "range" in spec:
        _check_keys(spec, ("range", "num", "step"), what)
        lo, hi = _pair(spec, "range", what)
        if ("num" in spec) == ("step" in spec):
            raise GanfitError(f"{what}: a range needs num = N or step = S (one of them)")
        if "num" in spec:
            values = np.linspace(lo, hi, _count(spec, "num", what)).tolist()
        else:
            step = _number(spec["step"], what)
            if step <= 0 or hi < lo:
                raise GanfitError(f"{what}: range [{lo:g}, {hi:g}] with step {step:g} is empty")
            n = int(math.floor((hi - lo) / step + 1e-9)) + 1
            if n > MAX_VALUES:
                raise GanfitError(f"{what}: {n:,} values, at most {MAX_VALUES:,} on one axis")
            values = [lo + i * step for i in range(n)]
        return _cast(name, values, what)
    if "log" in spec:
        _check_keys(spec, ("log", "num"), what)
        lo, hi = _pair(spec, "log", what)
        if "num" not in spec:
            raise GanfitError(f"{what}: a log range needs num = N")
        return _cast(name, np.geomspace(lo, hi, _count(spec, "num", what)).tolist(), what)
    raise GanfitError(
        f"{what}: expected a list, {{range = [a, b], num = N}}, {{log = [a, b], num = N}} or a random draw"
        f" ({', '.join(RANDOM_KINDS)} with count = N), got {spec!r}"
    )


def _count(spec: dict, key: str, what: str) -> int:
    n = spec.get(key)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_VALUES:
        raise GanfitError(f"{what}: {key} must be an integer from 1 to {MAX_VALUES}, got {n!r}")
    return n


def _random_axes(random: list[tuple[str, dict]], rng: np.random.Generator, where: str) -> list[dict]:
    """The random axes drawn together: `count` points, each with one value of every random axis."""
    if not random:
        return []
    counts = {}
    for name, spec in random:
        what = f"{where}: [axes] {name}"
        kind = _random_kind(spec)
        _check_keys(spec, (kind, "count"), what)
        counts[name] = _count(spec, "count", what)
    if len(set(counts.values())) > 1:
        raise GanfitError(f"{where}: random axes are drawn together and need one count, got {counts}")
    n = next(iter(counts.values()))
    columns = {}
    for name, spec in random:
        what = f"{where}: [axes] {name}"
        kind = _random_kind(spec)
        if kind == "choice":
            options = spec["choice"]
            if not isinstance(options, list) or not options:
                raise GanfitError(f"{what}: choice must be a non-empty list, got {options!r}")
            columns[name] = [options[i] for i in rng.integers(0, len(options), n)]
            continue
        lo, hi = _pair(spec, kind, what)
        if hi < lo:
            raise GanfitError(f"{what}: {kind} [{lo:g}, {hi:g}] is empty")
        u = rng.uniform(0.0, 1.0, n)
        x = lo + u * (hi - lo) if kind == "uniform" else np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        if FIELDS[name].type == "int":
            columns[name] = [int(round(v)) for v in x]
        elif FIELDS[name].type == "float":
            columns[name] = [float(f"{v:.6g}") for v in x]
        else:
            raise GanfitError(f"{what}: {name} is a {FIELDS[name].type} field: use choice = [...]")
    return [{name: columns[name][i] for name, _ in random} for i in range(n)]


def _metric_names(target: str, where: str, validation: bool = False) -> tuple[str, ...]:
    try:
        t = make_target(target)
    except GanfitError as e:
        raise GanfitError(f"{where}: {e}") from None
    return (*metrics.names(t), *(metrics.validation_names(t.dim) if validation else ()), *metrics.LOSS_COLUMNS)


def value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={value_text(v)}" for k, v in values.items()) or "(the base config)"


def point_id(values: dict[str, Any]) -> str:
    """The point's directory name, from its values: stable when axes gain or lose other values."""
    if not values:
        return "base"
    text = ",".join(f"{k}={value_text(v)}" for k, v in values.items())
    safe = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)
    if len(safe) > 100 or safe != text:
        safe = safe[:90] + "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return safe
