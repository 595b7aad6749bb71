import pytest
import torch
from safetensors.torch import load_file, save_file

from ganfit import Config, GanfitError, load, train
from ganfit.files import atomic_write


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "run"
    train(Config(seeds=2, epochs=20, log_every=10, eval_samples=200), out)
    return out


def test_weights_that_are_pickles_truncated_or_misshapen_are_refused(run_dir, tmp_path):
    import shutil

    good = (run_dir / "weights.safetensors").read_bytes()
    cases = {
        "pickle": (
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93",
            "not a ganfit weights file",
        ),
        "truncated": (good[: len(good) - 100], "not a ganfit weights file"),
        "empty": (b"", "not a ganfit weights file"),
    }
    for name, (data, message) in cases.items():
        d = tmp_path / name
        shutil.copytree(run_dir, d)
        (d / "weights.safetensors").write_bytes(data)
        with pytest.raises(GanfitError, match=message):
            load(d)
    d = tmp_path / "shape"
    shutil.copytree(run_dir, d)
    tensors = load_file(d / "weights.safetensors")
    tensors["G.weights.1"] = torch.zeros(2, 50, 49)
    from safetensors import safe_open

    with safe_open(run_dir / "weights.safetensors", "pt") as fh:
        meta = fh.metadata()
    save_file(tensors, d / "weights.safetensors", metadata=meta)
    with pytest.raises(GanfitError, match=r"G.weights.1 is shape \(2, 50, 49\), config.toml needs \(2, 50, 50\)"):
        load(d)


def test_atomic_write_leaves_the_old_file_when_the_writer_fails(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("old")

    def failing(tmp):
        open(tmp, "w").write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(f, failing)
    assert f.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_atomic_write_makes_an_ordinary_file(tmp_path):
    import os

    f = tmp_path / "y.txt"
    atomic_write(f, lambda tmp: open(tmp, "w").write("new"))
    umask = os.umask(0)
    os.umask(umask)
    assert f.read_text() == "new" and (f.stat().st_mode & 0o777) == 0o666 & ~umask
