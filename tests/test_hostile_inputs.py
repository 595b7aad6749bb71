"""Hostile inputs, third pass, the rest: what a notebook hands the library (tensors that need grad, numpy
integers, bad seeds, dates, data on one line), memory given back, a non-UTF-8 locale, commands to paste,
a resume on another engine, a stale report, negative MMD estimates and TorchScript. Each gets one
GanfitError line (the CLI: one line and exit 2) or a correct result."""

import datetime
import gc
import json
import os
import re
import shlex
import subprocess
import sys
import types
import weakref

import numpy as np
import pandas as pd
import pytest
import torch

import ganfit
from ganfit import Config, GanfitError, arrays, cli
from ganfit.game import compiled
from ganfit.game.models import ACTIVATIONS, Layer
from ganfit.measure import metrics as M
from ganfit.pictures import report

QUICK = ["--epochs", "40", "--log-every", "20", "--eval-samples", "300", "--checkpoint-every", "20"]
SMALL = dict(epochs=40, log_every=20, eval_samples=300)
GANFIT = shlex.quote(sys.executable) + " -m ganfit"


def one_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganfit: error: "), err
    assert all(w in err for w in words), err
    return err


@pytest.fixture(scope="module")
def run():
    return ganfit.train(Config(**SMALL), progress=None)


# ---- memory: data given in memory live as long as what names them


def _held_refs():
    return [weakref.ref(d.x) for d in list(arrays._HELD.values())]


@pytest.mark.parametrize("how", ["train", "fit"])
def test_data_given_in_memory_are_released_with_the_run(how):
    gc.collect()
    before = set(arrays._HELD.keys())
    x = np.random.default_rng(0).normal(3, 1, 200_000 if how == "train" else 400)
    if how == "train":
        held = ganfit.train(Config(target=x, epochs=20, log_every=10, eval_samples=200), progress=None)
    else:
        held = ganfit.fit(x, epochs=20, log_every=10, eval_samples=200, seeds=1, progress=None)
    new = set(arrays._HELD.keys()) - before
    refs = [weakref.ref(arrays._HELD[k].x) for k in new]
    assert refs and all(r() is not None for r in refs)
    assert held.sample(5).shape == (5, 1)  # the run still has them while it lives
    del held
    gc.collect()
    assert all(r() is None for r in refs) and not (new & set(arrays._HELD.keys()))


def test_a_config_keeps_its_data_and_its_copies_share_them():
    c = Config(target=np.arange(100.0))
    d = c.replace(epochs=5)
    del c
    gc.collect()
    assert ganfit.make_target(d.target).data.shape == (100, 1)
    spec = d.target
    del d
    gc.collect()
    with pytest.raises(GanfitError, match="released with the last config"):
        ganfit.make_target(spec)


# ---- library inputs: one GanfitError line, or the right result


def test_run_sample_is_capped_as_the_clis(run):
    with pytest.raises(GanfitError, match="at most 10,000,000 at once"):
        run.sample(10**12)  # refused before anything allocates (4 TB of noise)


@pytest.mark.parametrize("seed", [-1, 2**70, 1.5, "a", None, True])
def test_bad_sample_seeds_are_one_line(run, seed):
    with pytest.raises(GanfitError, match="seed must be a whole number"):
        run.sample(5, seed=seed)


def test_numpy_integers_are_whole_numbers(run):
    x = run.sample(np.int64(5), member=np.int32(0), seed=np.uint8(3))
    assert np.array_equal(x, run.sample(5, member=0, seed=3))
    c = Config(seeds=np.int64(2), lr_d=np.float32(1e-3), beta1=np.int64(0), normalize=np.bool_(True)).validate()
    assert (type(c.seeds), type(c.lr_d), type(c.beta1), type(c.normalize)) == (int, float, float, bool)
    assert c.seeds == 2 and c.lr_d == float(np.float32(1e-3))
    with pytest.raises(GanfitError, match="expected int"):
        Config(seeds=np.float64(2.5)).validate()


@pytest.mark.parametrize("seed", ["x", -2, 1.5])
def test_bad_fit_seeds_are_one_line(seed):
    with pytest.raises(GanfitError, match="seed"):
        ganfit.fit(np.random.default_rng(0).normal(size=50), seed=seed, epochs=10, progress=None)


def test_a_tensor_that_requires_grad_is_its_values():
    t = torch.randn(50, requires_grad=True)
    assert np.array_equal(arrays.as_array(t)[0][:, 0], t.detach().double().numpy())


