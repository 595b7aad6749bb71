"""The compiled kernel as installed: its variants, the choice among them, and every way loading it can fail."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

from ganfit import Config, recipes
from ganfit.game import Game, native, rng

built = native.kernel() is not None
needs_kernel = pytest.mark.skipif(not built, reason="ganfit was installed without its compiled kernel")
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


@pytest.fixture
def fresh(monkeypatch):
    """native's cached loads and notes forgotten before and after."""
    native._load.cache_clear()
    native._noted.clear()
    yield monkeypatch
    native._load.cache_clear()
    native._noted.clear()


def test_a_variant_the_cpu_cannot_run_is_never_chosen():
    every = list(native.VARIANTS)
    assert native.choose(4, "", every) == ("avx512", None)
    assert native.choose(3, "", every) == ("avx2", None)
    assert native.choose(1, "", every) == ("generic", None)
    assert native.choose(0, "", ["generic"]) == ("generic", None)  # arm64: the baseline alone
    variant, why = native.choose(3, "avx512", every)
    assert variant == "avx2" and "cannot run" in why
    variant, why = native.choose(4, "avx512", ["avx2", "generic"])
    assert variant == "avx2" and "not built" in why
    assert native.choose(4, "avx2", every) == ("avx2", None)
    assert "not one of" in native.choose(4, "sse9", every)[1]


def state_after(config: Config, epochs: int) -> list[torch.Tensor]:
    game = Game.build(config)
    drawn = game.draw(rng.member_keys(config.member_seeds(), "train"), 0, epochs)
    game.play(drawn, 0, epochs)
    return list(game.state().values())


GAMES = [
    Config(seeds=3, threads=2),
    Config(seeds=2, d_activations="sigmoid,tanh", g_activations="elu,tanh,elu", d_steps=2, batch=12),
    Config(seeds=2, g_hidden=9, d_hidden=13, target="moons:noise=0.1", noise="normal:dim=3", d_view="sample"),
    recipes.load("robust1d").replace(seeds=2, batch=40),
    recipes.load("ring").replace(seeds=2, g_hidden=40, d_hidden=24, batch=64, g_activations="relu,tanh,elu"),
    recipes.load("grid").replace(seeds=2, batch=64, r2=0.3, d_activations="elu,sigmoid"),
]


@pytest.mark.bits
@needs_kernel
@pytest.mark.skipif(native.kernel() is None or native.kernel().cpu_level < 4, reason="needs an AVX-512 CPU")
@pytest.mark.parametrize("config", GAMES, ids=range(len(GAMES)))
def test_the_avx512_and_avx2_variants_play_the_same_bits(config, fresh):
    runs = []
    for variant in ("avx512", "avx2"):
        fresh.setenv("GANFIT_KERNEL", variant)
        assert native.variant() == variant
        runs.append(state_after(config, 40))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


@needs_kernel
@pytest.mark.parametrize("config", GAMES[:4], ids=range(4))
def test_the_generic_variant_plays_the_torch_steps_game(config, fresh):
    fresh.setenv("GANFIT_KERNEL", "generic")
    ours = state_after(config, 20)
    fresh.setenv("GANFIT_COMPILED", "0")
    theirs = state_after(config, 20)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.bits
def test_compiled_0_loads_nothing_and_draws_the_same_numbers(fresh, tmp_path):
    keys = rng.member_keys([0, 5], "train")
    epochs = torch.arange(3)
    with_kernel = rng.uniform(keys, epochs, 100)
    fresh.setenv("GANFIT_COMPILED", "0")
    fresh.setenv("GANFIT_KERNEL_DIR", str(tmp_path))  # nothing loadable there, and nothing is looked at
    assert native.kernel() is None and native._noted == set()
    assert torch.equal(rng.uniform(keys, epochs, 100), with_kernel)


