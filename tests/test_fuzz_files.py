"""Special files and symlinks, fuzzed: wherever ganfit writes a file (sample, report) or reads one (data,
config), whatever already stands there — nothing, a regular file, a symlink to either, a directory, a FIFO,
a device — it writes a regular file or refuses in one line, and never changes what the user had."""

import contextlib
import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganfit import Config, GanfitError, cli
from ganfit.game.targets import make_target

KINDS = ["missing", "file", "symlink-to-file", "symlink-to-missing", "directory", "fifo", "device"]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def place(path, kind: str, victim) -> None:
    """Put a thing of this kind at path; a symlink points at `victim` (a file of the user's)."""
    if kind == "file":
        path.write_text("the user's own file\n")
    elif kind == "symlink-to-file":
        victim.write_text("the user's notes\n")
        path.symlink_to(victim)
    elif kind == "symlink-to-missing":
        path.symlink_to(victim)
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("needs root for a device node")
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))  # a copy of /dev/null


def snapshot(path):
    try:
        st_ = os.lstat(path)
    except FileNotFoundError:
        return None
    body = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return st_.st_mode, st_.st_ino, body


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fz") / "run"
    assert cli.main(["train", "--epochs", "20", "--log-every", "10", "--eval-samples", "100", "--out", str(out)]) == 0
    return out


@FUZZ
@given(kind=st.sampled_from(KINDS), command=st.sampled_from(["sample.csv", "sample.npy", "report.html"]))
def test_what_stands_where_ganfit_writes_is_replaced_only_if_it_is_a_regular_file(
    run_dir, tmp_path_factory, kind, command
):
    d = tmp_path_factory.mktemp("w")
    target, victim = d / command, d / "victim.txt"
    place(target, kind, victim)
    before, victim_before = snapshot(target), snapshot(victim)
    args = (
        ["report", str(run_dir), "--out", str(target)]
        if command.startswith("report")
        else ["sample", str(run_dir), "-n", "5", "--out", str(target)]
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(args)  # in-process: a traceback would fail the test itself
    assert snapshot(victim) == victim_before  # a symlink's target is never written through
    if kind == "missing" or (kind == "file" and not command.startswith("report")):
        assert code == 0 and target.is_file() and not target.is_symlink()
    else:
        # (a report replaces only a report ganfit wrote: a user's regular file stays too)
        assert code == 2 and len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
        assert snapshot(target) == before


@FUZZ
@given(kind=st.sampled_from(KINDS), what=st.sampled_from(["csv", "npy", "toml"]))
def test_what_stands_where_ganfit_reads_is_read_only_if_it_is_a_regular_file(tmp_path_factory, kind, what):
    d = tmp_path_factory.mktemp("r")
    path, victim = d / f"data.{what}", d / "victim.txt"
    place(path, kind, victim)
    if kind == "symlink-to-file":  # a link to a real file of the right kind is read through, as any reader does
        if what == "npy":
            np.save(victim, np.arange(10.0))
            os.replace(str(victim) + ".npy", victim)
        else:
            victim.write_text("x\n1\n2\n3\n" if what == "csv" else "epochs = 7\n")
    try:
        if what == "toml":
            got = Config.from_toml(path).epochs
        else:
            got = len(make_target(f"{what}:path={path}" + (",column=x" if what == "csv" else "")).data)
    except GanfitError as e:
        assert "\n" not in str(e) and kind != "symlink-to-file"
        return
    assert kind == "symlink-to-file" and got in (3, 7, 10)
