"""The public API documents itself: every re-exported name and its public methods have docstrings; the
package ships py.typed and a LICENSE that matches pyproject's."""

import ast
import inspect
import subprocess
import sys
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


def test_importing_ganfit_changes_no_environment_variable():
    code = (
        "import os; before = dict(os.environ); import ganfit, ganfit.training, ganfit.fitting, ganfit.sweep; "
        "ganfit.Config; print(sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ganfit_imports_no_posix_only_module():
    """`import ganfit` on Windows: the run lock is filelock's, which picks the OS's own mechanism."""
    posix_only = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty"}
    src = Path(ganfit.__file__).parent
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            assert not posix_only & {n.split(".")[0] for n in names}, (path, names)


def test_the_command_sets_its_thread_settings_and_puts_them_back(monkeypatch):
    import os

    from ganfit import cli

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("GOMP_SPINCOUNT", "7")  # a user's own value wins
    seen = {}
    monkeypatch.setattr(cli, "cmd_sample", lambda args: seen.update(os.environ) or 0)
    assert cli.main(["sample", "nowhere"]) == 0
    assert seen["OMP_WAIT_POLICY"] == "PASSIVE" and seen["GOMP_SPINCOUNT"] == "7"
    assert "OMP_WAIT_POLICY" not in os.environ and os.environ["GOMP_SPINCOUNT"] == "7"
