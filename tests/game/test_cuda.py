"""The CUDA engine (game/cuda.py). Its block logic runs eagerly on the CPU here (draws from a device-held
epoch, the learning-rate factor and G's average computed from it); the capture and replay need a GPU
and skip without one (benchmarks/cuda_check.py runs them on the device machine with the rest)."""

import pytest
import torch

from ganfit import Config, recipes, rundir, train
from ganfit.game import Game, cuda, rng
from ganfit.game.cuda import DeviceDraws, GraphEngine

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")

GAMES = {
    "seed": {"seeds": 3},
    "robust1d (sample view, R1, G averaged, a frame)": {"recipe": "robust1d", "seeds": 2, "batch": 32},
    "ring (a mixture, PacGAN2)": {"recipe": "ring", "seeds": 2, "batch": 32, "g_hidden": 16, "d_hidden": 16},
    "per-member Adam": {"seeds": 2, "per_member": "lr_g=1e-4,3e-4;beta1=0.5,0.9"},
    "two D steps, lsgan": {"seeds": 2, "d_steps": 2, "g_steps": 2, "loss": "lsgan", "batch": 20},
}


def config_of(changes: dict, **more) -> Config:
    changes = dict(changes)
    base = recipes.load(changes.pop("recipe")) if "recipe" in changes else Config()
    return base.replace(threads=1, **changes, **more)


def played(config: Config, graphs: bool, monkeypatch, blocks=((0, 1), (1, 7), (7, 20))) -> tuple:
    """Game.play over blocks of epochs, with the GraphEngine (eager here) or the torch fast step."""
    monkeypatch.setenv("GANFIT_COMPILED", "0")
    monkeypatch.setattr(cuda, "covers", lambda config, view: graphs)
    game = Game.build(config)
    keys = rng.member_keys(config.member_seeds(), "train", game.G.device)
    drawn = game.draw(keys, 0, blocks[-1][1])
    for first, last in blocks:
        losses, fake = game.play(drawn, first, last)
    out = [p.detach().clone() for p in (*game.G.parameters(), *game.D.parameters(), *(game.ema or []))]
    return game, out + [torch.stack(losses()), fake.clone()]


@pytest.mark.parametrize("case", GAMES)
def test_the_block_plays_as_the_torch_step_does_epoch_by_epoch(case, monkeypatch):
    config = config_of(GAMES[case], epochs=20)
    ours, theirs = played(config, True, monkeypatch), played(config, False, monkeypatch)
    assert isinstance(ours[0].engine, GraphEngine) and ours[0].engine.name == "cuda-graph"
    assert isinstance(ours[0].draw(rng.member_keys(config.member_seeds(), "train"), 0, 3), DeviceDraws)
    assert ours[0].epochs_done == theirs[0].epochs_done == 20
    for a, b in zip(ours[1], theirs[1], strict=True):
        assert torch.equal(a, b)  # the same ops on the same numbers


def test_a_learning_rate_decay_computed_on_the_device_matches_the_hosts():
    config = Config(epochs=50, lr_decay=0.3)
    for epoch in (0, 34, 35, 36, 49):
        assert cuda.lr_scale(config, torch.tensor(epoch)).item() == pytest.approx(
            __import__("ganfit.game.game", fromlist=["lr_scale"]).lr_scale(config, epoch), rel=0, abs=0
        )


def test_the_averages_weight_computed_on_the_device_is_the_hosts_in_float32():
    config = Config(g_ema=0.999)
    game = Game.build(config.replace(seeds=1, g_ema=0.999))
    for t in (1, 2, 50, 10_000, 20_000):
        assert cuda.ema_weight(config, torch.tensor(t)).item() == torch.tensor(game.ema_weight(t)).float().item()


