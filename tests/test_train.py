import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganfit import Config, GanfitError, load, train


def test_seed_experiment_moves_fake_mean_towards_4():
    # Budget and threshold checked on 12 groups of 4 seeds (48 seeds): the median distance of the fake
    # mean from 4 fell from >= 3.15 to <= 1.11 in every group after 1,500 epochs.
    run = train(Config(seeds=4, seed=0, epochs=1500, log_every=1500, eval_samples=2000))
    first = np.array([r["mean"] for r in run.history if r["epoch"] == 0])
    last = np.array([r["mean"] for r in run.history if r["epoch"] == 1499])
    assert np.median(np.abs(first - 4)) > 3.0
    assert np.median(np.abs(last - 4)) < 1.75


def test_run_directory_is_complete_and_loads_back(tmp_path, tiny):
    out = tmp_path / "run"
    run = train(tiny.replace(seeds=3), out)
    names = {p.name for p in out.iterdir()}
    assert {"config.toml", "metrics.jsonl", "summary.json", "weights.safetensors", "checkpoint.safetensors"} <= names
    assert {"moments.png", "histogram.png"} <= names
    assert Config.from_toml(out / "config.toml") == run.config
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["member"]) for r in rows[:4]] == [(0, 0), (0, 1), (0, 2), (20, 0)]
    assert {r["epoch"] for r in rows} == {0, 20, 40, 59}
    assert {"mean", "std", "skew", "kurtosis", "ks", "w1", "d_loss_real", "d_loss_fake", "g_loss"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["members_total"] == 3 and len(summary["members"]) == 3
    assert summary["learned"] == sum(m["learned"] for m in summary["members"])
    assert summary["median"]["ks"] == pytest.approx(np.median([m["ks"] for m in summary["members"]]))
    assert "|mean - 4| < 0.5" in summary["criterion"]
    weights = load_file(out / "weights.safetensors")
    assert weights["G.weights.1"].shape == (3, 50, 50) and weights["D.weights.0"].shape == (3, 200, 50)
    back = load(out)
    for k in range(3):
        assert np.array_equal(back.sample(100, member=k, seed=1), run.sample(100, member=k, seed=1))
    assert back.history == run.history


@pytest.mark.bits
def test_repeating_a_run_from_its_config_is_bit_identical(tmp_path, tiny):
    a = train(tiny, tmp_path / "a")
    b = train(Config.from_toml(tmp_path / "a" / "config.toml"), tmp_path / "b")
    assert (tmp_path / "a" / "metrics.jsonl").read_bytes() == (tmp_path / "b" / "metrics.jsonl").read_bytes()
    for p, q in zip(a.G.parameters(), b.G.parameters()):
        assert torch.equal(p, q)


def test_any_location_and_scale_trains_like_the_default():
    # N(400, 0.05) in the working frame is N(4, 1.25): the same game, to float rounding, as the default.
    far = train(Config(target="gaussian:mean=400,std=0.05", epochs=300, log_every=100, eval_samples=2000))
    ref = train(Config(epochs=300, log_every=100, eval_samples=2000))
    assert far.summary["median"]["mean"] == pytest.approx(400 + (ref.summary["median"]["mean"] - 4) * 0.04, abs=2e-3)
    assert far.summary["median"]["std"] == pytest.approx(ref.summary["median"]["std"] * 0.04, rel=1e-2)
    assert far.summary["median"]["ks"] == pytest.approx(ref.summary["median"]["ks"], abs=0.02)
    x = far.sample(5000)
    assert abs(x.mean() - far.summary["median"]["mean"]) < 0.01


def test_normalize_off_leaves_data_in_its_units():
    run = train(Config(target="uniform:low=0,high=1", normalize=False, epochs=5, log_every=5, eval_samples=100))
    assert run.frame.is_identity()
    on = train(Config(target="uniform:low=0,high=1", epochs=5, log_every=5, eval_samples=100))
    assert on.frame.scale[0] == pytest.approx(1.25 / (1 / 12) ** 0.5)


def test_out_that_already_holds_files_is_refused(tmp_path, tiny):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(GanfitError, match="already exists and is not an empty directory"):
        train(tiny, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("engine", ["fast", "autograd"])
def test_g_ema_averages_g_every_epoch_and_is_the_g_the_run_keeps(tmp_path, tiny, engine):
    from ganfit.game import Game
    from ganfit.game.rng import member_keys

    config = tiny.replace(g_ema=0.9, seeds=2, gradients=engine)
    game = Game.build(config)
    start = [p.detach().clone() for p in game.G.parameters()]
    drawn = game.draw(member_keys([0, 1], "train"), 0, 2)
    game.step(*drawn.at(0))
    live = [p.detach().clone() for p in game.G.parameters()]
    d1, d2 = 2 / 11, 3 / 12  # the warm-up's decays at epochs 1 and 2 (below g_ema = 0.9)
    for e, s, p in zip(game.ema, start, live):
        assert not torch.equal(s, p)
        assert torch.allclose(e, d1 * s + (1 - d1) * p, atol=1e-7)
    game.step(*drawn.at(1))
    for e, s, p, q in zip(game.ema, start, live, game.G.parameters()):
        assert torch.allclose(e, d2 * (d1 * s + (1 - d1) * p) + (1 - d2) * q.detach(), atol=1e-7)

    # The run's saved G is the average, and a resumed run averages on exactly as an unbroken one.
    whole = train(config, tmp_path / "whole")
    train(config.replace(epochs=40), tmp_path / "half")
    from ganfit import rundir

    resumed = train(rundir.reopen(tmp_path / "half", 60), tmp_path / "half", resume=True)
    assert (tmp_path / "whole" / "weights.safetensors").read_bytes() == (
        tmp_path / "half" / "weights.safetensors"
    ).read_bytes()
    plain = train(config.replace(g_ema=0.0))
    assert not torch.equal(whole.G.weights[0], plain.G.weights[0])
    assert resumed.summary["median"]["ks"] == whole.summary["median"]["ks"]


@pytest.mark.bits
def test_a_run_stopped_during_its_lr_decay_resumes_bit_for_bit(tmp_path, tiny):
    import os
    import signal

    class StopAt:  # a SIGTERM at the log row of epoch 40, in the last half where the rates fall
        def start(self, *args):
            pass

        def update(self, epoch, line):
            if epoch == 40:
                os.kill(os.getpid(), signal.SIGTERM)

        def close(self):
            pass

    config = tiny.replace(lr_decay=0.5, seeds=2, checkpoint_every=10, gradients="autograd")
    whole = train(config, tmp_path / "whole")
    part = train(config, tmp_path / "part", progress=StopAt())
    assert part.summary["status"] == "interrupted" and 40 < part.summary["epochs"] < 60
    train(config, tmp_path / "part", resume=True)
    for name in ("weights.safetensors", "metrics.jsonl"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "part" / name).read_bytes()
    plain = train(config.replace(lr_decay=0.0))
    assert not torch.equal(whole.G.weights[0], plain.G.weights[0])


def test_the_thread_choice_reads_what_runs_now_not_the_minutes_average():
    from ganfit.game.plan import busy_cores

    assert busy_cores("3.95 2.10 1.00 1/345 9999\n", own=1) == 0  # a run just ended: the average lags, the count not
    assert busy_cores("0.10 0.10 0.10 3/345 9999\n", own=1) == 2  # two other busy tasks beside this one
    assert busy_cores("0.10 0.10 0.10 3/345 9999\n", own=3) == 0  # all three this process's own
    assert busy_cores() >= 0


def test_the_thread_choice_does_not_count_this_processs_own_busy_threads_as_other_work():
    """A thread of this process that is busy (as torch's OpenMP threads spin after an op) is its own, not
    another process's: counted as other work it halved the critics' threads of `ganfit fit`."""
    import threading

    from ganfit.game.plan import running_threads

    done = threading.Event()
    x = torch.randn(400, 400)

    def spin():
        while not done.is_set():
            x @ x  # the GIL released inside: this thread runs or waits for a core, as OpenMP's spin

    worker = threading.Thread(target=spin)
    worker.start()
    try:
        seen = max(running_threads() for _ in range(200))
    finally:
        done.set()
        worker.join()
    assert seen >= 2 and running_threads() >= 1


def test_metric_rows_run_torch_on_one_thread_of_their_own():
    # by default the worker's first op would start a second OpenMP team as wide as the machine, whose
    # threads contend with training's at every op (a 2-thread run of robust1d at K = 16 ran 3x slower)
    from ganfit.game import Game
    from ganfit.metric_log import Loop, MetricLog

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        log = MetricLog(Loop(Game.build(Config(seeds=1)), None, None))
        assert log.worker.submit(torch.get_num_threads).result() == 1
        assert torch.get_num_threads() == 2  # training's own count is left as it was
        log.close()
    finally:
        torch.set_num_threads(before)


def test_the_compiled_step_takes_at_most_one_thread_per_member():
    from ganfit.game.plan import default_threads

    assert default_threads(Config(seeds=1)) == 1
    assert 1 <= default_threads(Config(seeds=8)) <= min(8, os.cpu_count() or 1)
    assert default_threads(Config(seeds=8, threads=3)) == 3  # asked for: as asked
