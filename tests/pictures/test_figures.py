"""The pictures: snapshots taken at log rows, the 1-D and 2-D views, the animation and the curves."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats

from ganfit import Config, GanfitError, train
from ganfit.game.losses import LOSSES
from ganfit.game.targets import make_target
from ganfit.pictures import figures, panels
from ganfit.pictures.hook import Snapshots
from ganfit.pictures.snapdata import SNAPSHOTS, SnapData

SMALL = dict(epochs=120, log_every=20, eval_samples=500, pictures=True)


@pytest.fixture(scope="module")
def sample_view_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pics") / "run"
    return train(Config(seeds=2, d_view="sample", snapshot_every=40, **SMALL), out)


def test_snapshots_are_taken_every_n_epochs_at_log_rows(sample_view_run):
    s = SnapData.load(sample_view_run.dir / SNAPSHOTS)
    assert s.epochs.tolist() == [0, 40, 80, 119]  # every 40 epochs at a log row, and the last one
    assert s["hist"].shape == (4, 256)
    assert np.all(s["hist"].sum(1) + s["outside"].sum(1) == 500)  # every eval sample counted once
    assert s["verdict"].shape == (4, 2, 2) and np.all((s["verdict"] >= 0) & (s["verdict"] <= 1))


def test_last_snapshot_is_the_trained_networks(sample_view_run):
    # G's map and D's curve of the last frame are what the final weights compute on the same grids
    run, s = sample_view_run, SnapData.load(sample_view_run.dir / SNAPSHOTS)
    z = torch.as_tensor(s["z_line"]).reshape(1, -1, 1)
    with torch.no_grad():
        g = run.G.member(0)(z)[0, :, 0].numpy()
        d = torch.sigmoid(run.D.member(0)(torch.as_tensor(s["x_grid"]).reshape(1, -1, 1)))[0, :, 0].numpy()
    assert np.allclose(s["g_map"][-1], g, atol=1e-5)
    assert np.allclose(s["d_grid"][-1], d, atol=1e-5)


def test_with_g_ema_the_snapshots_show_the_averaged_g_that_is_saved(tmp_path):
    run = train(Config(seeds=2, d_view="sample", g_ema=0.9, **SMALL), tmp_path / "run")
    s = SnapData.load(run.dir / SNAPSHOTS)
    with torch.no_grad():
        g = run.G.member(0)(torch.as_tensor(s["z_line"]).reshape(1, -1, 1))[0, :, 0].numpy()
    assert np.allclose(s["g_map"][-1], g, atol=1e-5)  # run.G holds the average at the end


def test_1d_pictures_are_written_and_the_gif_has_a_frame_per_snapshot(sample_view_run):
    d = sample_view_run.dir
    for name in ("distribution.png", "discriminator.png", "generator.png", "curves.png"):
        with Image.open(d / name) as im:
            assert im.format == "PNG" and im.size[0] > 400
    with Image.open(d / "evolution.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 4


def synthetic_1d(fake: np.ndarray, target, **meta) -> SnapData:
    lo, hi = 4 - 8 * 1.25, 4 + 8 * 1.25
    edges = np.linspace(lo, hi, 257)
    counts = np.histogram(fake, edges)[0].astype(float)
    m = {"scale": [1.0], "shift": [0.0], "lo": [lo], "hi": [hi], "noise_dim": 1, "noise_kind": "uniform"}
    arrays = {
        "hist": counts[None],
        "outside": np.array([[np.sum(fake < lo), np.sum(fake > hi)]], float),
        "z_line": np.linspace(0.0005, 0.9995, 256),
    }
    return SnapData(m | meta, np.array([0]), arrays)


def test_optimal_d_is_one_half_where_g_matches_the_target_and_the_map_is_the_quantile_map():
    target = make_target("gaussian:mean=4,std=1.25")
    s = synthetic_1d(stats.norm(4, 1.25).ppf((np.arange(200_000) + 0.5) / 200_000), target)
    x, d_star = panels.optimal_d(s, 0, target)
    bulk = np.abs(x - 4) < 2 * 1.25
    assert np.nanmax(np.abs(d_star[bulk] - 0.5)) < 0.03
    shifted = synthetic_1d(stats.norm(5, 1.25).ppf((np.arange(200_000) + 0.5) / 200_000), target)
    x, d_star = panels.optimal_d(shifted, 0, target)
    assert d_star[np.argmin(np.abs(x - 2))] > 0.75 and d_star[np.argmin(np.abs(x - 7))] < 0.25  # D* favours data
    z, best = panels.optimal_map(s, target)
    assert np.allclose(best, 4 + 1.25 * stats.norm.ppf(z))  # the README's 4 + 1.25 Phi^-1(z) on uniform z
    normal = SnapData(s.meta | {"noise_kind": "normal"}, s.epochs, s.arrays | {"z_line": np.linspace(-3, 3, 7)})
    assert np.allclose(panels.optimal_map(normal, target)[1], 4 + 1.25 * np.linspace(-3, 3, 7))


def test_batch_d_gets_a_verdict_over_epochs_not_d_of_x(tmp_path):
    run = train(Config(**SMALL), tmp_path / "r")  # the seed's minibatch view
    s = SnapData.load(tmp_path / "r" / SNAPSHOTS)
    assert not s.has("d_grid") and s["verdict"].shape == (len(s.epochs), 1, 2)
    assert run.config.snapshot_every == 0 and s.epochs.tolist() == [0, 20, 40, 60, 80, 100, 119]  # auto: each log row
    assert (tmp_path / "r" / "discriminator.png").is_file()


def test_2d_views_show_d_heat_points_and_pushes_that_lower_g_loss(tmp_path):
    cfg = Config(target="ring", noise="normal:dim=2", d_view="sample", seeds=1, **SMALL)
    run = train(cfg, tmp_path / "r")
    s = SnapData.load(tmp_path / "r" / SNAPSHOTS)
    F = len(s.epochs)
    assert s["heat"].shape == (F, 64, 64) and s["fake"].shape == (F, 500, 2) and s["arrows"].shape == (F, 500, 2)
    assert s["warp"].shape[0] == F and tuple(s["warp_shape"]) == (26, 64)
    # the arrows are -grad of G's loss: a small step along them lowers it (with the final D)
    x = torch.as_tensor(s["fake"][-1])[None]
    step = torch.as_tensor(s["arrows"][-1])[None]
    step = step / step.norm(dim=2, keepdim=True).max()
    with torch.no_grad():
        loss = [LOSSES["bce"].g(run.D.member(0)(x + e * step)).sum() for e in (0.0, 1e-3)]
    assert loss[1] < loss[0]
    for name in ("field.png", "warp.png", "discriminator.png", "evolution.gif"):
        assert (tmp_path / "r" / name).stat().st_size > 1000


def test_2d_batch_d_still_gets_pushes_but_no_heat_map(tmp_path):
    train(Config(target="grid:n=3", noise="uniform:dim=2", **SMALL), tmp_path / "r")
    s = SnapData.load(tmp_path / "r" / SNAPSHOTS)
    assert not s.has("heat") and s["arrows"].shape == s["fake"].shape == (len(s.epochs), 500, 2)
    assert np.isfinite(s["arrows"]).all()


def test_pictures_off_means_no_snapshots():
    from types import SimpleNamespace

    game = SimpleNamespace(config=Config())
    assert Snapshots.start(game, None, None) is None
    assert Snapshots.start(SimpleNamespace(config=Config(pictures=True)), None, None) is None  # no run directory
    with pytest.raises(GanfitError, match="snapshot_every must be >= 0"):
        Config(snapshot_every=-1).validate()


def test_curves_cover_every_numeric_field_and_skip_the_rest(tmp_path):
    rows = [
        {
            "epoch": e,
            "member": k,
            "seed": k,
            "status": "ok",
            "learned": k == 0,
            "g_loss": 1.0 + k,
            "ks": None,
            "mmd": 0.1,
        }
        for e in (0, 10)
        for k in range(3)
    ]
    assert figures.curve_names(rows) == ["g_loss", "ks", "mmd"]
    epochs, v = figures.history_matrix(rows, "g_loss")
    assert epochs.tolist() == [0, 10] and v[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(figures.history_matrix(rows, "ks")[1]).all()
    figures.curves(rows, tmp_path / "c.png", {"g_loss": 1.5})
    with Image.open(tmp_path / "c.png") as im:
        assert im.size[0] > 800


def test_gif_drawn_by_the_painter_process_is_the_one_drawn_here_and_a_dead_painter_is_replaced(
    sample_view_run, tmp_path
):
    from ganfit.pictures import animate, painter

    d, spec = sample_view_run.dir, sample_view_run.config.target
    s, target = SnapData.load(d / SNAPSHOTS), make_target(spec)
    here = animate.evolution(s, target, tmp_path / "here.gif").read_bytes()
    assert d.joinpath("evolution.gif").read_bytes() == here
    job = painter.submit(d / SNAPSHOTS, spec, tmp_path / "there.gif")
    assert job is not None  # the suite runs on 2 cores
    child = job[0]
    assert painter.collect(job) == tmp_path / "there.gif" and (tmp_path / "there.gif").read_bytes() == here

    child.kill()  # a painter that died: the picture is drawn here instead
    child.wait()
    out = figures.run_pictures(tmp_path, target, [], snaps=s, gif=(child, str(tmp_path / "evolution.gif")))
    assert tmp_path / "evolution.gif" in out and (tmp_path / "evolution.gif").read_bytes() == here
    fresh = painter.start()  # and the next run gets a fresh painter
    assert fresh is not child and fresh.poll() is None
    # a job answered but never collected (its run failed) is not taken for the next one's answer
    painter.submit(d / SNAPSHOTS, spec, tmp_path / "lost.gif")
    assert painter.collect(painter.submit(d / SNAPSHOTS, spec, tmp_path / "next.gif")) is None


def test_the_painter_neither_reruns_a_users_script_nor_outlives_its_parent(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    # a library user's script, with no `if __name__ == "__main__"` guard
    script = tmp_path / "user.py"
    script.write_text(
        "import os, sys\n"
        "from ganfit import Config, train\n"
        "open(sys.argv[1], 'a').write('ran\\n')\n"
        "train(Config(epochs=60, log_every=20, eval_samples=500, pictures=True), sys.argv[2])\n"
        "from ganfit.pictures import painter\n"
        "print(painter.start().pid, flush=True)\n"
        "if len(sys.argv) > 3: os.kill(os.getpid(), 9)\n"
    )
    log = tmp_path / "log.txt"
    out = subprocess.run([sys.executable, str(script), str(log), str(tmp_path / "run")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert log.read_text() == "ran\n" and (tmp_path / "run" / "evolution.gif").is_file()
    killed = subprocess.run(
        [sys.executable, str(script), str(log), str(tmp_path / "run2"), "die"], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL
    pid = int(killed.stdout.split()[-1])
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the painter outlived its parent")


# ---- each picture says what it draws and its axes hold the data


@pytest.fixture(scope="module")
def runs_1d_2d(tmp_path_factory):
    """{dim: (history, member 0's final samples [1, N, dim], target)} of a short 1-D run and a short ring."""
    base, out = tmp_path_factory.mktemp("kinds"), {}
    quick = dict(seeds=2, epochs=120, log_every=20, eval_samples=500)
    for dim, cfg in ((1, Config(**quick)), (2, Config(target="ring", noise="normal:dim=2", d_view="sample", **quick))):
        run = train(cfg, base / f"d{dim}")
        out[dim] = (run.history, run.sample(1000, 0)[None], make_target(cfg.target))
    return out


def holds(lim, values) -> bool:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return v.size > 0 and lim[0] <= v.min() and v.max() <= lim[1]


@pytest.mark.parametrize("dim", [1, 2])
def test_moments_titles_name_what_is_drawn_and_the_axes_hold_it(runs_1d_2d, dim):
    history, _, target = runs_1d_2d[dim]
    fig = figures.moments_figure(history, target)
    titles = [ax.get_title() for ax in fig.axes]
    if dim == 1:
        assert titles == ["generated mean", "generated std"]
    else:
        assert titles == ["sliced W1 to the target", "high-quality fraction (within 3 std of a mode)"]
    assert fig.get_suptitle().startswith(f"{figures.moments_what(target)} over epochs\n{target.describe()}")
    assert ("mean and std" in fig.get_suptitle()) == (dim == 1)
    for ax, (name, truth) in zip(fig.axes, figures.moment_pairs(target), strict=True):
        epochs, v = figures.history_matrix(history, name)
        assert ax.get_xlim() == (epochs.min(), epochs.max()) == (0, 119)
        assert holds(ax.get_ylim(), [*v.ravel(), np.nan if truth is None else truth])


@pytest.mark.parametrize("dim", [1, 2])
def test_histogram_titles_name_what_is_drawn_and_the_axes_hold_the_data(runs_1d_2d, dim):
    _, samples, target = runs_1d_2d[dim]
    samples = samples.copy()
    samples[0, 0] = 60.0 if dim == 1 else (6.0, -5.0)  # one sample far off
    fig = figures.histogram_figure(samples, target)
    (ax,) = fig.axes
    x = samples[0]
    if dim == 1:
        assert ax.get_title() == "member 0's final samples over the target's density"
        lo, hi = ax.get_xlim()
        mu, sd = target.mean[0], target.std[0]
        assert lo <= mu - 4.5 * sd and hi >= mu + 4.5 * sd and np.mean((x >= lo) & (x <= hi)) >= 0.997
        outside = int(np.sum((x < lo) | (x > hi)))  # the far sample among them, and said in the legend
        assert outside >= 1 and f"; {outside} outside the axes" in ax.get_legend().get_texts()[-1].get_text()
    else:
        assert ax.get_title() == f"{target.describe()}: member 0's final samples over the target's modes"
        points = np.concatenate([target.modes, x])
        for lim, v in ((ax.get_xlim(), points[:, 0]), (ax.get_ylim(), points[:, 1])):
            assert holds(lim, v) and lim[0] < v.min() - 0.04 * np.ptp(v) and lim[1] > v.max() + 0.04 * np.ptp(v)
        assert ax.get_aspect() == 1.0 and np.isclose(np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim()))


@pytest.mark.parametrize("dim", [1, 2])
def test_curves_panels_span_the_whole_run_and_say_when_nothing_is_finite(runs_1d_2d, dim):
    history, _, target = runs_1d_2d[dim]
    fig = figures.curves_figure(history, figures.truths(target))
    names = figures.curve_names(history)
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == [n.replace("_", " ") for n in names] + ["fraction of members learned"]
    assert all(ax.get_xlim() == (0, 119) for ax in panels)
    empty = []
    for ax, name in zip(panels, names):
        nothing = not np.isfinite(figures.history_matrix(history, name)[1]).any()
        assert [t.get_text() for t in ax.texts] == (["no finite values"] if nothing else [])
        empty += [name] * nothing
    assert empty == ([] if dim == 1 else ["reverse_kl"])  # the ring captures no mode in 120 epochs


def test_a_metric_finite_at_one_epoch_is_drawn_as_a_point_on_the_whole_run():
    rows = [
        {"epoch": e, "member": k, "g_loss": 1.0, "reverse_kl": 0.3 if (e, k) == (600, 0) else None}
        for e in range(0, 601, 50)
        for k in range(2)
    ]
    fig = figures.curves_figure(rows)
    ax = next(ax for ax in fig.axes if ax.get_title() == "reverse kl")
    assert ax.get_xlim() == (0, 600) and not ax.texts
    member0 = next(line for line in ax.lines if line.get_label() == "member 0")
    assert member0.get_marker() == "." and holds(ax.get_ylim(), [0.3])


def test_compare_draws_each_runs_median_labelled_by_its_name(runs_1d_2d):
    h = runs_1d_2d[1][0]
    later = [r | {"epoch": r["epoch"] + 100, "ks": r["ks"] + 1} for r in h]
    histories = {"a $x$": h, "_b": later, "empty": [], "nulls": [r | {"ks": None} for r in h]}
    assert figures.compare_names(histories)[:3] == list(figures.LOSS_NAMES) and "ks" in figures.compare_names(histories)
    (ax,) = figures.compare_figure(histories, "ks").axes
    assert ax.get_title() == "ks: each run's ensemble median"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [r"a \$x\$", " _b", "empty", "nulls"]
    median = np.median(figures.history_matrix(h, "ks")[1], 0)
    assert np.allclose(ax.lines[0].get_ydata(), median) and np.allclose(ax.lines[1].get_ydata(), median + 1)
    assert ax.get_xlim() == (0, 219) and holds(ax.get_ylim(), [*median, *(median + 1)])
    (ax,) = figures.compare_figure({"nulls": histories["nulls"]}, "ks").axes
    assert [t.get_text() for t in ax.texts] == ["no finite values"] and ax.get_legend() is None
