"""A researcher's own code in a run: a loss, a regulariser on D, G's or D's network.

Custom parts come in only through Python: `Config(loss=my_loss)` keeps the function here, in this
process, and the config holds the name `custom:my_loss`, so that it stays plain text. config.toml
says so, and a config file that names custom code is refused (tomllib never runs code, and ganfit never
imports what a file names). A sweep carries its custom parts to its worker processes with the tasks.
"""

from __future__ import annotations

from .errors import GanfitError

PREFIX = "custom:"
FIELDS = ("loss", "d_penalty", "g_model", "d_model")  # the config fields that may hold custom code
_PARTS: dict[str, object] = {}


def is_custom(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def hold(part) -> str:
    """Keep a function, class or module for this process's runs; the name the config holds."""
    base = getattr(part, "__qualname__", None) or type(part).__name__
    base = "".join(c if c.isalnum() or c in "_.-" else "_" for c in base) or "part"
    name, i = base, 1
    while name in _PARTS and _PARTS[name] is not part:
        i += 1
        name = f"{base}-{i}"
    _PARTS[name] = part
    return PREFIX + name


def held(spec: str) -> bool:
    return spec[len(PREFIX) :] in _PARTS


def get(spec: str):
    """The part a `custom:NAME` spec names, or one GanfitError line."""
    name = spec[len(PREFIX) :]
    if name not in _PARTS:
        raise GanfitError(
            f"{spec}: custom code given in Python, which is not in this process: pass the part again"
            " (Config(loss=my_loss, ...)) from the Python that defines it"
        )
    return _PARTS[name]


def parts_of(values: dict) -> dict[str, object]:
    """{custom name: part} for every custom part a config's fields name (what a sweep task carries)."""
    return {v[len(PREFIX) :]: get(v) for f, v in values.items() if f in FIELDS and is_custom(v)}


def take(parts: dict[str, object]) -> None:
    """Hold the parts a sweep task carried (in a worker process)."""
    _PARTS.update(parts)
