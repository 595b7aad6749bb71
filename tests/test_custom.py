"""A researcher's own parts from Python: losses, a regulariser on D, G and D networks, callbacks; custom
code never comes in through a config file."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganfit
from ganfit import GanfitError, provenance, recipes, rundir
from ganfit.game import Game, losses, native, rng
from ganfit.game.models import MLP
from ganfit.sweep import load_sweep, run_sweep

TINY = dict(epochs=60, log_every=20, eval_samples=500, threads=1)
ROBUST = recipes.load("robust1d").replace(**TINY)


def relativistic_average(real, fake):
    r, f = real - fake.mean(1, keepdim=True), fake - real.mean(1, keepdim=True)
    return (
        F.softplus(-r).mean((1, 2)),
        F.softplus(f).mean((1, 2)),
        F.softplus(-f).mean((1, 2)) + F.softplus(r).mean((1, 2)),
    )


class SmallG(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, z):
        return self.net(z)


def test_a_custom_loss_trains_is_recorded_and_a_config_file_naming_it_is_refused(tmp_path):
    run = ganfit.train(ROBUST.replace(loss=relativistic_average, seeds=2), tmp_path / "r")
    assert run.config.loss == "custom:relativistic_average" and run.summary["status"] == "finished"
    text = (tmp_path / "r" / "config.toml").read_text()
    assert text.startswith(
        "# ganfit run configuration with custom code from Python (loss = custom:relativistic_average)"
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganfit",
            "train",
            "--config",
            str(tmp_path / "r" / "config.toml"),
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "custom code given in Python, which a config file cannot bring" in r.stderr and not (tmp_path / "x").exists()


def test_a_custom_loss_that_returns_the_wrong_shape_is_one_clear_line():
    with pytest.raises(GanfitError, match=r"must return \(d_on_real, d_on_fake, g\), each of shape \[2\]"):
        ganfit.train(ROBUST.replace(loss=lambda r, f: (r.mean(), f.mean()), seeds=2))


def test_a_custom_regulariser_is_added_to_ds_loss_as_r1_is():
    def my_r1(D, view, real, fake):
        return losses.r1(D, view, real, 1.0)

    ours = ganfit.train(ROBUST.replace(r1=0.0, d_penalty=my_r1, seeds=2))
    theirs = ganfit.train(ROBUST.replace(r1=1.0, seeds=2, gradients="autograd"))  # a d_penalty runs there
    for a, b in zip(ours.G.parameters(), theirs.G.parameters()):
        assert torch.equal(a, b)
    unregularised = ganfit.train(ROBUST.replace(r1=0.0, seeds=2))
    assert not torch.equal(next(ours.G.parameters()), next(unregularised.G.parameters()))


def _epochs(game: Game, epochs: int, perturb=None):
    keys = rng.member_keys(game.config.member_seeds(), "train")
    drawn = game.draw(keys, 0, epochs)
    if perturb:
        perturb(game)
    for t in range(epochs):
        game.step(*drawn.at(t))
    return [p.detach().clone() for p in game.G.parameters()]


@pytest.mark.bits
def test_a_module_per_member_is_stacked_keeping_seeds_and_member_independence():
    config = ROBUST.replace(g_model=SmallG(), seeds=3, seed=10)
    ensemble = _epochs(Game.build(config), 12)
    alone = _epochs(Game.build(config.replace(seeds=1, seed=11)), 12)
    for a, b in zip(ensemble, alone):  # member 1 of seeds 10..12 is the run with seed 11
        # to rounding: torch's batched products of 3 members and of 1 may sum in other orders (they do on
        # AVX2); a member's bits do not depend on its neighbours' values (the bump below)
        torch.testing.assert_close(a[1], b[0], rtol=1e-5, atol=1e-6)

    def bump(game):
        with torch.no_grad():
            next(game.G.parameters())[2].add_(0.5)

    bumped = _epochs(Game.build(config), 12, bump)
    for a, b in zip(ensemble, bumped):
        assert torch.equal(a[:2], b[:2]) and not torch.equal(a[2], b[2])
    saved_rng = torch.get_rng_state()
    Game.build(config)
    assert torch.equal(torch.get_rng_state(), saved_rng)  # the caller's global generator is untouched


def test_a_model_factory_and_the_generator_module_of_a_custom_g(tmp_path):
    def tanh_d(n_in, n_out, seeds, device):
        return MLP([n_in, 24, n_out], ["tanh"], seeds, "init_d", device)

    run = ganfit.train(ROBUST.replace(g_model=SmallG(), d_model=tanh_d, seeds=2), tmp_path / "r")
    assert run.config.d_model.startswith("custom:") and run.config.d_model.endswith("tanh_d")
    x = run.sample(400, member=1)
    with torch.no_grad():
        assert torch.equal(torch.as_tensor(x), run.generator(1)(run.noise(400, member=1)))
    with pytest.raises(GanfitError, match="expected \\[2, rows, 1\\]"):
        ganfit.train(ROBUST.replace(g_model=nn.Linear(1, 3), seeds=2))


def test_a_callback_sees_every_row_and_can_stop_the_run(tmp_path):
    rows = []

    def watch(row):
        rows.append((row.epoch, row.samples.shape, sorted(row.metrics)))
        return row.epoch >= 40

    run = ganfit.train(ganfit.Config(**{**TINY, "epochs": 400}), tmp_path / "r", callbacks=[watch])
    assert run.summary["status"] == "stopped by a callback" and run.summary["epochs"] < 400
    assert rows[0][0] == 0 and rows[0][1] == (1, 500, 1) and "ks" in rows[0][2] and "g_loss" in rows[0][2]
    assert [e for e, _, _ in rows][:3] == [0, 20, 40]
    resumed = ganfit.train(rundir.reopen(tmp_path / "r"), tmp_path / "r", resume=True)
    assert resumed.summary["status"] == "finished" and resumed.summary["epochs"] == 400


def test_pictures_without_a_run_directory_warn_and_save_writes_one_later(tmp_path):
    with pytest.warns(UserWarning, match="give out=DIR"):
        run = ganfit.train(ganfit.Config(pictures=True, target=[1.0, 2.0, 2.5, 3.0, 7.0], **TINY))
    assert run.dir is None and "ganfit run" in run._repr_html_() and len(repr(run)) < 200
    out = run.save(tmp_path / "saved")
    names = {p.name for p in out.iterdir()}
    assert {"config.toml", "metrics.jsonl", "summary.json", "weights.safetensors", "target.npy", "moments.png"} <= names
    back = ganfit.load(out)
    assert (back.sample(50) == run.sample(50)).all() and back.summary["members"] == run.summary["members"]
    assert run.report().name == "report.html"


def test_provenance_is_recorded_and_a_resume_on_another_torch_says_so(tmp_path):
    run = ganfit.train(ganfit.Config(**TINY, checkpoint_every=20), tmp_path / "r")
    info = provenance.read(tmp_path / "r" / "config.toml")
    assert info["torch"] == torch.__version__ and info["command"] == "python API"
    assert run.summary["provenance"]["python"] == sys.version.split()[0]
    assert ganfit.Config.from_toml(tmp_path / "r" / "config.toml") == run.config  # the table is not config
    path = tmp_path / "r" / "config.toml"
    path.write_text(path.read_text().replace(f'torch = "{info["torch"]}"', 'torch = "1.0.0"'))
    r = subprocess.run(
        [sys.executable, "-m", "ganfit", "train", "--resume", str(tmp_path / "r"), "--epochs", "80"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "ganfit: note: this run was made with torch 1.0.0" in r.stderr
    assert 'torch = "1.0.0"' in path.read_text()  # the record of how the run was first made is kept


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sweep_over_a_custom_loss_from_python(tmp_path, workers):
    path = tmp_path / "s.toml"
    path.write_text("seeds = 2\n[base]\nepochs = 40\nlog_every = 20\neval_samples = 300\n[axes]\nlr_d = [1e-4, 1e-3]\n")
    overrides = {"loss": relativistic_average, "d_view": "sample", "gradients": "autograd"}
    results = run_sweep(load_sweep(path, overrides), tmp_path / "out", workers=workers, stream=open("/dev/null", "w"))
    assert [(r["status"], r["error"]) for r in results.point_rows()] == [("finished", "")] * 2
    assert Path(tmp_path / "out" / "points").is_dir()


def test_a_replay_on_another_cpu_or_kernel_says_so_in_one_line(tmp_path):
    ganfit.train(ganfit.Config(**TINY), tmp_path / "r")
    info = provenance.read(tmp_path / "r" / "config.toml")
    assert info["cpu"] == native.cpu_isa() and info["kernel"] == (native.variant() or "none")
    assert provenance.difference(info, native.platform_info()) is None
    other = info | {"cpu": "aarch64/SVE256"}
    assert "cpu aarch64/SVE256 (now" in provenance.difference(other, native.platform_info())
    assert info["vendor"] == native.cpu_vendor()  # the same instruction set of another maker rounds otherwise
    assert "vendor OtherMaker (now" in provenance.difference(info | {"vendor": "OtherMaker"}, native.platform_info())
    assert provenance.difference({k: v for k, v in info.items() if k != "vendor"}, native.platform_info()) is None
    if info["kernel"] in ("avx512", "avx2"):  # the two variants give the same bits: no difference
        twin = {"avx512": "avx2", "avx2": "avx512"}[info["kernel"]]
        assert provenance.difference(info | {"kernel": twin}, native.platform_info()) is None
        assert "kernel generic" in provenance.difference(info | {"kernel": "generic"}, native.platform_info())
    path = tmp_path / "r" / "config.toml"
    path.write_text(path.read_text().replace(f'cpu = "{info["cpu"]}"', 'cpu = "aarch64/SVE256"'))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganfit",
            "train",
            "--config",
            str(path),
            "--epochs",
            "20",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    notes = [ln for ln in r.stderr.splitlines() if "note:" in ln]
    assert r.returncode == 0 and len(notes) == 1 and "cpu aarch64/SVE256" in notes[0], r.stderr