def test_with_a_decay_it_trains_as_the_torch_step_to_float_rounding(monkeypatch):
    """With lr_decay the factor is a device tensor, so Adam runs as tensor ops (adam.py), not fused."""
    config = config_of({"recipe": "grid", "seeds": 2, "batch": 16, "g_hidden": 8, "d_hidden": 8}, epochs=20)
    assert config.lr_decay > 0
    ours, theirs = played(config, True, monkeypatch), played(config, False, monkeypatch)
    for a, b in zip(ours[1], theirs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_status_line_reads_the_same_real_batch_the_block_draws(monkeypatch):
    config = config_of({"seeds": 2}, epochs=10)
    monkeypatch.setattr(cuda, "covers", lambda config, view: True)
    game = Game.build(config)
    keys = rng.member_keys(config.member_seeds(), "train")
    assert torch.equal(game.draw(keys, 4, 3).real, game.sample_draws(keys, 4, 3).real)


# On a GPU (the device machine's session runs these; here they skip with the reason).


@CUDA
@pytest.mark.parametrize("case", GAMES)
def test_a_graph_replays_what_the_torch_step_launches_op_by_op(case, monkeypatch):
    config = config_of(GAMES[case], epochs=20, device="cuda")
    ours = played(config, True, monkeypatch)
    theirs = played(config, False, monkeypatch)
    assert ours[0].engine.capture and set(ours[0].engine.graphs) == {1, 2, 4, 8}  # blocks of 1, 6 = 4 + 2, 13
    for a, b in zip(ours[1], theirs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@CUDA
def test_cuda_picks_the_graph_engine_and_trains_as_the_cpu_to_float_rounding():
    config = Config(seeds=8, epochs=300, log_every=100, eval_samples=1000, threads=1)
    gpu, cpu = train(config.replace(device="cuda")), train(config)
    assert gpu.summary["engine"] == "cuda-graph"
    for a, b in zip((*gpu.G.parameters(), *gpu.D.parameters()), (*cpu.G.parameters(), *cpu.D.parameters())):
        torch.testing.assert_close(a.detach().cpu(), b.detach(), rtol=1e-3, atol=1e-4)


@CUDA
def test_a_cuda_resume_is_bit_identical_to_the_run_straight_through(tmp_path):
    config = recipes.load("robust1d").replace(
        seeds=4, epochs=300, log_every=50, eval_samples=500, checkpoint_every=100, device="cuda"
    )
    whole, half = tmp_path / "whole", tmp_path / "half"
    train(config, whole, progress=None)
    train(config.replace(epochs=150), half, progress=None)
    train(rundir.reopen(half, 300), half, resume=True, progress=None)
    assert (whole / "weights.safetensors").read_bytes() == (half / "weights.safetensors").read_bytes()


@CUDA
def test_a_target_sampled_on_the_host_trains_without_capture():
    run = train(Config(target="laplace:loc=0,scale=1", seeds=2, epochs=50, log_every=25, device="cuda"))
    assert run.summary["engine"] == "fast"


@CUDA
def test_ganfit_train_on_cuda_picks_the_graph_engine_itself(tmp_path):
    from ganfit import cli

    out = str(tmp_path / "r")
    assert cli.main(["train", "--device", "cuda", "--epochs", "60", "--log-every", "20", "--out", out]) == 0
    assert rundir.read_summary(tmp_path / "r")["engine"] == "cuda-graph"


@CUDA
def test_a_sweep_on_cuda_packs_its_points_into_one_ensemble(tmp_path):
    from ganfit.sweep import run_sweep
    from ganfit.sweep.file import load

    text = 'seeds = 4\n[base]\ndevice = "cuda"\nepochs = 60\nlog_every = 30\neval_samples = 200\n'
    (tmp_path / "s.toml").write_text(text + "[axes]\nlr_d = [1e-4, 2e-4, 3e-4]\nlr_g = [1e-4, 2e-4]\n")
    run_sweep(load(tmp_path / "s.toml"), tmp_path / "out")
    assert len(list((tmp_path / "out" / "groups").iterdir())) == 1  # 6 points x 4 seeds: one ensemble of 24
    points = list((tmp_path / "out" / "points").iterdir())
    assert len(points) == 6 and all(rundir.read_summary(p)["engine"] == "cuda-graph" for p in points)
