"""Which software made a run, from which command: "bit for bit" holds only for the same versions.

Recorded as a `[provenance]` table at the end of config.toml (Config.from_toml skips it) and in
summary.json; a resume or a `--config` replay on another torch version says so in one line.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

COMMAND = "python API"  # the CLI replaces it with its command line
_HERE = Path(__file__).resolve().parent


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """ganfit's commit when it runs from a git checkout (with +dirty for uncommitted changes), else None."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=_HERE, capture_output=True, text=True, timeout=5)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0 or git("ls-files", "--error-unmatch", "provenance.py").returncode != 0:
            return None  # not a checkout of ganfit (an install inside some other repository, say)
        dirty = git("status", "--porcelain", "--untracked-files=no", ".").stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def collect() -> dict[str, str | None]:
    return {
        "ganfit": _version("ganfit"),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": COMMAND,
        "git_commit": _git_commit(),
    }


MARK = "\n# how this run was made"


def toml_table(info: dict) -> str:
    """The [provenance] table appended to config.toml (strings as JSON strings: valid TOML)."""
    rows = "".join(f"{k} = {json.dumps(v)}\n" for k, v in info.items() if v is not None)
    return f"{MARK} (not part of the config; a replay on another torch says so)\n[provenance]\n{rows}"


def read(path: Path) -> dict:
    """The [provenance] table of a config.toml, or {} where there is none or it cannot be read."""
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh).get("provenance", {})
        return table if isinstance(table, dict) else {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def difference(recorded: dict) -> str | None:
    """One line saying what differs from the recorded torch (or ganfit) version, or None."""
    now = {"torch": _version("torch"), "ganfit": _version("ganfit")}
    changed = [f"{k} {recorded[k]} (now {now[k]})" for k in now if recorded.get(k) and recorded[k] != now[k]]
    if not changed:
        return None
    return f"this run was made with {', '.join(changed)}: it repeats, but not bit for bit"


def note(recorded: dict) -> None:
    line = difference(recorded)
    if line:
        print(f"ganfit: note: {line}", file=sys.stderr)
