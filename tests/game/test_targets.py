import os

import numpy as np
import pytest
import torch
from scipy import stats

from ganfit import GanfitError
from ganfit.game import rng
from ganfit.game.targets import make_target


def draw(target, n=20000, seed=0):
    u = rng.uniform(rng.member_keys([seed], "test"), torch.zeros(1, dtype=torch.int64), n * target.n_uniforms)
    return target.sample(u.reshape(n, target.n_uniforms)).double().numpy()


@pytest.mark.parametrize("spec", ["gaussian:mean=4,std=1.25", "gaussian:mean=-400,std=0.01", "uniform:low=-1,high=3"])
def test_closed_form_samplers_follow_their_own_cdf(spec):
    t = make_target(spec)
    x = draw(t)[:, 0]
    assert stats.kstest(x, t.dist.cdf).pvalue > 1e-3
    assert x.mean() == pytest.approx(t.mean[0], abs=4 * t.std[0] / np.sqrt(len(x)))


def test_csv_with_header_and_column_choice(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("height,weight\n1.5,60\n1.7,70\n1.9,80\n")
    t = make_target(f"csv:path={f},column=weight")
    assert t.columns == ["weight"] and t.data[:, 0].tolist() == [60, 70, 80]
    assert t.mean[0] == pytest.approx(70) and t.std[0] == pytest.approx(np.std([60, 70, 80]))
    x = draw(t, 3000)[:, 0]
    assert set(x.tolist()) == {60.0, 70.0, 80.0}
    counts = np.unique(x, return_counts=True)[1]
    assert stats.chisquare(counts).pvalue > 1e-3  # each row drawn equally often


def test_csv_without_header(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("1\n2\n\n3.5\n")
    t = make_target(f"csv:path={f}")
    assert t.data[:, 0].tolist() == [1, 2, 3.5] and t.columns == ["x"]


def bad(tmp_path, text: str | bytes | None, name="d.csv"):
    f = tmp_path / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    elif text is not None:
        f.write_text(text)
    return f


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "no such file"),
        ("", "empty"),
        ("\n\n", "empty"),
        ("value\n", "no data rows"),
        ("value\n1\nabc\n", "line 3: 'abc' is not a number"),
        ("1\nnan\n", "line 2: 'nan', a missing value, in column 'x' \\(drop rows with gaps\\)"),
        ("1\n2\ninf\n", "line 3: 'inf' is not a finite number"),
        ("a,b\n1,2\n", "has 2 columns \\(a, b\\); choose one"),
        ("5\n5\n5\n", "needs at least two distinct values"),
        (b"\xff\xfe\x00\x01garbage", "not a text file"),
    ],
)
def test_bad_csv_names_the_problem(tmp_path, text, message):
    f = bad(tmp_path, text)
    with pytest.raises(GanfitError, match=message):
        make_target(f"csv:path={f}")


def test_csv_unknown_column_and_unreadable(tmp_path):
    f = bad(tmp_path, "a\n1\n2\n")
    with pytest.raises(GanfitError, match="no column 'b' \\(columns: a\\)"):
        make_target(f"csv:path={f},column=b")
    with pytest.raises(GanfitError, match="is a directory"):
        make_target(f"csv:path={tmp_path}")
    if os.geteuid() != 0:  # root reads everything
        f.chmod(0)
        with pytest.raises(GanfitError, match="permission denied"):
            make_target(f"csv:path={f}")
    if os.path.exists("/proc/self/mem"):  # exists, but read() fails with an I/O error, even for root
        with pytest.raises(GanfitError, match="cannot read"):
            make_target("csv:path=/proc/self/mem")


# ---- the suite's targets: each sampler against its own law


