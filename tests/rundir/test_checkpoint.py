import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors import safe_open

from ganfit import GanfitError
from ganfit.rundir import checkpoint

# Small but real: 2 members, a checkpoint every 100 epochs, metrics every 250; long enough (~2 s) that a
# signal sent after the fifth checkpoint lands mid-run (700 epochs take 0.05 s on the compiled step).
ARGS = ["--epochs", "5000", "--seeds", "2", "--log-every", "250", "--eval-samples", "400", "--checkpoint-every", "100"]


def ganfit(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganfit", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw
    )


def checkpoint_epoch(run_dir: Path) -> int:
    try:
        with safe_open(run_dir / checkpoint.CHECKPOINT, "pt") as fh:
            return int(fh.metadata()["epoch"])
    except Exception:  # not there yet, or being renamed into place
        return -1


def kill_after(run_dir: Path, epoch: int, proc: subprocess.Popen, sig=signal.SIGKILL, jitter: float = 0.0):
    deadline = time.time() + 240
    while checkpoint_epoch(run_dir) < epoch:
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "training made no progress"
        time.sleep(0.02)
    time.sleep(jitter)
    proc.send_signal(sig)
    return proc.wait(timeout=120)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    p = ganfit("train", *ARGS, "--out", str(out))
    assert p.wait(timeout=600) == 0, p.stderr.read()
    return out


def assert_identical(a: Path, b: Path):
    assert (a / "metrics.jsonl").read_bytes() == (b / "metrics.jsonl").read_bytes()
    assert (a / "weights.safetensors").read_bytes() == (b / "weights.safetensors").read_bytes()


@pytest.mark.parametrize("kill_at, jitter", [(100, 0.0), (300, 0.05), (500, 0.02)])
def test_sigkill_then_resume_is_bit_exact(reference, tmp_path, kill_at, jitter):
    out = tmp_path / "run"
    kill_after(out, kill_at, ganfit("train", *ARGS, "--out", str(out)), jitter=jitter)
    assert not (out / "summary.json").exists()  # it really died mid-run
    r = ganfit("train", "--resume", str(out))
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert_identical(reference, out)
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"


