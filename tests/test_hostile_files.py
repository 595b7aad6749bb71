"""Files that are not what ganfit expects where it reads and writes: symbolic links, FIFOs, devices,
huge or odd data. Each gets one clear line (exit 2), nothing half-written, and the thing there
untouched: a symlink's target keeps its bytes, a FIFO stays a FIFO, a device stays a device."""

import contextlib
import os
import shutil
import signal
import stat

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ganfit import Config, GanfitError, cli, files
from ganfit.game import Game, make_target
from ganfit.metric_log import Loop, MetricLog
from ganfit.rundir import checkpoint

QUICK = ["--epochs", "40", "--log-every", "20", "--eval-samples", "300", "--checkpoint-every", "20"]
ROOT = os.geteuid() == 0
NOTES = "my notes, which no run of ganfit may touch\n" * 100  # longer than the run's metrics.jsonl


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "run"
    assert cli.main(["train", *QUICK, "--out", str(out)]) == 0
    return out


@pytest.fixture
def run(trained, tmp_path):
    """A copy of a finished run (with its checkpoint), this test's own."""
    return shutil.copytree(trained, tmp_path / "run")


@pytest.fixture
def notes(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text(NOTES)
    return f


@contextlib.contextmanager
def within(seconds: int):
    """Fail instead of hanging (opening a FIFO waits for its other end)."""

    def alarm(signum, frame):
        raise TimeoutError(f"still waiting after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def one_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganfit: error: "), err
    assert all(w in err for w in words), err
    return err


def fifo(path):
    os.mkfifo(path)
    return path


def full_device(path):
    """A character device like /dev/full (writes fail with ENOSPC), made here so that no real one is at risk."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    return path


# ---- 1. the run's own files: .lock and metrics.jsonl


def test_a_lock_that_is_a_symlink_is_refused_and_its_target_untouched(run, notes, capsys):
    (run / ".lock").unlink()
    (run / ".lock").symlink_to(notes)
    assert cli.main(["train", "--resume", str(run), "--epochs", "80"]) == 2
    one_line(capsys, ".lock", "symbolic link")
    assert notes.read_text() == NOTES and (run / ".lock").is_symlink()


def test_a_lock_that_is_a_fifo_is_refused(run, capsys):
    (run / ".lock").unlink()
    fifo(run / ".lock")
    with within(20):
        assert cli.main(["train", "--resume", str(run), "--epochs", "80"]) == 2
    one_line(capsys, ".lock", "FIFO")


def test_metric_log_opens_no_symlink_nor_fifo(tmp_path, notes):
    game = Game.build(Config(epochs=10))
    (tmp_path / "metrics.jsonl").symlink_to(notes)
    with pytest.raises(GanfitError, match="metrics.jsonl: it is a symbolic link"):
        MetricLog(Loop(game, None, None, tmp_path))
    assert notes.read_text() == NOTES
    (tmp_path / "metrics.jsonl").unlink()
    fifo(tmp_path / "metrics.jsonl")
    with within(20), pytest.raises(GanfitError, match="metrics.jsonl: it is a FIFO"):
        MetricLog(Loop(game, None, None, tmp_path))


def test_a_resume_leaves_a_metrics_symlinks_target_untouched(run, notes, capsys):
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").symlink_to(notes)
    assert cli.main(["train", "--resume", str(run), "--epochs", "80"]) == 2
    one_line(capsys, "metrics.jsonl", "symbolic link")
    assert notes.read_text() == NOTES


# ---- 2. where ganfit sample and ganfit report write


def test_atomic_write_refuses_a_symlink_fifo_or_directory_before_writing(tmp_path, notes):
    written = []
    for path in (tmp_path / "link", fifo(tmp_path / "fifo"), tmp_path / "dir"):
        if path.name == "link":
            path.symlink_to(notes)
        elif path.name == "dir":
            path.mkdir()
        with pytest.raises(GanfitError, match=f"cannot write {path}: it is a"):
            files.write_text(path, "new")
        written += list(tmp_path.glob(".*.tmp"))
    assert not written and notes.read_text() == NOTES
    assert (tmp_path / "link").is_symlink() and stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


@pytest.mark.parametrize("command", ["sample", "report"])
def test_out_that_is_a_symlink_or_fifo_is_refused(command, run, tmp_path, notes, capsys):
    link = tmp_path / "out.csv"
    link.symlink_to(notes)
    assert cli.main([command, str(run), "--out", str(link)]) == 2
    one_line(capsys, str(link), "symbolic link")
    assert link.is_symlink() and notes.read_text() == NOTES
    pipe = fifo(tmp_path / "pipe.npy")
    assert cli.main([command, str(run), "--out", str(pipe)]) == 2
    one_line(capsys, str(pipe), "FIFO")
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
@pytest.mark.parametrize("command", ["sample", "report"])
def test_out_that_is_a_device_stays_a_device(command, run, tmp_path, capsys):
    dev = full_device(tmp_path / "full.csv")
    assert cli.main([command, str(run), "--out", str(dev)]) == 2
    one_line(capsys, str(dev), "device")
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and not list(tmp_path.glob(".*.tmp"))


def test_sample_writes_only_csv_or_npy(run, tmp_path, capsys):
    assert cli.main(["sample", str(run), "-n", "3", "--out", str(tmp_path / "x.txt")]) == 2
    one_line(capsys, "x.txt", ".csv", ".npy")
    assert not (tmp_path / "x.txt").exists()


# ---- 3. ganfit sample's own input


def test_sample_refuses_a_diverged_member(run, capsys):
    path = run / "weights.safetensors"
    with safe_open(path, "pt") as fh:
        meta = fh.metadata()
    tensors = load_file(path)
    save_file({k: t.fill_(float("nan")) if k.startswith("G.") else t for k, t in tensors.items()}, path, meta)
    assert cli.main(["sample", str(run), "-n", "3"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "member 0" in err and "non-finite" in err and "diverged" in err, err


def test_sample_refuses_a_negative_seed_and_too_many_samples(run, capsys):
    assert cli.main(["sample", str(run), "--seed", "-1"]) == 2
    one_line(capsys, "--seed", ">= 0", "-1")
    assert cli.main(["sample", str(run), "-n", "1000000000000"]) == 2
    one_line(capsys, "1,000,000,000,000", "at most 10,000,000")


# ---- 4. data and config read only from regular files, with a size cap


def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path):
    f = tmp_path / "a.toml"
    f.write_bytes(b"epochs = 5\n")
    assert files.read_regular(f, 100, "config file a.toml") == b"epochs = 5\n"
    (tmp_path / "link").symlink_to(f)  # reading through a symlink is fine: only writes never follow one
    assert files.read_regular(tmp_path / "link", 100, "config file link") == b"epochs = 5\n"
    cases = {
        tmp_path / "nope": "no such file",
        tmp_path: "is a directory",
        fifo(tmp_path / "fifo"): "is a FIFO",
        "/dev/zero": "is a device",
    }
    for path, message in cases.items():
        with within(20), pytest.raises(GanfitError, match=f"^config file: {message}"):
            files.read_regular(path, 100, "config file")
    with pytest.raises(GanfitError, match="11 bytes, over the limit of 10 bytes"):
        files.read_regular(f, 10, "config file")


@pytest.mark.parametrize("kind", ["csv", "npy"])
def test_data_from_a_device_fifo_or_huge_file_is_refused_without_reading(kind, tmp_path):
    with pytest.raises(GanfitError, match=f"{kind} file /dev/zero: is a device, not a regular file"):
        make_target(f"{kind}:path=/dev/zero")
    with pytest.raises(GanfitError, match=f"{kind} file /dev/urandom: is a device"):
        make_target(f"{kind}:path=/dev/urandom")
    pipe = fifo(tmp_path / f"pipe.{kind}")
    with within(20), pytest.raises(GanfitError, match="is a FIFO"):
        make_target(f"{kind}:path={pipe}")
    huge = tmp_path / f"huge.{kind}"
    with open(huge, "wb") as fh:
        fh.truncate(files.DATA_LIMIT + 1)  # sparse: no disk used
    with pytest.raises(GanfitError, match="268,435,457 bytes, over the limit of 268,435,456 bytes \\(256 MiB\\)"):
        make_target(f"{kind}:path={huge}")


def test_small_npy_still_reads(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(10.0))
    assert make_target(f"npy:path={tmp_path / 'x.npy'}").data.shape == (10, 1)


# ---- 5. CSV oddities


def csv_file(tmp_path, text: str) -> str:
    f = tmp_path / "data.csv"
    f.write_text(text)
    return f"csv:path={f}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("x\n" + "1" * 140_000 + "\n2\n", "line 2: field larger than field limit"),
        ("x\n10,377\n11\n12\n", "line 2: 2 fields, but the header has 1"),
        ("1\n3,4\n5\n", "line 2: 2 fields, but the first line has 1"),
        ("x,x\n1,100\n2,200\n", "column 'x' appears 2 times in the header"),
        ("x\n1e-300\n2e-300\n3e-300\n", "too narrow a range to standardise"),
    ],
)
def test_csv_oddities_are_one_line(tmp_path, text, message):
    spec = csv_file(tmp_path, text) + (",column=x" if text.startswith("x,x") else "")
    with pytest.raises(GanfitError, match=message):
        make_target(spec)


def test_csv_trailing_empty_fields_and_a_wider_file_by_index_still_read(tmp_path):
    assert make_target(csv_file(tmp_path, "x\n1,\n2,\n")).data.ravel().tolist() == [1, 2]
    assert make_target(csv_file(tmp_path, "x,x\n1,5\n2,6\n") + ",column=1").data.ravel().tolist() == [5, 6]


def test_lock_opened_for_a_run_is_a_regular_file(tmp_path):
    with checkpoint.RunLock(tmp_path):
        assert stat.S_ISREG(os.lstat(tmp_path / ".lock").st_mode)
    assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
