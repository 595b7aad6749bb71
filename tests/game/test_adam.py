import pytest
import torch

from ganfit import Config, GanfitError, recipes, train
from ganfit.game.adam import MemberAdam


def test_member_adam_is_torch_adam_member_by_member():
    torch.manual_seed(0)
    K = 3
    lrs, b1s, b2s = [1e-3, 5e-3, 2e-4], [0.5, 0.9, 0.0], [0.999, 0.99, 0.9]
    settings = {k: torch.tensor(v) for k, v in (("lr", lrs), ("beta1", b1s), ("beta2", b2s))}
    ours = torch.nn.Parameter(torch.randn(K, 4, 5))
    theirs = [torch.nn.Parameter(ours.detach()[k].clone()) for k in range(K)]
    opt = MemberAdam([ours], settings)
    refs = [torch.optim.Adam([theirs[k]], lr=lrs[k], betas=(b1s[k], b2s[k])) for k in range(K)]
    for _ in range(50):
        grads = torch.randn(K, 4, 5)
        ours.grad = grads.clone()
        opt.step()
        for k in range(K):
            theirs[k].grad = grads[k].clone()
            refs[k].step()
    for k in range(K):
        assert torch.allclose(ours.detach()[k], theirs[k].detach(), atol=1e-6, rtol=1e-5)
        assert not torch.allclose(ours.detach()[k], ours.detach()[(k + 1) % K])
    assert opt.state[ours]["step"] == 50


@pytest.mark.bits
@pytest.mark.parametrize("engine", ["fast", "autograd"])
def test_a_member_with_its_own_seed_and_settings_trains_as_that_run_alone(engine):
    base = Config(epochs=150, log_every=50, eval_samples=1000, gradients=engine)
    group = train(base.replace(seeds=4, per_member="seed=3,5,3,5;lr_d=1e-4,1e-4,5e-4,5e-4;beta1=0.9,0.9,0.5,0.5"))
    assert [m["seed"] for m in group.summary["members"]] == [3, 5, 3, 5]
    for k, (seed, lr_d, beta1) in enumerate([(3, 1e-4, 0.9), (5, 1e-4, 0.9), (3, 5e-4, 0.5)]):
        alone = train(base.replace(seed=seed, lr_d=lr_d, beta1=beta1))
        for p, q in zip(group.G.parameters(), alone.G.parameters()):
            assert torch.allclose(p.detach()[k], q.detach()[0], atol=1e-5), (k, (p[k] - q[0]).abs().max())
        assert group.summary["members"][k]["ks"] == pytest.approx(alone.summary["members"][0]["ks"], abs=2e-3)
    # members 0 and 2 share a seed (the same start and batches) but not their settings: they part ways
    assert not torch.allclose(group.G.weights[0][0], group.G.weights[0][2], atol=1e-3)


@pytest.mark.parametrize(
    "per_member, message",
    [
        ("lr_d=1e-4", "1 values for 2 members"),
        ("lr_q=1,2", "NAME in seed"),
        ("seed=1,x", "needs integers"),
        ("lr_g=1e-4,0", "out of range"),
        ("beta2=0.9,1.0", "out of range"),
        ("lr_d=nan,1e-3", "lr_d = nan is out of range"),
        ("seed=-1,2", "out of range"),
        ("seed=1,2;seed=3,4", "given twice"),
        ("lr_d", "is not NAME=V1"),
        ("g_activation=elu,swish", r"needs activations \(elu, sigmoid"),
        ("g_activation=elu", "1 values for 2 members"),
    ],
)
def test_per_member_errors_name_the_problem(per_member, message):
    with pytest.raises(GanfitError, match=message):
        Config(seeds=2, per_member=per_member).validate()


def test_the_configs_activation_names_are_the_models_and_the_kernels():
    from ganfit.config import ACTIVATION_NAMES
    from ganfit.game import models, native

    assert ACTIVATION_NAMES == tuple(models.ACTIVATIONS)  # config.py names them without importing torch
    if native.kernel() is not None:
        assert all(native.kernel().code(a) >= 0 for a in ACTIVATION_NAMES)


def test_g_activation_per_member_is_for_ganfits_own_g():
    with pytest.raises(GanfitError, match="g_activation sets the activations of ganfit's MLP G"):
        Config(seeds=2, per_member="g_activation=elu,relu", g_model="custom:mine").validate()


