"""Which software and CPU made a run, from which command: "bit for bit" holds only for the same versions
on the same instruction set of the same maker's CPU.

Recorded as a `[provenance]` table at the end of config.toml (Config.from_toml skips it) and in
summary.json: versions, the command, and where float rounding is decided, `cpu` (the machine and torch's
CPU capability: AVX512, AVX2, DEFAULT, ...), `vendor` (the CPU's maker: the same capability rounds
differently on Intel's and AMD's) and `kernel` (the compiled kernel's variant, or none). A resume or a
`--config` replay on another torch or ganfit, CPU capability, maker or kernel says so in one line (a run
recorded before the maker was, says nothing of it).
The kernel's avx512 and avx2 variants give the same bits (tests/game/test_native.py): a change between
them alone is no difference.
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


def collect(platform_info: dict[str, str] | None = None) -> dict[str, str | None]:
    """The versions, the command and the commit, and platform_info (game/native.platform_info(): cpu,
    vendor, kernel)."""
    return (platform_info or {}) | {
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


_SAME_BITS = {"avx512": "avx2"}  # kernel variants that give the same bits as another


def difference(recorded: dict, platform_info: dict[str, str] | None = None) -> str | None:
    """One line saying what differs from the recorded torch or ganfit version, CPU or kernel, or None."""
    now = {"torch": _version("torch"), "ganfit": _version("ganfit")} | (platform_info or {})

    def same(k):
        a, b = recorded[k], now[k]
        return a == b or (k == "kernel" and _SAME_BITS.get(a, a) == _SAME_BITS.get(b, b))

    changed = [f"{k} {recorded[k]} (now {now[k]})" for k in now if recorded.get(k) and not same(k)]
    if not changed:
        return None
    return f"this run was made with {', '.join(changed)}: it repeats, but not bit for bit"


def note(recorded: dict, platform_info: dict[str, str] | None = None) -> None:
    line = difference(recorded, platform_info)
    if line:
        print(f"ganfit: note: {line}", file=sys.stderr)
