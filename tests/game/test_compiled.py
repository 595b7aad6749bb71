import pytest
import torch

from ganfit import Config, recipes, rundir, train
from ganfit.game import Game, native, rng
from ganfit.game.compiled import CompiledEngine
from ganfit.game.fast import FastEngine

pytestmark = pytest.mark.skipif(native.kernel() is None, reason="ganfit was installed without its compiled kernel")


def weights_after(config: Config, epochs: int, env: str, monkeypatch) -> tuple[str, list[torch.Tensor]]:
    monkeypatch.setenv("GANFIT_COMPILED", env)
    game = Game.build(config)
    drawn = game.draw(rng.member_keys(config.member_seeds(), "train"), 0, epochs)
    for t in range(epochs):
        losses, fake = game.step(*drawn.at(t))
    out = [p.detach().clone() for p in (*game.G.parameters(), *game.D.parameters(), *(game.ema or []))]
    return game.engine.name, out + [torch.stack(losses()), fake]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"seeds": 3, "d_view": "minibatch:diffs=false", "g_activations": "tanh,relu,leaky_relu"},
        {"seeds": 2, "d_steps": 2, "g_steps": 3, "batch": 12, "d_activations": "sigmoid,tanh"},
        {"seeds": 2, "target": "moons:noise=0.1", "noise": "normal:dim=3", "g_hidden": 9, "d_hidden": 13},
        {"seeds": 4, "per_member": "lr_d=1e-4,2e-4,3e-4,4e-4;beta1=0.5,0.9,0.5,0.9", "lr_decay": 0.5, "epochs": 30},
        {"seeds": 2, "loss": "lsgan"},
        {"seeds": 2, "loss": "hinge"},
        {"seeds": 2, "loss": "minimax"},
        {"seeds": 2, "loss": "wgan", "lr_d": 1e-5},
        {"g_ema": 0.99},  # G's average, lerped in C (both of torch.lerp's forms: the weight starts above 0.5)
        {"seeds": 3, "d_view": "sample", "r1": 1.0, "g_ema": 0.999},
        {"seeds": 2, "optimizer": "sgd", "lr_d": 0.05, "lr_g": 0.05, "lr_decay": 0.5, "epochs": 30},
        {"seeds": 4, "d_view": "sample", "r1": 1.0, "per_member": "g_activation=relu,elu,tanh,elu"},
    ],
)
def test_the_compiled_step_matches_the_torch_step(changes, monkeypatch):
    config = Config(threads=1, **changes)
    ours, theirs = (weights_after(config, 25, env, monkeypatch) for env in ("1", "0"))
    assert (ours[0], theirs[0]) == ("compiled", "fast")
    for a, b in zip(ours[1], theirs[1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-6)


def grads_after_one_epoch(config: Config, env: str, monkeypatch) -> tuple[str, torch.Tensor, torch.Tensor]:
    monkeypatch.setenv("GANFIT_COMPILED", env)
    game = Game.build(config)
    game.step(*game.draw(rng.member_keys(config.member_seeds(), "train"), 0, 1).at(0))
    return game.engine.name, game.engine.G.grad.clone(), game.engine.D.grad.clone()


PER_INPUT = [
    {"recipe": "robust1d"},
    {"recipe": "ring", "g_hidden": 40, "d_hidden": 24},
    {"recipe": "grid", "batch": 64},
    {"recipe": "robust1d", "r1": 0.0, "r2": 3.0, "d_activations": "tanh,sigmoid,elu", "d_hidden": 21},
    {"recipe": "robust1d", "r2": 0.5, "batch": 30, "g_hidden": 7, "d_hidden": 9, "loss": "lsgan"},
    {"recipe": "ring", "d_view": "pack:m=3", "batch": 33, "d_steps": 2, "g_steps": 2, "r1": 0.0},
    {"d_view": "sample", "loss": "wgan", "batch": 16, "r1": 1.0},
    {"d_view": "pack:m=2", "loss": "hinge", "batch": 16},
    {"d_view": "sample", "loss": "minimax", "batch": 40, "d_activations": "relu,relu,relu"},
]


@pytest.mark.parametrize("changes", PER_INPUT)
def test_the_compiled_gradients_match_the_torch_steps_on_the_per_input_games(changes, monkeypatch):
    # One epoch's gradients, tightly. Over many epochs, a gradient that is 0 but for rounding (the
    # wgan and hinge games' biases: sums of equal and opposite terms) is turned by Adam into a step of
    # +-lr whose sign depends on the order of the sum: trajectories are compared in test_fast.py.
    changes = dict(changes)
    base = recipes.load(changes.pop("recipe")) if "recipe" in changes else Config()
    config = base.replace(seeds=3, threads=1, **changes)
    ours, theirs = (grads_after_one_epoch(config, env, monkeypatch) for env in ("1", "0"))
    assert (ours[0], theirs[0]) == ("compiled", "fast")
    for a, b in zip(ours[1:], theirs[1:]):
        torch.testing.assert_close(a, b, rtol=0, atol=2e-5 * b.abs().max().item())


def test_the_compiled_step_plays_the_fast_engines_games_on_the_cpu(monkeypatch):
    monkeypatch.setenv("GANFIT_COMPILED", "1")
    for changes in [{}, {"threads": 2}, {"seeds": 64}, {"d_view": "minibatch:diffs=false", "loss": "hinge"}]:
        assert isinstance(Game.build(Config(**changes)).engine, CompiledEngine), changes
    for name in ("robust1d", "ring", "grid", "fit1d", "fit2d"):
        assert isinstance(Game.build(recipes.load(name).replace(seeds=2)).engine, CompiledEngine), name
    assert isinstance(Game.build(recipes.for_fit("fit2d")).engine, CompiledEngine)  # its members' two rates
    deep = Config(g_activations=",".join(["elu"] * 16), g_hidden=4)  # more layers than kernel.c holds
    assert type(Game.build(deep).engine) is FastEngine
    monkeypatch.setenv("GANFIT_COMPILED", "0")
    assert type(Game.build(Config()).engine) is FastEngine


@pytest.mark.bits
@pytest.mark.parametrize("shape", [{}, {"batch": 37, "g_hidden": 13, "d_hidden": 11}])
def test_a_members_arithmetic_does_not_depend_on_the_thread_count(shape, monkeypatch):
    # odd sizes: each thread's scratch must be aligned alike, or vectorised sums round differently
    runs = [weights_after(Config(seeds=7, threads=t, **shape), 20, "1", monkeypatch)[1] for t in (1, 2, 3, 2)]
    for other in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(runs[0], other))