def _bad_kernels(tmp_path: Path) -> dict[str, Path]:
    """Folders holding a generic kernel that cannot be used, each in its own way."""
    out = {}
    for name, write in {
        "garbage": lambda p: p.write_bytes(b"\x7fELF not really" * 50),
        "empty": lambda p: p.write_bytes(b""),
        "text": lambda p: p.write_text("#!/bin/sh\necho hi\n"),
        "directory": lambda p: p.mkdir(),
        "foreign": lambda p: shutil.copy(_some_library(), p),
    }.items():
        d = tmp_path / name
        d.mkdir()
        write(d / f"_kernel_generic{SUFFIX}")
        out[name] = d
    if built:
        real = native._path("generic")
        d = tmp_path / "truncated"
        d.mkdir()
        (d / real.name).write_bytes(real.read_bytes()[: real.stat().st_size // 3])
        out["truncated"] = d
    return out


def _some_library() -> str:
    """A real shared library of this platform that is not the kernel (one of the stdlib's extensions)."""
    import _json

    return _json.__file__


def test_every_bad_library_is_one_note_and_the_torch_step(fresh, tmp_path, capsys):
    for name, d in _bad_kernels(tmp_path).items():
        fresh.setenv("GANFIT_KERNEL_DIR", str(d))
        native._noted.clear()
        assert native.kernel() is None, name
        assert type(Game.build(Config(epochs=10)).engine).__name__ == "FastEngine"
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ganfit: note: the compiled kernel in"), (name, lines)
        assert "torch's step" in lines[0]


def test_no_kernel_installed_is_said_once(fresh, tmp_path, capsys):
    fresh.setenv("GANFIT_KERNEL_DIR", str(tmp_path))
    assert native.kernel() is None and native.kernel() is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "ganfit: note: ganfit was installed without its compiled kernel (no C compiler then?): "
        "ganfit runs torch's step instead (2-6x slower)"
    ]


def _compile(tmp_path: Path, source: str, defines: list[str]) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler here")
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "kernel.c"
    src.write_text(source)
    out = tmp_path / "lib"
    out.mkdir(exist_ok=True)
    lib = out / f"_kernel_generic{SUFFIX}"
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-pthread", *defines, str(src), "-o", str(lib), "-lm"], check=True)
    return out


def test_another_abi_or_another_source_is_refused(fresh, tmp_path, capsys):
    text = native.SOURCE.read_text()
    other_abi = _compile(tmp_path / "abi", text.replace("#define KERNEL_ABI", "#define KERNEL_ABI 999 //"), [])
    fresh.setenv("GANFIT_KERNEL_DIR", str(other_abi))
    assert native.kernel() is None
    assert "ABI 999, this ganfit needs" in capsys.readouterr().err
    stale = _compile(tmp_path / "stale", text, ['-DKERNEL_SOURCE="0123"'])
    fresh.setenv("GANFIT_KERNEL_DIR", str(stale))
    assert native.kernel() is None
    assert "another kernel.c" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["train", "--epochs", "60", "--seeds", "2"], ["sample"]])
def test_the_cli_runs_on_a_garbage_kernel_with_one_line(command, tmp_path):
    bad = _bad_kernels(tmp_path)["garbage"]
    env = os.environ | {"GANFIT_KERNEL_DIR": str(bad)}
    run_dir = tmp_path / "run"
    if command == ["sample"]:
        subprocess.run(
            [sys.executable, "-m", "ganfit", "train", "--epochs", "20", "--out", str(run_dir)],
            env=env,
            check=True,
            capture_output=True,
        )
        command = ["sample", str(run_dir), "-n", "5"]
    else:
        command = [*command, "--out", str(run_dir)]
    done = subprocess.run([sys.executable, "-m", "ganfit", *command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    notes = [ln for ln in done.stderr.splitlines() if "compiled kernel" in ln]
    assert len(notes) == 1 and "Traceback" not in done.stderr
    off = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganfit",
            *command[:1],
            *([str(run_dir), "-n", "5"] if command[0] == "sample" else ["--epochs", "20"]),
        ],
        env=env | {"GANFIT_COMPILED": "0"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert off.returncode == 0 and "compiled kernel" not in off.stderr, off.stderr


@needs_kernel
def test_a_kernel_on_a_noexec_mount_is_one_note(fresh, tmp_path, capsys):
    mnt = tmp_path / "noexec"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a noexec tmpfs here (needs root)")
    try:
        for v in native.VARIANTS:
            if native._path(v):
                shutil.copy(native._path(v), mnt)
        fresh.setenv("GANFIT_KERNEL_DIR", str(mnt))
        assert native.kernel() is None
        assert "cannot be used" in capsys.readouterr().err
    finally:
        native._load.cache_clear()
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@needs_kernel
@pytest.mark.parametrize("variant", list(native.VARIANTS))
@pytest.mark.parametrize("acts", ["elu,sigmoid", "tanh,leaky_relu"])
def test_huge_logits_and_activations_stay_finite(variant, acts, fresh):
    """The AVX2 ring's non-finite members: an exp that overflowed to inf, then a reciprocal that -ffast-math
    turned into an estimate and a Newton step, 0 * inf = NaN. exp_ clamps and divides exactly."""
    fresh.setenv("GANFIT_KERNEL", variant)
    config = Config(seeds=2, threads=1, d_view="sample", d_activations=acts, loss="ns", r1=1.0, g_activations=acts)
    game = Game.build(config)
    with torch.no_grad():
        game.D.biases[-1][0].fill_(-1e4)  # member 0: D says "fake" with a logit of -10^4
        game.D.biases[-1][1].fill_(1e4)  # member 1: "real" with +10^4
        for w in game.D.weights[:-1]:
            w.mul_(1e3)  # pre-activations far past where exp overflows
    state_before = [t.clone() for t in game.state().values()]
    drawn = game.draw(rng.member_keys(config.member_seeds(), "train"), 0, 5)
    game.play(drawn, 0, 5)
    assert game.engine.name == "compiled"
    for before, after in zip(state_before, game.state().values()):
        assert torch.isfinite(after).all() and after.shape == before.shape
