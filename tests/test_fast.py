import pytest
import torch

from ganfit import Config, GanfitError, rng
from ganfit.train import Game


def trajectories(config: Config, epochs: int):
    out = {}
    for engine in ("fast", "autograd"):
        game = Game.build(config.replace(engine=engine))
        keys = rng.member_keys([config.seed + i for i in range(config.seeds)], "train")
        real, z_d, z_g = game.draw(keys, 0, epochs)
        losses = []
        for t in range(epochs):
            loss_fn, fake = game.step(real[t], z_d[t], z_g[t])
            losses.append(torch.stack(loss_fn()))
        out[engine] = (
            [p.detach().clone() for p in (*game.G.parameters(), *game.D.parameters())],
            torch.stack(losses),
            fake,
        )
    return out["fast"], out["autograd"]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"d_view": "minibatch:diffs=false"},
        {"g_activations": "tanh,relu", "d_activations": "leaky_relu,sigmoid,elu", "d_hidden": 7},
        {"d_steps": 2, "g_steps": 3, "batch": 16},
        {"noise": "normal:dim=3", "lr_g": 1e-3},
    ],
)
def test_hand_derived_gradients_match_autograd(changes):
    fast, ref = trajectories(Config(seeds=3, **changes), 8)
    for a, b in zip(fast[0], ref[0]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(fast[1], ref[1], rtol=1e-4, atol=1e-6)  # the logged losses too
    torch.testing.assert_close(fast[2], ref[2], rtol=1e-4, atol=1e-6)


def test_fast_engine_refuses_what_it_does_not_cover(monkeypatch):
    from ganfit import fast

    monkeypatch.setattr(fast, "supports", lambda game: False)
    with pytest.raises(GanfitError, match="engine 'fast' covers"):
        Game.build(Config(engine="fast"))
    assert Game.build(Config()).fast is None  # auto falls back to autograd
