"""Hostile inputs, third pass: what a practitioner's data and a shell pipeline do to ganfit. Nothing
lost and nothing silently wrong: data far from zero keep their precision, a mask is honoured, a run
directory uses its own files wherever it is, a closed pipe leaves a resumable run, a refused command
removes nothing it did not make, and `report --out` overwrites only a report."""

import json
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

import ganfit
from ganfit import Config, GanfitError, arrays, cli
from ganfit.game import Game, rng
from ganfit.game.targets import make_target
from ganfit.rundir import layout

QUICK = ["--epochs", "40", "--log-every", "20", "--eval-samples", "300", "--checkpoint-every", "20"]
SMALL = dict(epochs=40, log_every=20, eval_samples=300, checkpoint_every=20)


def ganfit_cli(*args, cwd=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "ganfit", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300, **kw
    )


def one_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganfit: error: "), err
    assert all(w in err for w in words), err
    return err


# ---- 1. data far from zero: timestamps, say, 1e9 +- 1


OFFSET = 1e9 + np.random.default_rng(0).normal(0, 1, 2000)


def test_real_batches_of_data_far_from_zero_keep_their_spread_in_the_frame():
    game = Game.build(Config(target=OFFSET))
    keys = rng.member_keys([0], "train", torch.device("cpu"))
    real = game.draw(keys, 0, 4).real
    assert real.dtype == torch.float32 and 1.0 < real.std().item() < 1.5  # frame_std 1.25, not a quantised 0


def test_samples_of_data_far_from_zero_are_not_quantised(tmp_path):
    run = ganfit.train(Config(target=OFFSET, seeds=2, **SMALL), tmp_path / "run", progress=None)
    for r in (run, ganfit.load(tmp_path / "run")):
        x = r.sample(2000)
        assert x.dtype == np.float64 and len(np.unique(x)) > 1000  # float32 holds 1e9 in steps of 64
        assert abs(np.median(x) - 1e9) < 50
        assert r.generator()(r.noise(10)).dtype == torch.float64
    assert abs(run.summary["median"]["mean"] - 1e9) < 50 and run.summary["median"]["std"] > 0


def test_the_closing_line_prints_a_mean_far_from_zero_to_the_datas_precision(tmp_path, capsys):
    np.save(tmp_path / "t.npy", OFFSET)
    assert cli.main(["train", "--target", f"npy:path={tmp_path / 't.npy'}", *QUICK, "--out", str(tmp_path / "r")]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("median: mean "))
    assert "e+09" not in line and abs(float(line.split()[2].rstrip(",")) - 1e9) < 50, line


def test_data_near_zero_still_train_in_float32():
    run = ganfit.train(Config(target=np.random.default_rng(1).normal(5, 2, 500), **SMALL), progress=None)
    assert run.sample(10).dtype == np.float32


# ---- 2. masked arrays, complex numbers


def test_a_masked_arrays_masked_rows_are_dropped_and_said():
    x = np.ma.masked_equal(np.r_[np.random.default_rng(0).normal(0, 1, 50), [-999.0] * 5], -999.0)
    with pytest.warns(UserWarning, match="5 masked row"):
        c = Config(target=x)
    data = make_target(c.target).data
    assert len(data) == 50 and data.min() > -100
    xy = np.ma.masked_array(np.random.default_rng(1).normal(size=(6, 2)), mask=[[0, 0]] * 5 + [[0, 1]])
    with pytest.warns(UserWarning, match="1 masked row"):
        assert len(arrays.as_array(xy)[0]) == 5


@pytest.mark.parametrize(
    "data",
    [np.array([1 + 2j, 3, 4]), torch.tensor([1 + 1j, 2, 3]), [1, 2, 10**400]],
    ids=["complex", "complex tensor", "int past float64"],
)
def test_numbers_numpy_would_warp_are_one_line(data):
    with pytest.raises(GanfitError, match="complex numbers|too large for float64"):
        arrays.as_array(data)


# ---- 3. a run directory's data files, wherever it is


def test_a_moved_run_resumes_on_its_own_data(tmp_path):
    data = np.random.default_rng(2).normal(3, 1, 200)
    ganfit.train(Config(target=data, **SMALL), tmp_path / "a", progress=None)
    assert 'target = "npy:path=target.npy' in (tmp_path / "a" / "config.toml").read_text()
    shutil.move(tmp_path / "a", tmp_path / "moved")
    r = ganfit_cli("train", "--resume", tmp_path / "moved", "--epochs", 60)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "moved" / "summary.json").read_text())["epochs"] == 60
    assert 'target = "npy:path=target.npy' in (tmp_path / "moved" / "config.toml").read_text()


def test_a_copied_run_reads_its_own_copy(tmp_path):
    data = np.random.default_rng(3).normal(3, 1, 200)
    ganfit.train(Config(target=data, **SMALL), tmp_path / "a", progress=None)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    np.save(tmp_path / "a" / "target.npy", data[:100] + 50)  # the original's data change: the copy's do not
    assert make_target(Config.from_toml(tmp_path / "b" / "config.toml").target).data.shape == (200, 1)
    r = ganfit_cli("train", "--resume", tmp_path / "b", "--epochs", 60)
    assert r.returncode == 0, r.stderr
    r = ganfit_cli("train", "--resume", tmp_path / "a", "--epochs", 60)
    assert r.returncode == 2 and "target data changed" in r.stderr


