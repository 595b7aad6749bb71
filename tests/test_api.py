"""The public API documents itself: every re-exported name and its public methods have docstrings; the
package ships py.typed and a LICENSE that matches pyproject's."""

import inspect
import tomllib
from pathlib import Path

import ganfit
from ganfit.metric_log import LogRow
from ganfit.notebook import LiveView

ROOT = Path(__file__).parents[1]


def test_every_public_name_and_method_has_a_docstring():
    missing = []
    for obj in [*(getattr(ganfit, name) for name in ganfit.__all__), LogRow, LiveView]:
        if not (obj.__doc__ or "").strip():
            missing.append(obj.__name__)
        if inspect.isclass(obj) and not issubclass(obj, Exception):
            for name, member in vars(obj).items():
                if name.startswith("_") or not (
                    inspect.isfunction(member) or isinstance(member, property | classmethod)
                ):
                    continue
                target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if not (target.__doc__ or "").strip():
                    missing.append(f"{obj.__name__}.{name}")
    assert not missing, missing


def test_typed_and_licensed_as_pyproject_says():
    assert (ROOT / "src" / "ganfit" / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert set(ganfit.__all__) <= set(dir(ganfit))  # the lazy names are listed where help() looks
