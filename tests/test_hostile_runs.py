"""Hostile inputs, second pass, for runs and sweeps: nothing of the user's overwritten, a resume refuses other
data, checkpoints and summaries that say only what is true."""

import json
import signal
import subprocess
import sys
import time

import pytest

import ganfit
from ganfit import GanfitError, cli
from ganfit.sweep import load_sweep, run_sweep

QUICK = ["--epochs", "60", "--log-every", "20", "--eval-samples", "300", "--checkpoint-every", "20"]
SWEEP = "seeds = 2\n[base]\nepochs = 40\nlog_every = 20\neval_samples = 200\n[axes]\nlr_d = [1e-4, 2e-4]\n"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ganfit", *args], capture_output=True, text=True, timeout=300)


def test_a_sweep_never_writes_into_a_users_directory_or_a_run(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SWEEP)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.csv").write_text("my own results\n")
    assert cli.main(["sweep", str(tmp_path / "s.toml"), "--out", str(mine)]) == 2
    assert "is not empty and holds no ganfit sweep" in capsys.readouterr().err
    assert (mine / "results.csv").read_text() == "my own results\n" and sorted(p.name for p in mine.iterdir()) == [
        "results.csv"
    ]
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert cli.main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "run")]) == 2
    assert "is a run directory, not a sweep's" in capsys.readouterr().err


def test_a_sweep_rerun_with_other_points_changes_nothing_and_more_epochs_says_so(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SWEEP)
    out = tmp_path / "out"
    assert cli.main(["sweep", str(tmp_path / "s.toml"), "--out", str(out)]) == 0
    before = (out / "sweep.toml").read_text()
    (tmp_path / "t.toml").write_text(SWEEP.replace("eval_samples = 200", "eval_samples = 250"))
    assert cli.main(["sweep", str(tmp_path / "t.toml"), "--out", str(out)]) == 2
    assert (out / "sweep.toml").read_text() == before  # refused before anything was rewritten
    capsys.readouterr()
    assert cli.main(["sweep", str(tmp_path / "s.toml"), "--out", str(out), "--epochs", "60"]) == 0
    assert "extending 2 finished point(s) to more epochs" in capsys.readouterr().err


def test_a_packed_points_config_says_it_repeats_only_to_rounding(tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP)
    run_sweep(load_sweep(tmp_path / "s.toml"), tmp_path / "out", workers=1, stream=open("/dev/null", "w"))
    text = (tmp_path / "out" / "points" / "lr_d=0.0001" / "config.toml").read_text()
    assert text.startswith("# ganfit run configuration of a sweep point that trained packed")
    assert "to float rounding, not bit for bit" in text
    assert ganfit.Config.from_toml(tmp_path / "out" / "points" / "lr_d=0.0001" / "config.toml").lr_d == 1e-4


def test_a_resume_on_changed_data_refuses(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x\n" + "".join(f"{v}\n" for v in range(40)))
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganfit",
            "train",
            *QUICK,
            "--epochs",
            "100000",
            "--target",
            f"csv:path={data}",
            "--out",
            str(tmp_path / "run"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (tmp_path / "run" / "checkpoint.safetensors").exists():
        assert p.poll() is None and time.time() < deadline
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=120) == 130
    assert json.loads((tmp_path / "run" / "data.json").read_text())["target"]["rows"] == 40
    data.write_text("x\n" + "".join(f"{v}\n" for v in range(41)))
    r = run_cli("train", "--resume", str(tmp_path / "run"))
    assert r.returncode == 2 and "the target data changed since the run began (was 40 rows" in r.stderr
    data.write_text("x\n" + "".join(f"{v}\n" for v in range(40)))  # the same data again: it resumes
    done = json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"]  # where the SIGINT landed
    r = run_cli("train", "--resume", str(tmp_path / "run"), "--epochs", str(done + 40))
    assert r.returncode == 0, r.stderr


def test_a_resume_after_the_last_checkpoint_reports_true_medians_and_no_speed(tmp_path):
    config = ganfit.Config(epochs=60, log_every=20, eval_samples=300, checkpoint_every=20, seeds=2)
    whole = ganfit.train(config, tmp_path / "a")
    ganfit.train(config, tmp_path / "b")
    (tmp_path / "b" / "summary.json").unlink()  # as if killed after the final checkpoint
    resumed = ganfit.train(ganfit.rundir.reopen(tmp_path / "b"), tmp_path / "b", resume=True)
    assert resumed.summary["median"] == whole.summary["median"]
    assert resumed.summary["gan_epochs_per_second"] is None  # nothing trained in that process


def test_a_weights_file_that_disagrees_with_its_config_is_one_line(tmp_path, capsys):
    assert cli.main(["train", *QUICK, "--seeds", "2", "--out", str(tmp_path / "r")]) == 0
    path = tmp_path / "r" / "config.toml"
    path.write_text(path.read_text().replace("seeds = 2", "seeds = 3"))
    capsys.readouterr()
    assert cli.main(["sample", str(tmp_path / "r")]) == 2
    assert "holds 2 member(s), config.toml says seeds = 3" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "r")]) == 0  # the page says what it could not draw
    assert "could not be drawn" in (tmp_path / "r" / "report.html").read_text()