def test_a_replay_from_elsewhere_uses_the_runs_data_or_refuses(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    (here / "data.csv").write_text("x\n" + "\n".join(str(v) for v in np.arange(50.0)) + "\n")
    (there / "data.csv").write_text("x\n" + "\n".join(str(v) for v in np.arange(50.0) * 7) + "\n")
    assert ganfit_cli("train", "--target", "csv:path=data.csv", *QUICK, "--out", "run", cwd=here).returncode == 0
    # from another directory that holds another data.csv: the run's data, never that one
    r = ganfit_cli("train", "--config", here / "run" / "config.toml", "--out", "again", cwd=there)
    assert r.returncode == 0, r.stderr
    assert (there / "again" / "data.json").read_text() == (here / "run" / "data.json").read_text()
    (here / "data.csv").write_text("x\n1\n2\n3\n")  # the data the run was made with are gone
    r = ganfit_cli("train", "--config", here / "run" / "config.toml", "--out", "third", cwd=there)
    assert r.returncode == 2 and "target data changed since the run began" in r.stderr, r.stderr
    assert not (there / "third").exists()
    r = ganfit_cli("report", here / "run", cwd=there)  # a report from elsewhere reads the run's own files
    assert r.returncode == 0, r.stderr


# ---- 4. a closed output pipe


def test_a_closed_pipe_ends_as_an_interrupted_resumable_run(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganfit", "train", "--epochs", "200000", "--log-every", "200", "--out", str(out)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("0: D: ")
    p.stdout.close()  # `| head -1`
    err = p.stderr.read()
    assert p.wait(timeout=300) != 0 and "Traceback" not in err, err
    assert f"ganfit train --resume {out}" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and (out / "checkpoint.safetensors").is_file()
    r = ganfit_cli("train", "--resume", out, "--epochs", summary["epochs"] + 200)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"


# ---- 5. two commands given the same --out


def test_a_refused_command_never_removes_the_run_another_is_training(tmp_path, monkeypatch):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ganfit", "train", "--epochs", "1000000", "--checkpoint-every", "1000000"]
    other = []
    name = "claim" if hasattr(layout, "claim") else "create"  # (create: before the fix, for the record)
    make = getattr(layout, name)

    def slow_make(*args):  # this process has looked at --out; the other one starts training there first
        other.append(subprocess.Popen([*cmd, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = time.time() + 120
        while not (out / "metrics.jsonl").exists() and time.time() < deadline:
            time.sleep(0.05)
        return make(*args)

    monkeypatch.setattr(layout, name, slow_make)
    try:
        with pytest.raises(GanfitError, match="already exists"):
            ganfit.train(Config(epochs=20, log_every=10), out, progress=None)
        assert (out / "config.toml").is_file() and (out / "metrics.jsonl").is_file()
    finally:
        for p in other:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=120)
    assert other[0].returncode == 130 and (out / "checkpoint.safetensors").is_file()


def _claim(out, seed, start, results):
    start.wait()
    try:
        results.append(layout.claim(out, Config(seed=seed))[0].seed)
    except GanfitError as e:
        results.append(str(e))


def test_of_two_threads_claiming_one_directory_one_wins_and_nothing_is_removed(tmp_path):
    for i in range(10):
        out, results, start = tmp_path / f"run{i}", [], threading.Barrier(2)
        threads = [threading.Thread(target=_claim, args=(out, s, start, results)) for s in (1, 2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        won = [r for r in results if isinstance(r, int)]
        assert len(won) == 1 and "already exists" in next(r for r in results if isinstance(r, str))
        assert Config.from_toml(out / "config.toml").seed == won[0]


def test_a_run_that_fails_in_a_directory_it_found_empty_leaves_the_directory(tmp_path):
    def broken(real, fake):
        raise GanfitError("my loss is broken")

    (tmp_path / "mine").mkdir()
    with pytest.raises(GanfitError, match="my loss is broken"):
        ganfit.train(Config(loss=broken, d_view="sample", epochs=50, log_every=10), tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and list((tmp_path / "mine").iterdir()) == []


# ---- 7. report --out


def test_report_out_writes_only_a_new_file_or_over_a_report(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", *QUICK, "--out", str(run)]) == 0
    (tmp_path / "notes.txt").write_text("mine\n")
    weights = (run / "weights.safetensors").read_bytes()
    capsys.readouterr()
    for victim in (run / "weights.safetensors", tmp_path / "notes.txt"):
        assert cli.main(["report", str(run), "--out", str(victim)]) == 2
        one_line(capsys, "is not a report ganfit wrote")
    assert (run / "weights.safetensors").read_bytes() == weights and (tmp_path / "notes.txt").read_text() == "mine\n"
    for _ in range(2):  # a new file, then the report it wrote
        assert cli.main(["report", str(run), "--out", str(tmp_path / "page.html")]) == 0
        assert cli.main(["report", str(run)]) == 0
    assert "<!DOCTYPE html>" in (tmp_path / "page.html").read_text()
