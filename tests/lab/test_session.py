"""The lab's session plays ganfit's own game: the same weights and metric rows as `train`, whatever the
chunks the page plays it in; settings changed mid-run are what the next epochs use; save-as-run writes a
run directory that `ganfit sample`, `report` and `train --resume` take."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganfit import Config
from ganfit.cli import main
from ganfit.errors import GanfitError
from ganfit.game import Game
from ganfit.lab.session import Session
from ganfit.training import train

GAMES = {
    "seed": Config(epochs=700, seeds=3, log_every=100, checkpoint_every=300),
    "ring": Config(
        target="ring",
        noise="normal:dim=2",
        d_view="sample",
        r1=0.1,
        g_ema=0.99,
        epochs=300,
        seeds=2,
        log_every=100,
        eval_samples=1000,
    ),
    "autograd": Config(epochs=120, seeds=2, log_every=40, gp=1.0, loss="wgan", d_view="sample"),
}


def same_rows(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == y[k] or (x[k] != x[k] and y[k] != y[k]), (x["epoch"], k, x[k], y[k])


@pytest.mark.parametrize("name", sorted(GAMES))
def test_the_lab_plays_the_same_numbers_as_train(name, tmp_path):
    config = GAMES[name]
    run = train(config, tmp_path / "run", progress=None)
    s = Session(config)
    for n in (1, 5, 37, 200, 10**6):  # chunks as a page asks for them: steps, then play to the end
        s.play(n)
    s.log.collect()
    assert s.epoch == config.epochs and s.finished
    saved = load_file(tmp_path / "run" / "weights.safetensors")
    g = s.game
    G = g.G if g.ema is None else g.G.sharing(g.ema)
    for prefix, net in (("G.", G), ("D.", g.D)):
        for key, p in net.named_parameters():
            assert torch.equal(saved[prefix + key], p.detach()), prefix + key
    same_rows(run.history, s.history)
    s.close()


@pytest.mark.parametrize(
    "changes",
    [{"lr_g": 1e-3, "lr_d": 5e-4}, {"optimizer": "sgd", "lr_g": 0.05, "lr_d": 0.05}],
    ids=["learning-rates", "sgd"],
)
def test_a_setting_changed_mid_run_is_what_the_next_epochs_use(changes):
    base = Config(epochs=400, log_every=100)
    s = Session(base)
    s.play(150)
    engine = s.game.engine.name
    s.retune(**changes)
    assert all(getattr(s.config, k) == v == getattr(s.game.config, k) for k, v in changes.items())
    assert s.game.engine.name == engine  # every engine plays either optimiser: the state carries over
    s.play(100)
    # the same: the game at 150 epochs, its state carried into a game built with the new settings
    ref = Session(base)
    ref.play(150)
    game = Game.build(ref.config.replace(**changes))
    game.load_state({k: v.clone() for k, v in ref.game.state().items()}, 150)
    keys = ref.keys
    drawn = game.draw(keys, 0, 400)
    game.play(drawn, 150, 250)
    for a, b in zip(s.game.G.parameters(), game.G.parameters()):
        assert torch.equal(a, b)
    # and not what the old settings give
    ref.play(100)
    assert not all(torch.equal(a, b) for a, b in zip(s.game.G.parameters(), ref.game.G.parameters()))
    s.close(), ref.close()


def test_retune_refuses_shape_changes_and_engine_moves():
    s = Session(Config(epochs=100))
    with pytest.raises(GanfitError, match="cannot change mid-run"):
        s.retune(g_hidden=10)
    with pytest.raises(GanfitError, match="engine"):
        s.retune(gp=1.0)  # a penalty only autograd plays
    with pytest.raises(GanfitError, match="lr_d must be > 0"):
        s.retune(lr_d=-1.0)
    s.play(10)
    assert s.epoch == 10  # the game goes on after a refusal
    s.close()


def test_d_only_moves_d_and_leaves_g():
    s = Session(Config(epochs=100, seeds=2))
    s.play(3)
    g_before = [p.clone() for p in s.game.G.parameters()]
    d_before = [p.clone() for p in s.game.D.parameters()]
    s.d_only()
    assert all(torch.equal(a, b) for a, b in zip(g_before, s.game.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, s.game.D.parameters()))
    assert s.epoch == 4 and "D's steps only" in s.notes[-1]
    s.close()


def test_save_as_run_is_an_ordinary_run(tmp_path, capsys):
    config = Config(epochs=600, seeds=2, log_every=100)
    s = Session(config)
    s.play(300)
    out = s.save(tmp_path / "saved")
    assert not list(tmp_path.glob(".*partial"))
    assert main(["sample", str(out), "-n", "50", "--out", str(tmp_path / "x.csv")]) == 0
    assert len(np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1)) == 50
    assert main(["report", str(out)]) == 0 and (out / "report.html").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 300 and summary["status"] == "interrupted"
    # train --resume continues it and ends where 600 epochs of the config end, bit for bit
    assert main(["train", "--resume", str(out)]) == 0
    whole = train(config, tmp_path / "whole", progress=None)
    a, b = load_file(out / "weights.safetensors"), load_file(whole.dir / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in b)
    with pytest.raises(GanfitError, match="already exists"):
        s.save(out)
    s.close()


def test_a_save_that_fails_leaves_nothing(tmp_path):
    s = Session(Config(epochs=100))
    s.play(10)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(GanfitError, match="cannot save"):
        s.save(tmp_path / "file" / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    s.play(5)  # and the game goes on
    assert s.epoch == 15
    s.close()


@pytest.mark.parametrize("engine", ["compiled", "fast", "autograd"])
def test_g_only_steps_g_against_d_as_it_was_and_leaves_d(engine, monkeypatch):
    if engine == "fast":
        monkeypatch.setenv("GANFIT_COMPILED", "0")
    config = Config(epochs=100, seeds=2, lr_decay=0.5, gradients="autograd" if engine == "autograd" else "auto")
    s = Session(config)
    assert s.game.engine.name == engine
    s.play(3)
    d_before = {k: v.clone() for k, v in s.game.state().items() if k.startswith("D.")}
    g_before = [p.clone() for p in s.game.G.parameters()]
    s.g_only()
    after = s.game.state()
    assert all(torch.equal(v, after[k]) for k, v in d_before.items())  # D's weights and Adam state as they were
    assert not all(torch.equal(a, b) for a, b in zip(g_before, s.game.G.parameters()))
    assert s.epoch == 4 and "G's steps only" in s.notes[-1]
    s.play(2)  # and the game goes on with both nets learning at their scheduled rates
    assert not any(torch.equal(v, s.game.state()[k]) for k, v in d_before.items() if k.endswith("theta"))
    s.close()


def test_g_only_is_g_against_the_d_it_was_shown():
    # the same G step as in a game retuned so that D's steps cannot move its float32 weights, and not
    # the one a normal epoch takes (against D after its own step)
    a, b, c = (Session(Config(epochs=100, seeds=2)) for _ in range(3))
    for s in (a, b, c):
        s.play(5)
    a.g_only()
    b.retune(lr_d=1e-30)
    b.play(1)
    c.play(1)
    g = [k for k in a.game.state() if k.startswith("G.")]
    assert all(torch.equal(a.game.state()[k], b.game.state()[k]) for k in g)
    assert not torch.equal(a.game.state()["G.theta"], c.game.state()["G.theta"])
    for s in (a, b, c):
        s.close()


def test_saving_an_opened_run_keeps_its_earlier_snapshots(tmp_path):
    from ganfit.lab.games import open_run
    from ganfit.pictures.snapdata import SNAPSHOTS, SnapData

    s = Session(Config(epochs=1000, log_every=100, seeds=2))
    s.play(400)
    s.save(tmp_path / "first")
    s.close()
    opened = open_run(tmp_path / "first")
    opened.play(300)
    opened.save(tmp_path / "second")
    opened.close()
    snaps = SnapData.load(tmp_path / "second" / SNAPSHOTS)
    assert snaps.epochs.tolist() == [0, 100, 200, 300, 400, 500, 600]
    assert all(len(v) == 7 for k, v in snaps.arrays.items() if k in opened.snapshots[0].arrays)
    first = SnapData.load(tmp_path / "first" / SNAPSHOTS)
    assert np.array_equal(snaps["hist"][:4], first["hist"])  # the opened run's own, as it saved them


@pytest.mark.parametrize("engine", ["compiled", "fast", "autograd"])
def test_slow_motions_halves_are_whole_epochs(engine, monkeypatch):
    monkeypatch.setenv("GANFIT_COMPILED", "1" if engine == "compiled" else "0")
    config = Config(epochs=40, seeds=2, log_every=10, g_ema=0.99, lr_decay=0.5, threads=1)
    if engine == "autograd":
        config = config.replace(gradients="autograd")
    halves, whole = Session(config), Session(config)
    assert halves.game.engine.name == engine
    for _ in range(23):  # past two metric rows, one half at a time
        halves.d_half()
        assert halves.half is not None and halves.epoch == whole.epoch
        halves.g_half()
        whole.play(1)
    halves.d_half()
    halves.play(7)  # an epoch left halfway is finished by whatever plays on
    whole.play(7)
    assert halves.epoch == whole.epoch == 30 and halves.half is None
    halves.log.collect(), whole.log.collect()
    for a, b in zip(halves.game.state().values(), whole.game.state().values()):
        assert torch.equal(a, b)
    same_rows(whole.history, halves.history)  # the D losses of a row too, as its D steps gave them
    halves.close(), whole.close()