def test_a_bad_loss_shape_is_not_a_traceback_from_the_cli(tmp_path):
    with pytest.raises(GanfitError):
        ganfit.train(ganfit.Config(loss=lambda r, f: None, d_view="sample", epochs=5, log_every=5))


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_directory(tmp_path):
    def broken(real, fake):
        raise GanfitError("my loss is broken")

    with pytest.raises(GanfitError, match="my loss is broken"):
        ganfit.train(ganfit.Config(loss=broken, d_view="sample", epochs=50, log_every=10), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def _mount(*args) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_full_disk_is_one_line_and_leaves_nothing_half_made(tmp_path, command):
    full = tmp_path / "full"
    full.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=96k", "tmpfs", str(full)):
        pytest.skip("needs root and mount for a small tmpfs")
    try:
        (tmp_path / "s.toml").write_text(SWEEP.replace("seeds = 2", "seeds = 8"))
        args = ["train", *QUICK, "--seeds", "64"] if command == "train" else ["sweep", str(tmp_path / "s.toml")]
        r = run_cli(*args, "--out", str(full / "out"))
        assert r.returncode in (1, 2) and "Traceback" not in r.stderr, r.stderr
        assert "No space left on device" in r.stderr
        if command == "train":  # it failed before its first checkpoint: no half-made run directory
            assert "there is none yet" in r.stderr and not (full / "out").exists()
    finally:
        subprocess.run(["umount", str(full)])


def test_sample_counts_and_members_from_python_are_checked(tmp_path):
    run = ganfit.train(ganfit.Config(epochs=20, log_every=10, eval_samples=200))
    for bad in (2.5, "10", 0, -3, True):
        with pytest.raises(GanfitError, match="number of samples must be >= 1"):
            run.sample(bad)
    with pytest.raises(GanfitError, match="member 1 out of range"):
        run.sample(5, member=1)


def test_a_report_skips_a_garbage_metrics_line(tmp_path, capsys):
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "r")]) == 0
    with open(tmp_path / "r" / "metrics.jsonl", "a") as fh:
        fh.write('{"epoch": "x"\n\x00\x01 not json at all\n[1, 2]\n')
    assert cli.main(["report", str(tmp_path / "r")]) == 0
    assert len(ganfit.load(tmp_path / "r").history) == 4  # the 4 real rows, the garbage skipped


@pytest.mark.parametrize("epoch, nbytes", [("-5", None), ("0", None), ("40", "1000000000"), ("40", "-1")])
def test_forged_checkpoint_metadata_is_refused(tmp_path, capsys, epoch, nbytes):
    from safetensors import safe_open
    from safetensors.torch import save_file

    assert cli.main(["train", *QUICK, "--epochs", "40", "--out", str(tmp_path / "r")]) == 0
    path = tmp_path / "r" / "checkpoint.safetensors"
    with safe_open(path, "pt") as fh:
        meta, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}
    save_file(tensors, path, metadata=meta | {"epoch": epoch, **({"metrics_bytes": nbytes} if nbytes else {})})
    size = (tmp_path / "r" / "metrics.jsonl").stat().st_size
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(tmp_path / "r"), "--epochs", "80"]) == 2
    assert "damaged metadata" in capsys.readouterr().err
    assert (tmp_path / "r" / "metrics.jsonl").stat().st_size == size  # nothing grown, nothing cut


def test_a_weights_file_with_a_non_finite_frame_map_is_one_line(tmp_path, capsys):
    from safetensors import safe_open
    from safetensors.torch import save_file

    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "r")]) == 0
    path = tmp_path / "r" / "weights.safetensors"
    with safe_open(path, "pt") as fh:
        meta, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}
    info = json.loads(meta["ganfit"]) | {"scale": [float("nan")]}
    save_file(tensors, path, metadata={"ganfit": json.dumps(info)})
    capsys.readouterr()
    assert cli.main(["sample", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "its frame map" in err and "is not finite" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["report", str(tmp_path / "r")]) == 0  # the page says what it could not draw


def test_a_refused_resume_changes_nothing(tmp_path, capsys):
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "r")]) == 0
    before = (tmp_path / "r" / "config.toml").read_text()
    for args, message in (
        (["--epochs", "40"], "has trained 60 epochs"),
        (["--epochs", "60"], "has trained 60 epochs"),
        (["--recipe", "ring"], "--recipe cannot change it"),
    ):
        capsys.readouterr()
        assert cli.main(["train", "--resume", str(tmp_path / "r"), *args]) == 2
        assert message in capsys.readouterr().err
        assert (tmp_path / "r" / "config.toml").read_text() == before


def test_garbage_records_are_one_line(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x\n" + "".join(f"{v}\n" for v in range(30)))
    assert cli.main(["train", *QUICK, "--target", f"csv:path={data}", "--out", str(tmp_path / "r")]) == 0
    (tmp_path / "r" / "data.json").write_text("[1]")
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(tmp_path / "r"), "--epochs", "80"]) == 2
    assert "data.json: unreadable" in capsys.readouterr().err
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = tmp_path / "r" / "weights.safetensors"
    with safe_open(path, "pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    save_file(tensors, path, metadata={"ganfit": "[1]"})
    assert cli.main(["sample", str(tmp_path / "r")]) == 2
    assert "not a ganfit weights file" in capsys.readouterr().err


def test_wrong_types_and_in_memory_sweeps_are_one_line(tmp_path):
    with pytest.raises(GanfitError, match="expected int"):
        ganfit.train(ganfit.Config(seeds="8"))
    (tmp_path / "s.toml").write_text(SWEEP)
    with pytest.raises(GanfitError, match="must be a file .csv: or npy:., not data in memory"):
        run_sweep(load_sweep(tmp_path / "s.toml", {"target": [1.0, 2.0, 3.5, 4.0]}), tmp_path / "o", workers=1)
    data = tmp_path / "d.npy"
    import numpy as np

    np.save(data, np.arange(40.0))
    text = SWEEP.replace(
        "[base]\n", f'success = "val_w1 < 5"\n[base]\ntarget = "npy:path={data}"\nvalidation = "npy:path={data}"\n'
    )
    (tmp_path / "v.toml").write_text(text)
    assert load_sweep(tmp_path / "v.toml").criterion  # val_ metrics are known where the points validate
