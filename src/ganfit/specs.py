"""The spec grammar shared by targets, noise and discriminator views: NAME[:key=value,...]."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from .errors import GanfitError


def parse_spec(spec: str, kind: str) -> tuple[str, dict[str, str]]:
    """Split "gaussian:mean=4,std=1.25" into ("gaussian", {"mean": "4", "std": "1.25"})."""
    if not isinstance(spec, str) or not spec.strip():
        raise GanfitError(f"empty {kind} spec (expected NAME[:key=value,...])")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if not name.isidentifier():
        raise GanfitError(f"malformed {kind} spec {spec!r}: {name!r} is not a name")
    params: dict[str, str] = {}
    for item in rest.split(",") if rest.strip() else []:
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise GanfitError(f"malformed {kind} spec {spec!r}: {item.strip()!r} is not key=value")
        if key in params:
            raise GanfitError(f"malformed {kind} spec {spec!r}: {key!r} given twice")
        params[key] = value
    return name, params


def _convert(value: str, annotation: Any, where: str) -> Any:
    if typing.get_origin(annotation) is list:  # list[float] etc.: items separated by ";" ("," splits keys)
        (item,) = typing.get_args(annotation)
        parts = [v.strip() for v in value.split(";")]
        if any(not v for v in parts):
            raise GanfitError(f"{where}: {value!r} has an empty item (separate items with ';')")
        return [_convert(v, item, f"{where} item") for v in parts]
    kind = annotation if isinstance(annotation, type) else str
    if kind is bool:
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise GanfitError(f"{where}: {value!r} is not true or false")
    if kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            raise GanfitError(f"{where}: {value!r} is not {'an integer' if kind is int else 'a number'}") from None
    return value


def build(spec: str, registry: dict[str, Callable[..., Any]], kind: str) -> Any:
    """Parse a spec and call the registered factory with typed keyword arguments.

    Every factory parameter is keyword-only and annotated (float, int, bool, str, or a list of one of
    them, written with ';' between items: `means=-2;2`): the annotations
    are the spec's schema, so an unknown key or a value of the wrong type is caught here by name.
    """
    name, raw = parse_spec(spec, kind)
    if name not in registry:
        raise GanfitError(f"unknown {kind} {name!r} (known: {', '.join(sorted(registry))})")
    factory = registry[name]
    params = inspect.signature(factory, eval_str=True).parameters
    kwargs = {}
    for key, value in raw.items():
        if key not in params:
            known = ", ".join(params) or "none"
            raise GanfitError(f"{kind} {name!r} has no parameter {key!r} (known: {known})")
        kwargs[key] = _convert(value, params[key].annotation, f"{kind} {name!r} parameter {key!r}")
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in kwargs]
    if missing:
        raise GanfitError(f"{kind} {name!r} needs {', '.join(f'{k}=...' for k in missing)}")
    return factory(**kwargs)
