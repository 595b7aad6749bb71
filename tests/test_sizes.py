"""Huge sizes, refused in one line before anything is allocated: counts past their maximum, targets
whose modes or moments blow up, a run that would not fit in memory, sweeps and criteria too big or too
deep, TOML files nested too deeply or that are not files, and Config's unknown keywords."""

import dataclasses
import os
import sys

import numpy as np
import pytest

from ganfit import Config, GanfitError, budget, cli, train
from ganfit.config import FIELDS, MAX, MAX_LOG_ROWS, MAX_SNAPSHOTS, MAX_TOML_BYTES, ConfigError
from ganfit.game.targets import MAX_MODES, make_target
from ganfit.sweep import criteria
from ganfit.sweep.file import MAX_POINTS, MAX_VALUES, load

QUICK = "[base]\nepochs = 4\nlog_every = 2\neval_samples = 100\ncheckpoint_every = 2\n"


def refused(capsys, argv: list[str], *words: str) -> None:
    """`ganfit ARGV` exits 2 with one line naming the problem, and writes no run directory."""
    out = [a for a in argv if a.endswith("run")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganfit: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    assert not any(os.path.exists(p) for p in out)


@pytest.fixture
def no_build(monkeypatch):
    """Game.build fails the test: a refusal must come before the weights are allocated."""
    from ganfit import training

    monkeypatch.setattr(training.Game, "build", lambda config: pytest.fail("Game.build ran"))


@pytest.fixture
def memory(monkeypatch):
    """This machine has 16 GB available, wherever the test runs."""
    monkeypatch.setattr(budget, "host_available", lambda: 16 * 10**9)


# ---- 1. counts with a maximum


def test_every_int_field_has_a_maximum():
    assert {n for n, f in FIELDS.items() if f.type == "int"} == set(MAX)
    assert "(at most 1,000,000,000)" in Config.__doc__  # the maxima are documented with the fields


@pytest.mark.parametrize("name", sorted(MAX))
def test_each_count_is_accepted_at_its_maximum_and_refused_past_it(name):
    room = {"log_every": 10**6} if name == "epochs" else {}  # so that the metric rows stay under theirs
    Config(**{name: MAX[name]}, **room).validate()
    with pytest.raises(GanfitError, match=f"^{name} must be at most {MAX[name]:,}, got {MAX[name] + 1:,}$"):
        Config(**{name: MAX[name] + 1}, **room).validate()


@pytest.mark.parametrize(
    "flag, value, words",
    [
        ("--epochs", "1000000000000", ["epochs must be at most 1,000,000,000"]),
        ("--epochs", "99999999999999999999999", ["epochs must be at most"]),  # past int64
        ("--batch", "1000000000", ["batch must be at most 1,000,000"]),
        ("--g-hidden", "100000000", ["g_hidden must be at most 100,000"]),
        ("--d-hidden", "100000000", ["d_hidden must be at most 100,000"]),
        ("--seeds", "2000000", ["seeds must be at most 1,048,576"]),
        ("--threads", "1000000", ["threads must be at most 256"]),
        ("--eval-samples", "1000000000", ["eval_samples must be at most 1,000,000"]),
        ("--d-steps", "1000000000", ["d_steps must be at most 1,000"]),
        ("--seed", "99999999999999999999999", ["seed must be at most 9,007,199,254,740,992"]),
        ("--early-stop-patience", "1" + "0" * 24, ["early_stop_patience must be at most 100,000"]),
        ("--checkpoint-every", "1" + "0" * 30, ["checkpoint_every must be at most"]),
        ("--lr-d", "1" + "0" * 400, ["lr_d", "not a finite number"]),
    ],
)
def test_huge_counts_on_the_command_line_are_one_line(capsys, tmp_path, flag, value, words):
    refused(capsys, ["train", flag, value, "--out", str(tmp_path / "run")], *words)


def test_metric_rows_and_snapshots_have_a_maximum(capsys, tmp_path):
    out = str(tmp_path / "run")
    refused(capsys, ["train", "--epochs", "100000000", "--log-every", "1", "--out", out], "100,000,000 metric rows")
    args = ["--pictures", "--snapshot-every", "1", "--log-every", "1", "--epochs", "100000"]
    refused(capsys, ["train", *args, "--out", out], "100,000 snapshots", f"at most {MAX_SNAPSHOTS:,}")
    assert Config(epochs=MAX_LOG_ROWS, log_every=1).validate().log_rows() == MAX_LOG_ROWS
    assert Config(epochs=10**9, log_every=10**6, pictures=True).validate().snapshots() <= 52  # auto: about 50


@pytest.mark.parametrize("epochs, every", [(1, 1), (5, 1), (5, 2), (6, 2), (7, 3), (30000, 200), (30001, 200)])
def test_log_rows_counts_the_rows_logs_at_makes(epochs, every):
    c = Config(epochs=epochs, log_every=every)
    assert c.log_rows() == sum(c.logs_at(e) for e in range(epochs))


@pytest.mark.parametrize(
    "text, message",
    [
        ("epochs = 99999999999999999999999", "epochs must be at most 1,000,000,000"),
        ("epochs = " + "9" * 5000, "cannot read .*4300 digits"),
        ("lr_d = 1" + "0" * 400, "lr_d.*not a finite number"),
        ("per_member = 'seed=" + "9" * 30 + "'", "per_member: seed = 9+ is out of range"),
    ],
)
def test_huge_numbers_in_a_config_file_are_one_line(tmp_path, text, message):
    f = tmp_path / "c.toml"
    f.write_text(text + "\n")
    with pytest.raises(GanfitError, match=message):
        Config.from_toml(f)


# ---- 2. targets: caps on modes, finite moments


@pytest.mark.parametrize(
    "spec, message",
    [
        ("ring:modes=1000000000", "target 'ring': modes gives 1,000,000,000 modes, at most 1,000"),
        ("ring:modes=" + "9" * 40, "target 'ring': modes gives 9"),
        ("grid:n=100000", "target 'grid': n=100000 gives 10,000,000,000 modes, at most 1,000"),
        ("mog:means=" + ";".join(["0"] * 100_000), "target 'mog': means gives 100,000 modes"),
        ("lognormal:mu=800", "target 'lognormal': with mu=800 its mean and std overflow"),
        ("lognormal:sigma=30", "target 'lognormal': with sigma=30 its mean and std"),
        ("lognormal:mu=-800", "target 'lognormal': with mu=-800 its mean and std are nan and nan"),
        ("exponential:rate=1e-320", "target 'exponential': with rate=1e-320 its mean and std are inf and inf"),
        ("exponential:rate=1e-300", "with rate=1e-300 its mean and std are 1e\\+300"),  # finite, not in float32
        ("gaussian:mean=1e300", "target 'gaussian': with mean=1e300"),
        ("gaussian:std=1e-40", "target 'gaussian': with std=1e-40"),
        ("uniform:low=-1e308,high=1e308", "target 'uniform': with low=-1e308, high=1e308"),
        ("moons:noise=1e200", "target 'moons': with noise=1e200 its mean and std overflow"),
        ("spiral:scale=1e-320", "target 'spiral': with scale=1e-320"),
        ("ring:radius=1e300", "target 'ring': with radius=1e300"),
        ("mog:means=1e300;-1e300", "target 'mog': with means=1e300;-1e300"),
    ],
)
def test_targets_with_too_many_modes_or_moments_past_float32_are_one_line(spec, message):
    with pytest.raises(GanfitError, match=message) as e:
        make_target(spec)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_targets_at_the_limits_still_build():
    assert len(make_target(f"ring:modes={MAX_MODES}").modes) == MAX_MODES
    assert len(make_target("grid:n=31").modes) == 961
    t = make_target("lognormal:mu=20,sigma=1")
    assert np.isfinite(np.float32(t.mean)).all() and np.isfinite(np.float32(t.std)).all()


def test_a_bad_target_on_the_command_line_is_one_line(capsys, tmp_path, no_build):
    refused(capsys, ["train", "--target", "lognormal:mu=800", "--out", str(tmp_path / "run")], "mu=800")
    refused(capsys, ["train", "--target", "grid:n=100000", "--out", str(tmp_path / "run")], "at most 1,000")


# ---- 3. the memory estimate, before anything is allocated


def test_the_default_run_is_small_and_passes():
    parts = budget.estimate(Config())
    assert sum(p.nbytes for p in parts) < 100e6
    budget.check(Config())


def test_a_run_that_would_not_fit_is_refused_before_the_weights(capsys, tmp_path, memory, no_build):
    argv = ["train", "--seeds", "1000", "--batch", "100000", "--out", str(tmp_path / "run")]
    refused(
        capsys,
        argv,
        "this run needs about 500.",
        "GB (1,000 members x batch 100,000: D's weights and optimiser state 320.1 GB",
        "and this machine has 16.0 GB available: use fewer members, a smaller batch or smaller nets",
    )
    with pytest.raises(GanfitError, match="needs about"):
        train(Config(seeds=1000, batch=100_000))


@pytest.mark.parametrize(
    "changes, part, hint",
    [
        ({"g_hidden": 100_000}, "G's weights", "smaller nets"),
        ({"noise": "uniform:dim=1000000000"}, "the eval samples", "eval_samples"),
        ({"seeds": 10_000, "eval_samples": 1_000_000}, "the eval samples", "fewer members or eval_samples"),
        ({"seeds": 10_000, "epochs": 5 * 10**7, "log_every": 1000}, "the metric rows", "a larger log_every"),
        ({"seeds": 100, "batch": 1_000_000, "d_view": "sample"}, "a step's activations", "smaller nets"),
        ({"seeds": 10, "batch": 1_000_000}, "D's weights", "smaller nets"),  # the minibatch view: 2,000,000 wide
    ],
)
def test_the_refusal_names_the_biggest_part_and_what_shrinks_it(memory, no_build, changes, part, hint):
    with pytest.raises(GanfitError, match="needs about") as e:
        train(Config(**changes))
    assert part in str(e.value) and hint in str(e.value)


def test_the_estimate_counts_ds_input_as_wide_as_the_batch():
    def part(config, what):
        return next(p.nbytes for p in budget.estimate(config) if p.what.startswith(what))

    small, wide = Config(seeds=10, batch=1000), Config(seeds=10, batch=10_000)
    assert part(wide, "D's") / part(small, "D's") == pytest.approx(10, rel=0.03)
    layers = 2000 * 50 + 50 + 50 * 50 + 50 + 50 + 1  # batch 1,000 x dim 1 x (value, squared deviation) -> 50 -> 50 -> 1
    assert part(small, "D's") == 10 * layers * budget.PER_PARAM * 4
    assert part(Config(seeds=20, batch=1000), "D's") == 2 * part(small, "D's")


def test_memory_available_from_meminfo_sysconf_or_a_cgroup(tmp_path, monkeypatch):
    assert budget.host_available() > 0
    monkeypatch.setattr(budget, "MEMINFO", str(tmp_path / "none"))
    assert budget.host_available() == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    (tmp_path / "memory.max").write_text("1000000\n")
    (tmp_path / "memory.current").write_text("400000\n")
    monkeypatch.setattr(budget, "CGROUP", str(tmp_path))
    assert budget.host_available() == 600_000


def test_a_cuda_run_compares_the_device_part_with_the_devices_memory(monkeypatch, no_build):
    monkeypatch.setattr(budget, "device_available", lambda device: 10**9)
    monkeypatch.setattr(budget, "host_available", lambda: 10**12)
    with pytest.raises(GanfitError, match="and cuda:0 has 1.0 GB available"):
        budget.check(Config(device="cuda:0", seeds=100, batch=100_000))


# ---- 4. sweeps and criteria


def test_a_sweep_of_too_many_points_is_refused_before_building_them(tmp_path):
    f = tmp_path / "s.toml"
    axes = "lr_d = {range = [1e-4, 1e-3], num = 10000}\nlr_g = {log = [1e-4, 1e-3], num = 10000}\n"
    f.write_text(QUICK + "[axes]\n" + axes)
    with pytest.raises(GanfitError, match=f"10,000 x 10,000 = 100,000,000 points, at most {MAX_POINTS:,}"):
        load(f)
    f.write_text(QUICK + "[axes]\nlr_d = [1e-4, 2e-4]\nbeta1 = {uniform = [0.1, 0.9], count = 10000}\n")
    with pytest.raises(GanfitError, match="2 x 10,000 = 20,000 points"):
        load(f)


def test_a_list_axis_has_at_most_so_many_values(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(QUICK + "[axes]\nlr_d = [" + ", ".join(f"{1e-4 + i * 1e-9:.9g}" for i in range(100_000)) + "]\n")
    refused(capsys, ["sweep", str(f), "--out", str(tmp_path / "run")], f"100,000 values, at most {MAX_VALUES:,}")


@pytest.mark.parametrize(
    "text, message",
    [
        ("(" * 200 + "ks < 1" + ")" * 200, f"nested more than {criteria.MAX_DEPTH} deep"),
        (" + ".join(["ks"] * 1000) + " < 1", "success criterion of 5,001 characters: at most 1,000"),
        ("not " * 100 + "ks", "nested more than"),
        ("-" * 100 + "ks", "nested more than"),
        ("abs(" * 100 + "ks" + ")" * 100, "nested more than"),
    ],
)
def test_a_criterion_too_long_or_too_deep_is_one_line(text, message):
    with pytest.raises(GanfitError, match=message) as e:
        criteria.parse(text)
    assert "\n" not in str(e.value)


def test_a_criterion_the_parser_accepts_evaluates_without_recursion():
    deep = "(" * criteria.MAX_DEPTH + "ks < 1" + ")" * criteria.MAX_DEPTH
    long = "+".join(["1"] * 250) + " == 250 and " + " and ".join(["ok"] * 60)
    assert len(long) <= criteria.MAX_LENGTH
    member = {"status": "ok", "ks": 0.5}
    frame, depth = sys._getframe(), 0
    while frame:
        frame, depth = frame.f_back, depth + 1
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 100)  # a chain is a loop: its 250 terms need no stack
    try:
        assert criteria.parse(long)(member) is True
    finally:
        sys.setrecursionlimit(old)
    assert criteria.parse(deep)(member) is True
    assert criteria.parse("ks < 1")({"ks": 10**400}) is False  # past float's range: missing, not a crash


def test_a_sweep_with_a_deep_criterion_is_refused_before_training(tmp_path, capsys, no_build):
    f = tmp_path / "s.toml"
    f.write_text('success = "' + "(" * 200 + "ks < 1" + ")" * 200 + '"\n' + QUICK + "[axes]\nlr_d = [1e-4]\n")
    refused(capsys, ["sweep", str(f), "--out", str(tmp_path / "run")], "nested more than")


# ---- 5. TOML files: deep nesting, devices, FIFOs, huge files


def test_deeply_nested_toml_is_one_line(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("a = " + "[" * 10_000 + "\n")
    with pytest.raises(GanfitError, match="not valid TOML"):
        Config.from_toml(f)
    s = tmp_path / "s.toml"
    s.write_text("[axes]\nlr_d = " + "[" * 10_000 + "\n")
    with pytest.raises(GanfitError, match="sweep file .*not valid TOML"):
        load(s)


def test_config_from_a_device_a_fifo_or_a_huge_file_is_refused_without_reading(tmp_path, capsys):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as fh:
        fh.truncate(MAX_TOML_BYTES + 1)  # sparse: no disk used
    for path, words in [
        ("/dev/zero", ["config file /dev/zero: is a device, not a regular file"]),
        (fifo, ["is a FIFO"]),
        (tmp_path, ["is a directory"]),
        (huge, ["16,777,217 bytes, over the limit of 16,777,216 bytes"]),
    ]:
        refused(capsys, ["train", "--config", str(path), "--out", str(tmp_path / "run")], *words)
    refused(capsys, ["sweep", "/dev/zero", "--out", str(tmp_path / "run")], "sweep file /dev/zero: is a device")


# ---- 6. Config's unknown keywords


def test_an_unknown_keyword_is_one_config_error_naming_it():
    with pytest.raises(ConfigError, match="^Config: unknown field 'bogus' \\(the fields: ganfit train --help\\)$"):
        Config(bogus=1)
    assert issubclass(ConfigError, GanfitError) and issubclass(ConfigError, TypeError)
    with pytest.raises(GanfitError, match="unknown field 'colour'"):
        Config().replace(colour="red")
    with pytest.raises(TypeError, match="unknown field 'colour'"):
        dataclasses.replace(Config(), colour="red")


def test_config_stays_a_dataclass_with_data_and_code_in_memory():
    c = Config(seeds=3)
    assert dataclasses.is_dataclass(c) and [f.name for f in dataclasses.fields(c)] == list(FIELDS)
    assert c == Config(seeds=3) and c != Config(seeds=4) and c.replace(seeds=4) == Config(seeds=4)
    assert "seeds" in str(__import__("inspect").signature(Config))
    data = Config(target=np.arange(20.0), seeds=2)
    assert data.target.startswith("array:sha256=") and data.validate()
    own = Config(loss=lambda real, fake: (real.mean((1, 2)), fake.mean((1, 2)), -fake.mean((1, 2))))
    assert own.loss.startswith("custom:") and own.validate()