@pytest.mark.bits
def test_a_compiled_run_resumes_bit_for_bit_and_says_which_engine_played_it(tmp_path):
    c = Config(epochs=600, seeds=2, log_every=100, checkpoint_every=200, threads=1)
    whole = train(c, tmp_path / "whole", progress=None)
    assert whole.summary["engine"] == "compiled"
    train(c.replace(epochs=400), tmp_path / "cut", progress=None)
    resumed = train(rundir.reopen(tmp_path / "cut", 600), tmp_path / "cut", resume=True, progress=None)
    for a, b in zip(whole.G.parameters(), resumed.G.parameters()):
        assert torch.equal(a, b)


@pytest.mark.bits
@pytest.mark.parametrize("changes", [{}, {"recipe": "robust1d", "lr_decay": 0.5, "epochs": 60, "batch": 32}])
def test_a_block_of_epochs_in_one_call_is_the_same_as_one_call_each(changes, monkeypatch):
    monkeypatch.setenv("GANFIT_COMPILED", "1")
    changes = dict(changes)
    base = recipes.load(changes.pop("recipe")) if "recipe" in changes else Config()
    config = base.replace(seeds=3, threads=2, **changes)
    games = [Game.build(config) for _ in range(2)]
    drawn = games[0].draw(rng.member_keys(config.member_seeds(), "train"), 0, 60)
    for t in range(60):
        one = games[0].step(*drawn.at(t))
    games[1].play(drawn, 0, 1)
    block = games[1].play(drawn, 1, 60)  # lr decay and G's average move on inside the call
    assert games[0].epochs_done == games[1].epochs_done == 60
    for a, b in zip(games[0].state().values(), games[1].state().values()):
        assert torch.equal(a, b)
    assert all(torch.equal(a, b) for a, b in zip(one[0](), block[0]())) and torch.equal(one[1], block[1])
