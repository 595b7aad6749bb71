import pytest
import torch

from ganfit import Config, GanfitError
from ganfit.game import Game, native, rng
from ganfit.game.models import MLP
from ganfit.game.views import make_view


def test_minibatch_view_is_values_then_squared_deviations():
    x = torch.tensor([[[1.0], [2.0], [6.0]], [[0.0], [0.0], [3.0]]])  # K=2, B=3, dim=1
    v = make_view("minibatch:diffs=true")(x)
    assert v.shape == (2, 1, 6)
    assert v[0, 0].tolist() == [1, 2, 6, 4, 1, 9]  # batch mean 3
    assert v[1, 0].tolist() == [0, 0, 3, 1, 1, 4]  # batch mean 1
    raw = make_view("minibatch:diffs=false")(x)
    assert raw.shape == (2, 1, 3) and raw[0, 0].tolist() == [1, 2, 6]
    assert make_view("minibatch").features(100, 1) == 200


def test_batch_mean_is_a_constant_to_autograd_as_in_the_seed():
    x = torch.tensor([[[1.0], [2.0], [6.0]]], requires_grad=True)
    make_view("minibatch")(x)[0, 0, 3:].sum().backward()
    # d/dx_i of sum_j (x_j - m)^2 with m held fixed is 2 (x_i - m)
    assert x.grad[0, :, 0].tolist() == [-4.0, -2.0, 6.0]


def test_seed_architecture_and_pytorch_default_init():
    g = Game.build(Config(seeds=3))
    assert [tuple(w.shape) for w in g.G.weights] == [(3, 1, 50), (3, 50, 50), (3, 50, 1)]
    assert [tuple(w.shape) for w in g.D.weights] == [(3, 200, 50), (3, 50, 50), (3, 50, 1)]
    assert g.G.activations == ["elu", "sigmoid"] and g.D.activations == ["elu", "elu"]
    assert sum(p[0].numel() for p in g.G.parameters()) + sum(p[0].numel() for p in g.D.parameters()) == 15352
    w = g.D.weights[0]
    bound = 1 / 200**0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert abs(w.mean()) < 0.01 * bound * 10


def test_member_i_starts_like_a_single_run_with_seed_plus_i():
    ens = MLP([1, 50, 50, 1], ["elu", "sigmoid"], [10, 11, 12], "init_g")
    alone = MLP([1, 50, 50, 1], ["elu", "sigmoid"], [11], "init_g")
    for a, b in zip(ens.parameters(), alone.parameters()):
        assert torch.equal(a[1], b[0])


def run_epochs(game: Game, epochs: int, perturb=None):
    keys = rng.member_keys([game.config.seed + i for i in range(game.config.seeds)], "train")
    drawn = game.draw(keys, 0, epochs)
    if perturb:
        perturb(game)
    for t in range(epochs):
        game.step(*drawn.at(t))
    return [p.detach().clone() for p in (*game.G.parameters(), *game.D.parameters())]


def test_members_never_interact():
    cfg = Config(seeds=4, seed=5)
    base = run_epochs(Game.build(cfg), 30)

    def blow_up_member_2(game):
        with torch.no_grad():
            for p in game.G.parameters():
                p[2].mul_(3.0).add_(0.5)
            game.D.weights[0][2].fill_(float("nan"))

    poked = run_epochs(Game.build(cfg), 30, blow_up_member_2)
    for a, b in zip(base, poked):
        for k in (0, 1, 3):
            assert torch.equal(a[k], b[k])  # bit-identical trajectories
        assert not torch.equal(a[2], b[2])


def test_ensemble_member_equals_single_run_with_its_seed():
    ens = run_epochs(Game.build(Config(seeds=3, seed=7)), 25)
    alone = run_epochs(Game.build(Config(seeds=1, seed=8)), 25)
    for a, b in zip(ens, alone):
        torch.testing.assert_close(a[1], b[0], rtol=1e-5, atol=1e-6)