ONE_D = [
    "laplace:loc=1,scale=2",
    "student_t:df=3,loc=-1,scale=0.5",
    "student_t:df=2.5",
    "lognormal:mu=0.5,sigma=0.4",
    "exponential:rate=2,loc=-1",
    "mog:means=-2;2,stds=0.5;0.5,weights=0.3;0.7",
    "mog:means=-3;0;4,stds=0.3;1;0.6,weights=0.2;0.5;0.3",
    "mog:means=0;1,stds=1",
]


@pytest.mark.parametrize("spec", ONE_D)
def test_one_d_samplers_follow_their_own_cdf_and_moments(spec):
    t = make_target(spec)
    x = draw(t, 40000)[:, 0]
    assert stats.kstest(x, t.dist.cdf).pvalue > 1e-3
    # the mean and std the metrics and the frame use are the law's (here up to sampling error)
    assert x.mean() == pytest.approx(t.mean[0], abs=5 * t.std[0] / np.sqrt(len(x)))
    if not spec.startswith("student_t"):  # t(3) has an infinite fourth moment: its sample std is too noisy
        assert x.std() == pytest.approx(t.std[0], rel=0.03)
    # the density is the CDF's derivative and integrates to 1
    grid = np.linspace(t.dist.ppf(1e-6), t.dist.ppf(1 - 1e-6), 200001)
    assert np.trapezoid(np.exp(t.logpdf(grid[:, None])), grid) == pytest.approx(1, abs=1e-4)


def test_mixture_quantile_function_inverts_its_cdf():
    t = make_target("mog:means=-3;0;4,stds=0.3;1;0.6,weights=0.2;0.5;0.3")
    q = np.linspace(1e-6, 1 - 1e-6, 1001)
    assert np.allclose(t.dist.cdf(t.dist.ppf(q)), q, atol=1e-12)
    assert list(t.weights) == [0.2, 0.5, 0.3] and t.modes[:, 0].tolist() == [-3, 0, 4]


def test_ring_has_all_its_modes_distinct_and_the_grid_is_the_veegan_one():
    ring = make_target("ring")
    assert ring.modes.shape == (8, 2) and ring.mode_stds.tolist() == [0.02] * 8
    assert np.allclose(np.linalg.norm(ring.modes, axis=1), 2.0)
    gaps = np.linalg.norm(ring.modes - np.roll(ring.modes, 1, 0), axis=1)
    assert np.allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8))  # evenly spaced: no repeated first angle
    grid = make_target("grid")
    assert sorted({tuple(m) for m in grid.modes}) == [(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)]
    assert grid.mode_stds.tolist() == [0.05] * 25 and np.allclose(grid.weights, 1 / 25)
    assert grid.columns == ["x", "y"] and grid.n_uniforms == 3


@pytest.mark.parametrize("spec", ["ring", "grid", "ring:modes=5,radius=1,std=0.2", "grid:n=3,spacing=1,std=0.3"])
def test_two_d_mixture_samplers_follow_their_marginals_and_mode_weights(spec):
    from ganfit.game.targets import Mixture1D

    t = make_target(spec)
    x = draw(t, 40000)
    for axis in (0, 1):  # each coordinate of an isotropic mixture is a 1-D mixture
        marginal = Mixture1D(t.modes[:, axis], t.mode_stds, t.weights)
        assert stats.kstest(x[:, axis], marginal.cdf).pvalue > 1e-3
    nearest = np.argmin(np.linalg.norm(x[:, None] - t.modes, axis=2), 1)
    counts = np.bincount(nearest, minlength=len(t.modes))
    if spec in ("ring", "grid"):  # well separated: the nearest mode is the one drawn
        assert stats.chisquare(counts).pvalue > 1e-3
    assert np.allclose(x.mean(0), t.mean, atol=5 * t.std.max() / np.sqrt(len(x)))
    assert np.allclose(x.std(0), t.std, rtol=0.02)


def test_two_d_mixture_density_integrates_to_one():
    t = make_target("ring:modes=3,radius=1,std=0.3")
    g = np.linspace(-3, 3, 601)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    dens = np.exp(t.logpdf(np.stack([xx, yy], -1)))
    assert dens.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1, abs=1e-6)