@pytest.mark.parametrize("engine", ["auto", "autograd"])
def test_members_with_their_own_g_activation_train_as_runs_of_one_kind(engine):
    """Member k of a mixed ensemble is member k of the run whose every G uses its activation: bit for bit
    where one engine plays both (each member's arithmetic is its own), to rounding in torch's batched ops."""
    base = recipes.load("robust1d").replace(epochs=120, log_every=40, eval_samples=500, seeds=3, gradients=engine)
    mixed = train(base.replace(per_member="g_activation=relu,elu,relu"))
    assert mixed.G.kinds == ["relu", "elu", "relu"] and mixed.G.member(1).activations == ["elu", "elu"]
    alone = {a: train(base.replace(g_activations=f"{a},{a}")) for a in ("elu", "relu")}
    for k, a in enumerate(mixed.G.kinds):
        for p, q in zip(mixed.G.parameters(), alone[a].G.parameters()):
            torch.testing.assert_close(p.detach()[k], q.detach()[k], rtol=1e-5, atol=1e-6)
        assert mixed.summary["members"][k]["ks"] == pytest.approx(alone[a].summary["members"][k]["ks"], abs=1e-3)
    z = torch.randn(1, 300, 1)
    for k, a in enumerate(mixed.G.kinds):  # a member taken away keeps its kind
        torch.testing.assert_close(mixed.G.member(k)(z), alone[a].G.member(k)(z), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(mixed.G.member(0)(z), alone["elu"].G.member(0)(z), atol=1e-3)


def test_lr_scale_is_flat_then_a_straight_line_down():
    from ganfit.game import lr_scale

    c = Config(epochs=10, lr_decay=0.3)  # the last 3 epochs: 3/3, 2/3, 1/3
    assert [lr_scale(c, t) for t in range(10)] == [1.0] * 8 + [2 / 3, 1 / 3]
    assert {lr_scale(c.replace(lr_decay=0.0), t) for t in range(10)} == {1.0}
    assert [lr_scale(c.replace(lr_decay=1.0), t) for t in (0, 5, 9)] == [1.0, 0.5, 0.1]
    with pytest.raises(GanfitError, match="lr_decay must be in"):
        c.replace(lr_decay=1.5).validate()


@pytest.mark.parametrize(
    "engine, per_member",
    [
        ("fast", ""),
        ("autograd", ""),
        ("fast", "lr_d=1e-3,1e-3;lr_g=2e-4,2e-4"),
        ("autograd", "lr_d=1e-3,1e-3;lr_g=2e-4,2e-4"),
    ],
)
def test_lr_decay_scales_the_step_of_every_optimiser(engine, per_member):
    from ganfit.game import Game
    from ganfit.game.rng import member_keys

    # Adam's first step moves each weight by lr * g / (|g| + 1e-8): lr times the sign of its gradient.
    c = Config(seeds=2, epochs=10, lr_decay=0.5, lr_d=1e-3, lr_g=2e-4, gradients=engine, per_member=per_member)
    game = Game.build(c)
    game.epochs_done = 8  # epoch 8 of the last 5: lr * 2/5
    nets = (game.D, c.lr_d), (game.G, c.lr_g)
    before = [[p.detach().clone() for p in net.parameters()] for net, _ in nets]
    drawn = game.draw(member_keys([0, 1], "train"), 8, 1)
    game.step(*drawn.at(0))
    for (net, lr), start in zip(nets, before):
        moved = torch.cat([(p.detach() - s).abs().flatten() for p, s in zip(net.parameters(), start)])
        ratio = moved[moved > 0] / (lr * 0.4)
        assert len(ratio) > moved.numel() // 2
        assert ratio.median().item() == pytest.approx(1.0, abs=2e-3)
        assert ratio.max().item() < 1.01


def test_sgd_is_torchs_sgd_member_by_member_and_leaves_adams_moments():
    torch.manual_seed(0)
    p = torch.randn(3, 4, 5, requires_grad=True)
    lrs = torch.tensor([0.1, 0.01, 0.5], dtype=torch.float64)
    opt = MemberAdam([p], {"lr": lrs, "beta1": torch.full((3,), 0.9), "beta2": torch.full((3,), 0.999)}, sgd=True)
    refs = [p[k].detach().clone().requires_grad_() for k in range(3)]
    ref_opts = [torch.optim.SGD([r], lr=float(lrs[k])) for k, r in enumerate(refs)]
    for _ in range(3):
        g = torch.randn(3, 4, 5)
        p.grad = g.clone()
        opt.step()
        for k in range(3):
            refs[k].grad = g[k].clone()
            ref_opts[k].step()
    for k in range(3):  # torch's SGD may fuse the multiply-add: the same to the last bit or so
        torch.testing.assert_close(p[k].detach(), refs[k].detach(), rtol=1e-6, atol=1e-7)
    state = opt.state[p]
    assert state["step"].item() == 3 and not state["exp_avg"].any() and not state["exp_avg_sq"].any()


@pytest.mark.parametrize("engine", ["compiled", "fast", "autograd"])
def test_sgd_moves_each_weight_by_lr_times_its_gradient(engine, monkeypatch):
    from ganfit.game import Game
    from ganfit.game.rng import member_keys

    monkeypatch.setenv("GANFIT_COMPILED", "1" if engine == "compiled" else "0")
    c = Config(seeds=2, epochs=10, lr_decay=0.5, optimizer="sgd", lr_d=0.05, lr_g=0.02, threads=1)
    game = Game.build(c.replace(gradients="autograd" if engine == "autograd" else "auto"))
    assert game.engine.name == engine
    game.epochs_done = 8  # epoch 8 of the last 5: lr * 2/5
    flat = engine != "autograd"
    before = game.engine.D.theta.clone() if flat else [p.detach().clone() for p in game.D.parameters()]
    game.step(*game.draw(member_keys([0, 1], "train"), 8, 1).at(0))
    if flat:  # theta and grad: D's flat [K, P] buffers
        moved, grads = [before - game.engine.D.theta], [game.engine.D.grad]
    else:
        moved = [s - p.detach() for p, s in zip(game.D.parameters(), before)]
        grads = [p.grad for p in game.D.parameters()]
    for m, g in zip(moved, grads):
        assert g.abs().max() > 0
        torch.testing.assert_close(m, 0.05 * 0.4 * g, rtol=1e-4, atol=1e-8)