@pytest.mark.bits
def test_same_config_is_bit_identical():
    a = run_epochs(Game.build(Config(seeds=2)), 20)
    b = run_epochs(Game.build(Config(seeds=2)), 20)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_evaluate_in_member_chunks_equals_one_forward():
    mlp = MLP([1, 50, 50, 1], ["elu", "sigmoid"], list(range(5)), "init_g")
    x = torch.rand(5, 300, 1)
    with torch.no_grad():
        whole = mlp(x)
    torch.testing.assert_close(mlp.evaluate(x, budget=300 * 50 * 2), whole)  # 2 members at a time


def test_sample_and_pack_views_and_the_stddev_feature():
    x = torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]]])  # K=1, B=4, dim=2
    assert torch.equal(make_view("sample")(x), x)
    packed = make_view("pack:m=2")(x)
    assert packed.shape == (1, 2, 4) and packed[0].tolist() == [[1, 10, 2, 20], [3, 30, 4, 40]]
    assert make_view("pack:m=2").features(4, 2) == 4 and make_view("sample:stddev=true").features(4, 2) == 3
    s = make_view("sample:stddev=true")(x)
    sd = (x[0].std(0, unbiased=False)).mean().item()  # per-dim batch std, averaged over dims
    assert s.shape == (1, 4, 3) and torch.allclose(s[0, :, 2], torch.full((4,), sd))
    p = make_view("pack:m=4,stddev=true")(x)
    assert p.shape == (1, 1, 9) and p[0, 0, -1].item() == pytest.approx(sd)
    # the feature is each member's own: another member's batch does not change it
    two = torch.cat([x, 100 * x])
    assert torch.equal(make_view("sample:stddev=true")(two)[:1], s)


def test_pack_needs_a_batch_it_divides():
    with pytest.raises(GanfitError, match="batch 100 is not a multiple of m=3"):
        Game.build(Config(d_view="pack:m=3"))
    with pytest.raises(GanfitError, match="m must be >= 1"):
        make_view("pack:m=0")
    g = Game.build(Config(d_view="pack:m=4", target="ring", batch=64))
    assert g.D.weights[0].shape == (1, 8, 50)  # 4 samples x 2 dims per D input


def test_spectral_norm_divides_each_weight_by_its_largest_singular_value():
    D = MLP([6, 20, 1], ["elu"], [0, 1], "init_d", spectral=True)
    with torch.no_grad():
        D.weights[0].mul_(7.0)
    for _ in range(100):  # the power method converges to the top singular vectors
        D.power_iteration()
    for w, w_sn in zip(D.weights, D._effective_weights()):
        sigma = torch.linalg.matrix_norm(w.detach(), ord=2)  # per member
        assert torch.allclose(torch.linalg.matrix_norm(w_sn.detach(), ord=2), torch.ones(2), atol=1e-4)
        assert torch.allclose(w_sn.detach(), w.detach() / sigma[:, None, None], rtol=1e-4)
    alone = MLP([6, 20, 1], ["elu"], [1], "init_d", spectral=True)
    assert torch.equal(alone.sn_u[0][0], MLP([6, 20, 1], ["elu"], [0, 1], "init_d", spectral=True).sn_u[0][1])


@pytest.mark.skipif(native.library() is None, reason="no C compiler on this machine")
@pytest.mark.parametrize("acts", ["elu,elu", "tanh,sigmoid,relu,leaky_relu", "relu"])
def test_the_compiled_evaluation_is_torchs_to_rounding(acts, monkeypatch):
    hidden = acts.split(",")
    G = MLP([2, *[37] * len(hidden), 2], hidden, [3, 4, 5], "g")  # 37: tiles, and a tail under a lane mask
    x = torch.randn(3, 700, 2)  # more rows than one of kernel.c's chunks
    ours = G.evaluate(x)
    monkeypatch.setenv("GANFIT_COMPILED", "0")
    theirs = G.evaluate(x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    shared = G.sharing([p.detach().clone() * 1.5 for p in G.parameters()])  # other tensors (G's average)
    monkeypatch.setenv("GANFIT_COMPILED", "1")
    with torch.no_grad():
        expected = G._run(x, *[[p * 1.5 for p in ps] for ps in (G.weights, G.biases)])
    torch.testing.assert_close(shared.evaluate(x), expected, rtol=1e-5, atol=1e-6)