def test_spiral_and_moons_lie_on_their_curves_and_match_their_stated_moments():
    spiral = make_target("spiral:noise=0,scale=1")
    x = draw(spiral, 20000)
    r = np.linalg.norm(x, axis=1)  # t (cos t, sin t): the radius is t itself
    assert r.min() > 1.5 * np.pi - 1e-3 and r.max() < 4.5 * np.pi + 1e-3
    assert np.allclose(np.cos(r) * r, x[:, 0], atol=1e-3)
    moons = make_target("moons:noise=0")
    y = draw(moons, 20000)
    on_upper = np.isclose(np.linalg.norm(y, axis=1), 1, atol=1e-5) & (y[:, 1] >= -1e-6)
    on_lower = np.isclose(np.linalg.norm(y - [1, 0.5], axis=1), 1, atol=1e-5) & (y[:, 1] <= 0.5 + 1e-6)
    assert (on_upper | on_lower).all() and abs(on_upper.mean() - 0.5) < 0.02
    for spec in ("spiral", "moons:noise=0.1"):
        t = make_target(spec)
        z = draw(t, 40000)
        assert np.allclose(z.mean(0), t.mean, atol=0.02 * t.std.max()) and np.allclose(z.std(0), t.std, rtol=0.02)
        assert t.dim == 2 and not t.has_density and t.modes is None


def test_csv_with_two_columns_is_a_two_d_target(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,c\n1,10,x\n2,20,y\n4,30,z\n")
    t = make_target(f"csv:path={f},columns=a;b")
    assert t.dim == 2 and t.columns == ["a", "b"] and t.data.tolist() == [[1, 10], [2, 20], [4, 30]]
    x = draw(t, 3000)
    assert {tuple(row) for row in x.tolist()} == {(1.0, 10.0), (2.0, 20.0), (4.0, 30.0)}  # whole rows
    g = tmp_path / "g.csv"
    g.write_text("1,5\n2,6\n3,8\n")
    assert make_target(f"csv:path={g},columns=0;1").columns == ["x", "y"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mog:means=0;1,stds=1;1;1", "stds has 3 items, expected 2"),
        ("mog:means=0;1,weights=0.5;0.6", "weights must sum to 1, got 1.1"),
        ("mog:means=0;1,weights=1.5;-0.5", "weights\\[1\\] must be > 0"),
        ("mog:means=0;x", "'x' is not a number"),
        ("mog:means=0;;1", "has an empty item"),
        ("mog", "needs means=..."),
        ("student_t:df=2", "df must be > 2"),
        ("laplace:scale=0", "scale must be > 0"),
        ("lognormal:sigma=-1", "sigma must be > 0"),
        ("exponential:rate=0", "rate must be > 0"),
        ("ring:modes=0", "modes must be > 0"),
        ("grid:std=-0.1", "std must be > 0"),
        ("moons:noise=-1", "noise must be >= 0"),
        ("ring:modes=2.5", "'2.5' is not an integer"),
    ],
)
def test_bad_suite_specs_name_the_problem(spec, message):
    with pytest.raises(GanfitError, match=message):
        make_target(spec)


def test_bad_csv_column_choices(tmp_path):
    f = bad(tmp_path, "a,b,c\n1,2,3\n4,5,7\n")
    with pytest.raises(GanfitError, match="choose one with column=NAME or two with columns=A;B"):
        make_target(f"csv:path={f}")
    with pytest.raises(GanfitError, match="1-D or 2-D data"):
        make_target(f"csv:path={f},columns=a;b;c")
    with pytest.raises(GanfitError, match="not both"):
        make_target(f"csv:path={f},column=a,columns=a;b")
    with pytest.raises(GanfitError, match="no column 'z'"):
        make_target(f"csv:path={f},columns=a;z")