@pytest.mark.parametrize(
    "data",
    [
        pd.Series(pd.date_range("2024-01-01", periods=20, freq="h")),
        pd.Series(pd.to_timedelta(np.arange(20), unit="s")),
        [datetime.datetime(2024, 1, d) for d in range(1, 21)],
        np.arange(20).astype("datetime64[us]"),
        pd.DataFrame({"t": pd.date_range("2024-01-01", periods=20), "v": np.arange(20.0)}),
    ],
    ids=["datetime series", "timedelta series", "datetimes", "datetime64", "frame with dates"],
)
def test_dates_and_times_are_refused_not_fitted_as_microseconds(data):
    with pytest.raises(GanfitError, match="dates or times"):
        Config(target=data)


# ---- degenerate 2-D data: refused where they are read, before anything trains


X = np.random.default_rng(0).normal(size=100)


@pytest.mark.parametrize("data", [np.c_[X, X], np.c_[X, 3 * X - 2], np.c_[X, -X]], ids=["twice", "affine", "mirror"])
def test_two_columns_on_one_line_are_refused(data):
    with pytest.raises(GanfitError, match="lie on one straight line"):
        Config(target=data)


def test_a_csv_fit_of_a_column_twice_is_one_line_before_training(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("a,b\n" + "\n".join(f"{v},{2 * v + 1}" for v in X) + "\n")
    for cols in ("a,a", "a,b"):
        assert cli.main(["fit", str(f), "--columns", cols, "--out", str(tmp_path / "r")]) == 2
        one_line(capsys, "lie on one straight line")
    assert not (tmp_path / "r").exists()
    near = np.c_[X, X + 1e-3 * np.random.default_rng(1).normal(size=100)]  # close, not on the line: trains
    assert arrays.as_array(near)[0].shape == (100, 2)


# ---- a locale that is not UTF-8


def test_unicode_paths_and_columns_work_in_a_c_locale(tmp_path):
    env = os.environ | {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    rows = np.random.default_rng(0).normal(size=(60, 2))
    (tmp_path / "dätä.csv").write_text("höhe,δ\n" + "\n".join(f"{a},{b}" for a, b in rows) + "\n", encoding="utf-8")

    def run_cli(*args):
        r = subprocess.run([sys.executable, "-m", "ganfit", *args], capture_output=True, cwd=tmp_path, env=env)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode(errors="replace")
        return r.stdout.decode("utf-8")

    run_cli("train", "--target", "csv:path=dätä.csv,column=höhe", *QUICK, "--out", "rüns/ünï δ")
    assert run_cli("sample", "rüns/ünï δ", "-n", "3").splitlines()[0] == "höhe"
    run_cli("report", "rüns/ünï δ")
    assert (tmp_path / "rüns" / "ünï δ" / "report.html").is_file()
    run_cli("fit", "dätä.csv", "--columns", "höhe,δ", "--epochs", "40", "--seeds", "2", "--out", "fït")
    assert run_cli("sample", "fït", "-n", "2").splitlines()[0] == "höhe,δ"


# ---- every command a message suggests can be pasted, and works


ODD = "my run's $HOME (1) `x`"


def suggested(text: str, prefix: str) -> str:
    """The command after `prefix` in a message, as a shell would run it (up to two spaces or the end)."""
    found = re.search(re.escape(prefix) + r"(.*?)(?:  |\)$|$)", text, re.M)
    assert found, text
    return GANFIT + " " + prefix.split(" ", 1)[1] + found.group(1)


def shell(command: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_suggested_commands_are_quoted_and_work(tmp_path):
    out = tmp_path / ODD
    p = subprocess.Popen(
        [sys.executable, "-m", "ganfit", "train", "--epochs", "20000", "--log-every", "200", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout.readline().startswith("0: D: ")
    p.send_signal(2)  # Ctrl-C: "continue with: ganfit train --resume ..."
    err = p.communicate(timeout=300)[1]
    assert p.returncode == 130, err
    r = shell(suggested(err, "ganfit train --resume "), tmp_path)
    assert r.returncode == 0, r.stderr
    r2 = shell(suggested(r.stdout, "ganfit report "), tmp_path)  # "all in one page: ganfit report ..."
    assert r2.returncode == 0 and (out / "report.html").is_file(), r2.stderr
    r3 = shell(f"{GANFIT} train --resume {shlex.quote(str(out))}", tmp_path)  # finished: "give it more, e.g. ..."
    assert r3.returncode == 2
    r4 = shell(suggested(r3.stderr, "ganfit train --resume "), tmp_path)
    assert r4.returncode == 0 and json.loads((out / "summary.json").read_text())["epochs"] == 40000, r4.stderr


def test_fits_suggested_sample_command_works(tmp_path):
    np.save(tmp_path / "d.npy", np.random.default_rng(0).normal(size=60))
    r = shell(f"{GANFIT} fit d.npy --epochs 40 --seeds 2 --out {shlex.quote(ODD)}", tmp_path)
    assert r.returncode == 0, r.stderr
    s = shell(suggested(r.stdout, "ganfit sample "), tmp_path)
    assert s.returncode == 0 and len(s.stdout.splitlines()) == 1001, s.stderr


# ---- a resume that changes engine says so


@pytest.mark.skipif(not compiled.covers(Config(), None), reason="needs the compiled step (a C compiler)")
def test_a_resume_on_another_engine_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    stop = ganfit.train(
        Config(epochs=400, log_every=100, checkpoint_every=100, eval_samples=300),
        out,
        progress=None,
        callbacks=[lambda row: row.epoch >= 100],
    )
    assert stop.summary["engine"] == "compiled" and stop.summary["status"] == "stopped by a callback"
    monkeypatch.setenv("GANFIT_COMPILED", "0")  # no compiler now
    assert cli.main(["train", "--resume", str(out)]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "engine" in ln]
    assert lines == [
        f"ganfit: warning: {out} trained on the compiled engine and goes on on the fast one: its weights will differ"
        " in rounding from an uninterrupted run's"
    ], err


# ---- a stale report, negative MMD estimates


def test_a_run_that_goes_on_drops_its_stale_report(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *QUICK, "--out", str(out)]) == 0
    assert cli.main(["report", str(out)]) == 0 and (out / "report.html").is_file()
    assert cli.main(["train", "--resume", str(out), "--epochs", "60"]) == 0
    assert not (out / "report.html").exists()


def test_a_negative_mmd_estimate_is_shown_as_zero(tmp_path, capsys):
    assert M.shown("mmd", -2e-4) == 0.0 and M.shown("val_mmd", -1e-5) == 0.0 and M.shown("ks", -1.0) == -1.0
    assert M.shown("mmd", 3e-3) == 3e-3
    members = [{"member": 0, "mmd": -2.5e-4, "sw": 0.01}]
    table = report.members_table(members)  # shown as 0; the sort key keeps the estimate
    assert ">0</td>" in table and ">-0.00025</td>" not in table and ">-2.5e-04</td>" not in table
    summary = {
        "learned": 1,
        "members_total": 1,
        "criterion": "c",
        "median": {"sw": 0.01, "mmd": -2.5e-4},
        "epochs": 10,
        "wall_seconds": 1.0,
        "diverged": 0,
        "status": "finished",
        "target_std": [1.0, 1.0],
    }
    tmp_path.joinpath("x.png").write_bytes(b"")
    assert cli._closing(types.SimpleNamespace(summary=summary), tmp_path) == 0
    out = capsys.readouterr().out
    assert "MMD² 0;" in out and "-0.00025" not in out


# ---- the exported generator in TorchScript


@pytest.mark.parametrize("target", ["default", "wide", "tanh"])
def test_the_exported_generator_compiles_with_torchscript(target):
    data = {"wide": 1e9 + np.random.default_rng(0).normal(size=300), "tanh": np.random.default_rng(0).normal(size=300)}
    extra = {"g_activations": "tanh,relu"} if target == "tanh" else {}
    c = Config(**SMALL, **extra) if target == "default" else Config(target=data[target], **SMALL, **extra)
    run = ganfit.train(c, progress=None)
    G, z = run.generator(), run.noise(50)
    scripted = torch.jit.script(G)
    assert torch.equal(scripted(z), G(z)) and np.array_equal(G(z).numpy(), run.sample(50))
    assert scripted(z).dtype == (torch.float64 if target == "wide" else torch.float32)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_each_activation_of_a_scripted_layer_is_the_ensembles(name):
    w, b, x = torch.randn(1, 3, 4), torch.randn(1, 1, 4), torch.randn(1, 5, 3)
    layer = torch.jit.script(Layer(w, b, name))
    assert torch.equal(layer(x), ACTIVATIONS[name](torch.baddbmm(b, x, w)))
