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


def ops_in_one_step(engine: str, seeds: int = 2) -> list[str]:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func.overloadpacket))
            return func(*args, **(kwargs or {}))

    game = Game.build(Config(seeds=seeds, engine=engine))
    real, z_d, z_g = game.draw(rng.member_keys(list(range(seeds)), "train"), 0, 2)
    game.step(real[0], z_d[0], z_g[0])  # warm: lazy state is created on the first step
    with Record() as rec:
        game.step(real[1], z_d[1], z_g[1])
    return rec.ops


VIEWS = {
    "aten.transpose",
    "aten.view",
    "aten.select",
    "aten.slice",
    "aten.unsqueeze",
    "aten.detach",
    "aten.expand",
    "aten.t",
    "aten._unsafe_view",
    "aten.alias",
    "aten.as_strided",
    "aten.permute",
    "aten._reshape_alias",
}


def test_the_fast_step_never_reads_a_value_back_and_runs_half_the_kernels():
    fast_ops, ref_ops = ops_in_one_step("fast"), ops_in_one_step("autograd")
    assert not [op for op in fast_ops if "local_scalar" in op]  # no .item(): no host round-trip
    assert [op for op in ref_ops if "local_scalar" in op]  # (the reference's torch.optim.Adam does read)
    kernels = [len([op for op in ops if op not in VIEWS]) for ops in (fast_ops, ref_ops)]
    assert kernels[0] * 2 < kernels[1], kernels  # 59 against 136 for the seed's game