def test_sigkill_during_a_checkpoint_write_keeps_the_previous_one(reference, tmp_path):
    out = tmp_path / "run"
    # Fault injection at the one boundary a test cannot reach otherwise: die half-way through the
    # third checkpoint's write, after its temporary file has received some bytes.
    script = f"""
import os, signal, sys
import ganfit.rundir.checkpoint as c
real, calls = c.save_file, [0]
def dying(tensors, path, metadata):
    calls[0] += 1
    if calls[0] == 3:
        open(path, "wb").write(b"partial")
        os.kill(os.getpid(), signal.SIGKILL)
    real(tensors, path, metadata=metadata)
c.save_file = dying
from ganfit.cli import main
sys.exit(main({["train", *ARGS, "--out", str(out)]!r}))
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert p.returncode == -signal.SIGKILL
    assert checkpoint_epoch(out) == 200 and list(out.glob(".checkpoint.safetensors.*.tmp"))
    r = ganfit("train", "--resume", str(out))
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert not list(out.glob(".*.tmp"))
    assert_identical(reference, out)


def test_sigterm_writes_a_checkpoint_and_says_how_to_resume(reference, tmp_path):
    out = tmp_path / "run"
    p = ganfit("train", *ARGS, "--out", str(out))
    assert kill_after(out, 200, p, signal.SIGTERM, jitter=random.Random(0).uniform(0, 0.1)) == 130
    assert f"ganfit train --resume {out}" in p.stderr.read()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and checkpoint_epoch(out) == summary["epochs"]
    r = ganfit("train", "--resume", str(out))
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert_identical(reference, out)


def test_second_writer_is_refused_and_a_dead_ones_lock_taken_over(tmp_path):
    out = tmp_path / "run"
    first = ganfit("train", "--epochs", "1000000", "--checkpoint-every", "50", "--out", str(out))
    while checkpoint_epoch(out) < 50:
        assert first.poll() is None, first.stderr.read()
        time.sleep(0.02)
    second = ganfit("train", "--resume", str(out))
    assert second.wait(timeout=120) == 2
    assert f"is in use by process {first.pid}" in second.stderr.read()
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert (out / ".lock").exists()  # left behind by the killed process
    done = checkpoint_epoch(out)
    third = ganfit("train", "--resume", str(out), "--epochs", str(done + 20))
    assert third.wait(timeout=300) == 0, third.stderr.read()
    assert json.loads((out / "summary.json").read_text())["epochs"] == done + 20
    again = ganfit("train", "--resume", str(out))
    assert again.wait(timeout=120) == 2
    assert f"has trained {done + 20} epochs: give it more, e.g. ganfit train --resume" in again.stderr.read()


def test_resume_refuses_config_changes_and_damaged_checkpoints(tmp_path, capsys):
    from ganfit import cli

    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "30", "--log-every", "10", "--eval-samples", "200", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(out), "--lr-g", "0.1"]) == 2
    assert "--lr-g cannot change it" in capsys.readouterr().err
    ckpt = out / checkpoint.CHECKPOINT
    good = ckpt.read_bytes()
    for damaged, message in [
        (good[: len(good) // 2], "unreadable or damaged checkpoint"),
        (b"\x80\x04\x95" + b"pickle payload" * 10, "unreadable or damaged checkpoint"),
    ]:
        ckpt.write_bytes(damaged)
        assert cli.main(["train", "--resume", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    ckpt.write_bytes(good)
    (out / "config.toml").write_text((out / "config.toml").read_text().replace("d_hidden = 50", "d_hidden = 40"))
    assert cli.main(["train", "--resume", str(out)]) == 2
    assert "config.toml needs" in capsys.readouterr().err


def test_checkpoint_load_checks_names_and_shapes(tmp_path):
    import torch

    checkpoint.save(tmp_path, {"a": torch.zeros(3)}, epoch=5, metrics_bytes=0)
    tensors, epoch, _ = checkpoint.load(tmp_path, {"a": torch.zeros(3)})
    assert epoch == 5 and torch.equal(tensors["a"], torch.zeros(3))
    with pytest.raises(GanfitError, match="b is missing"):
        checkpoint.load(tmp_path, {"a": torch.zeros(3), "b": torch.zeros(1)})
    with pytest.raises(GanfitError, match=r"a is torch.float32 \(3,\), config.toml needs torch.float32 \(4,\)"):
        checkpoint.load(tmp_path, {"a": torch.zeros(4)})


def _mount(*args: str) -> bool:
    return os.geteuid() == 0 and subprocess.run(["mount", *args], capture_output=True).returncode == 0


def test_read_only_and_full_disks_fail_clearly_and_keep_the_last_checkpoint(tmp_path):
    import torch

    ro = tmp_path / "ro"
    ro.mkdir()
    checkpoint.save(ro, {"a": torch.ones(2)}, epoch=1, metrics_bytes=0)
    if not (_mount("--bind", str(ro), str(ro)) and _mount("-o", "remount,ro,bind", str(ro))):
        pytest.skip("needs root and mount to make a read-only directory")
    try:
        with pytest.raises(GanfitError, match="Read-only file system; the previous one is intact"):
            checkpoint.save(ro, {"a": torch.zeros(2)}, epoch=2, metrics_bytes=0)
        assert checkpoint.load(ro, {"a": torch.zeros(2)})[1] == 1
    finally:
        subprocess.run(["umount", str(ro)])
    full = tmp_path / "full"
    full.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)):
        pytest.skip("needs root and mount for a small tmpfs")
    try:
        checkpoint.save(full, {"a": torch.ones(2)}, epoch=1, metrics_bytes=0)
        with pytest.raises(GanfitError, match="No space left on device; the previous one is intact"):
            checkpoint.save(full, {"a": torch.zeros(100_000)}, epoch=2, metrics_bytes=0)
        assert checkpoint.load(full, {"a": torch.zeros(2)})[1] == 1
        assert [p.name for p in full.iterdir()] == [checkpoint.CHECKPOINT]
    finally:
        subprocess.run(["umount", str(full)])


def test_sigkill_after_the_last_checkpoint_but_before_the_results_then_resume(reference, tmp_path):
    out = tmp_path / "run"
    script = f"""
import os, signal, sys
from ganfit.run import Run
Run.write_results = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
from ganfit.cli import main
sys.exit(main({["train", *ARGS, "--out", str(out)]!r}))
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert p.returncode == -signal.SIGKILL and checkpoint_epoch(out) == 5000
    assert not (out / "summary.json").exists() and not (out / "weights.safetensors").exists()
    r = ganfit("train", "--resume", str(out))
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert_identical(reference, out)
    ref, got = (json.loads((d / "summary.json").read_text()) for d in (reference, out))
    assert got["members"] == ref["members"] and got["learned"] == ref["learned"]
