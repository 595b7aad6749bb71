import re
import subprocess
import sys

import numpy as np
import pytest

from ganfit import cli

QUICK = ["--epochs", "40", "--log-every", "20", "--eval-samples", "300"]


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganfit", *args], capture_output=True, text=True, cwd=cwd)


def test_train_then_sample_end_to_end(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", *QUICK, "--seeds", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "learned:" in r.stdout and str(out) in r.stdout
    assert "0: D: " in r.stdout and "ensemble of 2" in r.stdout  # not a terminal: the seed's status lines
    s = run_cli("sample", str(out), "-n", "5", "--member", "1")
    assert s.returncode == 0, s.stderr
    lines = s.stdout.splitlines()
    assert lines[0] == "x" and len(lines) == 6 and all(np.isfinite(float(v)) for v in lines[1:])
    s = run_cli("sample", str(out), "-n", "7", "--out", str(tmp_path / "x.npy"))
    assert s.returncode == 0 and np.load(tmp_path / "x.npy").shape == (7, 1)


def test_csv_data_end_to_end_samples_in_data_units(tmp_path):
    data = np.random.default_rng(0).normal(400, 20, 300)
    f = tmp_path / "heights.csv"
    f.write_text("height\n" + "\n".join(f"{v:.3f}" for v in data) + "\n")
    assert cli.main(["train", "--target", f"csv:path={f}", *QUICK, "--out", str(tmp_path / "r")]) == 0
    assert cli.main(["sample", str(tmp_path / "r"), "-n", "50", "--out", str(tmp_path / "s.csv")]) == 0
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "height" and len(lines) == 51
    x = np.array(lines[1:], dtype=float)
    assert 200 < x.mean() < 600  # trained in the working frame, mapped back to the data's units


def test_config_file_then_flags(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("epochs = 9999\nlr_g = 1e-3\nseeds = 2\n")
    args = cli._parser().parse_args(["train", "--config", str(cfg), "--epochs", "7"])
    c = cli.config_from_args(args)
    assert (c.epochs, c.lr_g, c.seeds, c.lr_d) == (7, 1e-3, 2, 2e-4)


def bad_csv(tmp_path, text):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    return f"csv:path={f}"


BAD_TRAIN = {
    "malformed spec": (["--target", "gaussian:mean"], "is not key=value"),
    "unknown target": (["--target", "cauchy"], "unknown target 'cauchy'"),
    "unknown key": (["--target", "gaussian:sigma=1"], "has no parameter 'sigma'"),
    "bad noise": (["--noise", "uniform:dim=0"], "dim must be >= 1"),
    "missing csv": (["--target", "csv:path=/no/such/file.csv"], "no such file"),
    "unreadable csv": (["--target", "csv:path=/proc/self/mem"], "cannot read"),
    "empty csv": (lambda p: ["--target", bad_csv(p, "")], "empty"),
    "non-numeric csv": (lambda p: ["--target", bad_csv(p, "1\n2\nhello\n")], "'hello' is not a number"),
    "nan in csv": (lambda p: ["--target", bad_csv(p, "1\nNaN\n2\n")], "'NaN', a missing value, in column"),
    "inf in csv": (lambda p: ["--target", bad_csv(p, "1\n-inf\n2\n")], "'-inf' is not a finite number"),
    "zero epochs": (["--epochs", "0"], "epochs must be > 0"),
    "negative epochs": (["--epochs", "-3"], "epochs must be > 0"),
    "zero members": (["--seeds", "0"], "seeds must be > 0"),
    "epochs not a number": (["--epochs", "lots"], "invalid int value: 'lots'"),
    "unknown flag": (["--colour", "red"], "unrecognized arguments: --colour red"),
    "bad activation": (["--g-activations", "elu,swish"], "unknown activation 'swish'"),
    "missing config": (["--config", "/no/such.toml"], "no such file"),
    "unwritable out": (["--out", "/proc/ganfit-run"], "cannot write there"),
    "out under a file": (lambda p: ["--out", str(p / "file.txt" / "run")], "cannot write there"),
    "no cuda": (["--device", "cuda"], "CUDA is not available"),
}


@pytest.mark.parametrize("case", list(BAD_TRAIN))
def test_bad_train_input_is_one_line_and_exit_2_with_nothing_written(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    args, message = BAD_TRAIN[case]
    args = args(tmp_path) if callable(args) else args
    out = ["--out", str(tmp_path / "run")] if "--out" not in args else []
    if case == "no cuda" and __import__("torch").cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert cli.main(["train", *QUICK, *args, *out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganfit: error: ") and message in err, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_bad_sample_input(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.toml").write_text("epochs = 5\n")
    cases = {
        "no such directory": [str(tmp_path / "nope")],
        "no config.toml": [str(tmp_path)],
        "no weights.safetensors": [str(tmp_path / "half")],
    }
    for message, args in cases.items():
        assert cli.main(["sample", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    (tmp_path / "half" / "weights.safetensors").write_bytes(b"\x80\x04not safetensors")
    assert cli.main(["sample", str(tmp_path / "half")]) == 2
    assert "not a ganfit weights file" in capsys.readouterr().err


def test_sample_member_and_count_checked(tmp_path, capsys):
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert cli.main(["sample", str(tmp_path / "r"), "--member", "3"]) == 2
    assert "member 3 out of range: this run has 1 member(s)" in capsys.readouterr().err
    assert cli.main(["sample", str(tmp_path / "r"), "-n", "0"]) == 2
    assert "must be >= 1" in capsys.readouterr().err


def test_a_real_process_prints_no_traceback(tmp_path):
    r = run_cli("train", "--target", "gaussian:std=-1", "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and r.stderr == "ganfit: error: target 'gaussian': std must be > 0, got -1.0\n"
    assert not (tmp_path / "run").exists()


def test_help_version_and_a_bare_command_load_neither_torch_nor_scipy():
    probe = "import sys, ganfit.cli; print(sorted(m for m in ('torch', 'scipy', 'matplotlib') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "[]"
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"ganfit {__import__('ganfit').__version__}"
    bare = run_cli()
    assert bare.returncode == 0 and bare.stdout.startswith("usage: ganfit") and "train" in bare.stdout
    assert "sweep" in bare.stdout and "report" in bare.stdout


def test_train_help_shows_the_flags_in_the_configs_sections():
    from ganfit.config import FIELDS, sections

    text = run_cli("train", "--help").stdout
    titles = [title for title, _ in sections()]
    at = [text.index(f"config: {t}:") for t in titles]
    assert at == sorted(at)  # in the config's order
    for (title, names), start, end in zip(sections(), at, at[1:] + [len(text)]):
        for name in names:  # each flag within its own section
            assert "--" + name.replace("_", "-") in text[start:end], (title, name)
    assert sorted(n for _, names in sections() for n in names) == sorted(FIELDS)


def test_fit_help_shows_the_fit_recipes_defaults_not_the_seeds():
    text = " ".join(run_cli("fit", "--help").stdout.split())
    assert "G's learning rate (default: 0.0001)" in text  # both fit recipes' (the seed's is 0.0002)
    assert "(default: fit1d: 'normal:dim=1'; fit2d: 'normal:dim=2')" in text
    assert "fit2d: 'lr_g=1e-4,1e-4,1e-4,3e-4,3e-4,3e-4'" in text
    assert "G's learning rate (default: 0.0002)" in " ".join(run_cli("train", "--help").stdout.split())
    assert not re.search(r"--(target|validation)(?![\w-])", text)  # both come from DATA and its split
    assert "--target-mmd" in text  # a flag of its own


def test_fit_refuses_a_target_or_validation_flag_in_one_line(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("x\n" + "\n".join(str(v) for v in range(40)) + "\n")
    for flag in ("--target", "--validation"):
        args = ["fit", str(tmp_path / "d.csv"), "--column", "x", flag, "gaussian", "--out", str(tmp_path / "r")]
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{flag[2:]} comes from the data and its split" in err, err
    assert not (tmp_path / "r").exists()


def test_sweep_names_its_executor_and_the_gradients_apart(tmp_path):
    text = run_cli("sweep", "--help").stdout
    assert "--executor {local,ray}" in text and "--gradients GRADIENTS" in text and "--engine" not in text


def test_only_a_real_command_line_freezes_its_objects_for_a_quick_exit(tmp_path):
    import gc

    frozen = gc.get_freeze_count()
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "called")]) == 0
    assert gc.get_freeze_count() == frozen  # main() from Python leaves the caller's collector as it was
    code = (
        "import gc, sys; from ganfit import cli; sys.argv[1:] = sys.argv[2:]; cli.main(); print(gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "x", "train", *QUICK, "--out", str(tmp_path / "real")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) > 10_000  # torch's and numpy's objects, out of the exit's collections
