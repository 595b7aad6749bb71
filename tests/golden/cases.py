"""Golden runs: configs whose output must not change when the code is reorganised.

Each case is checked two ways (tests/test_golden.py):
- its files' sha256, bit for bit, where bits were recorded for this platform: the machine, the CPU's
  maker (native.cpu_vendor), the CPU's own vector instructions (native.cpu_simd: MKL picks its code
  from them, whatever torch is forced to), torch's CPU capability (AVX512, AVX2, DEFAULT:
  ATEN_CPU_CAPABILITY forces it) and the engine: torch's step or the compiled kernel (its avx512 and
  avx2 variants give the same bits, so they share a key, "kernel-fma");
- the numbers of its last metric rows (or its sweep table), within a tolerance, on every platform: float
  rounding differs from one instruction set to the next, a change of behaviour moves them far more.

`python tests/golden/cases.py` records the current platform's hashes (and, with --values, the numbers)
into golden.json, keeping the other platforms'. Every case runs on one thread, on the CPU.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

import torch

from ganfit import Config, recipes, rundir, train
from ganfit.game import native
from ganfit.sweep import load_sweep, run_sweep

GOLDEN = Path(__file__).with_name("golden.json")
ONE = dict(threads=1, device="cpu")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_files(d: Path) -> dict[str, str]:
    return {name: _sha(d / name) for name in ("weights.safetensors", "metrics.jsonl")}


def values(d: Path) -> dict[str, float]:
    """The numbers a case ends with: its last metric row per member, or its sweep table's cells."""
    if (d / "results.csv").exists():
        with open(d / "results.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        return {f"{i}.{k}": float(v) for i, row in enumerate(rows) for k, v in row.items() if _number(v)}
    rows = [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in rows if r["epoch"] == rows[-1]["epoch"]]
    return {f"{r['member']}.{k}": float(v) for r in last for k, v in r.items() if isinstance(v, int | float)}


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def drift(got: dict[str, float], want: dict[str, float]) -> float:
    """The largest difference between two sets of a case's numbers, relative to each number's size (at
    least 0.1: a metric near 0 is compared on that scale)."""
    if got.keys() != want.keys():
        return float("inf")
    return max((abs(got[k] - want[k]) / max(0.1, abs(want[k])) for k in want), default=0.0)


def platform_key() -> str:
    """Where a case's bits hold: the machine, its CPU's maker, the CPU's own vector instructions (MKL's
    choice), torch's CPU capability, and the engine."""
    k = native.kernel()
    engine = "torch" if k is None else "kernel-generic" if k.variant == "generic" else "kernel-fma"
    simd, torch_path = native.cpu_simd(), torch.backends.cpu.get_cpu_capability()
    return f"{platform.machine()}/{native.cpu_vendor()}/cpu-{simd}/torch-{torch_path}/{engine}"


def _train(config: Config, d: Path) -> Path:
    train(config, d, progress=None)
    return d


def default_game(d: Path) -> Path:
    """The article's game on the hand-derived engine, 4 members."""
    return _train(Config(epochs=2000, seeds=4, **ONE), d)


def robust1d(d: Path) -> Path:
    """The robust1d recipe (ns, per-sample D, R1, G's average) on autograd, shortened to 1,000 epochs."""
    return _train(recipes.load("robust1d").replace(epochs=1000, seeds=2, gradients="autograd", **ONE), d)


def ring(d: Path) -> Path:
    """The ring recipe (PacGAN2, R1, relu G, normal noise in 2-D) on autograd for 500 epochs, its 10 members."""
    return _train(recipes.load("ring").replace(epochs=500, gradients="autograd", **ONE), d)


def per_member(d: Path) -> Path:
    """Members with their own seeds and learning rates (per-member Adam on the fast engine), lr decay."""
    pm = "seed=0,1,0,1;lr_d=1e-4,1e-4,2e-4,2e-4;lr_g=2e-4,3e-4,2e-4,3e-4"
    return _train(Config(epochs=1000, seeds=4, per_member=pm, lr_decay=0.3, **ONE), d)


def wgan_gp(d: Path) -> Path:
    """Autograd's other paths: WGAN-GP's eps, spectral norm, two D steps, per-member betas, 2-D moons."""
    c = Config(
        target="moons:noise=0.1",
        noise="normal:dim=2",
        loss="wgan",
        gp=1.0,
        spectral_norm=True,
        d_steps=2,
        d_view="sample:stddev=true",
        seeds=2,
        per_member="beta1=0.5,0.0",
        epochs=300,
        log_every=100,
        eval_samples=1000,
        **ONE,
    )
    return _train(c, d)


def resumed(d: Path) -> Path:
    """A run trained to 400 epochs, then resumed to 700 (early stopping on ks tracked across the stop)."""
    c = Config(epochs=400, seeds=2, log_every=50, checkpoint_every=100, early_stop="ks", early_stop_patience=3, **ONE)
    train(c, d, progress=None)
    train(rundir.reopen(d, 700), d, resume=True, progress=None)
    return d


SWEEP = """seeds = 2
success = "ks < 0.2"
[base]
epochs = 300
log_every = 100
eval_samples = 500
threads = 1
[axes]
lr_d = [1e-4, 3e-4]
d_view = ["minibatch:diffs=true", "minibatch:diffs=false"]
"""


def sweep(d: Path) -> Path:
    """A 2 x 2 sweep: points differing in lr_d train packed as one ensemble, d_view apart."""
    (d.parent / "golden_sweep.toml").write_text(SWEEP)
    with open(os.devnull, "w") as quiet:
        run_sweep(load_sweep(d.parent / "golden_sweep.toml"), d, workers=1, stream=quiet)
    return d


def files(d: Path) -> dict[str, str]:
    """The sha256 of a case's output files."""
    return {"results.csv": _sha(d / "results.csv")} if (d / "results.csv").exists() else _run_files(d)


CASES = {f.__name__: f for f in (default_game, robust1d, ring, per_member, wgan_gp, resumed, sweep)}
# The cases the compiled kernel plays (GANFIT_COMPILED=1): the seed's game, its resume, and robust1d's.
COMPILED = {
    "default_game": default_game,
    "resumed": resumed,
    "robust1d": lambda d: _train(recipes.load("robust1d").replace(epochs=1000, seeds=2, gradients="auto", **ONE), d),
}


def engine_cases() -> dict[str, object]:
    """The cases for the engine that runs now: torch's (GANFIT_COMPILED=0) or the kernel's."""
    return CASES if native.kernel() is None else {f"{n}@kernel": f for n, f in COMPILED.items()}


def record(root: Path, with_values: bool) -> dict:
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    for name, case in engine_cases().items():
        d = case(root / name)
        entry = golden.setdefault(name, {"values": {}, "bits": {}})
        entry["bits"][platform_key()] = files(d)
        if with_values or not entry["values"]:
            entry["values"] = values(d)
        else:  # how far this platform's numbers lie from the recorded ones (the tolerance's budget)
            print(name, platform_key(), f"{drift(values(d), entry['values']):.2e}")
    return golden


if __name__ == "__main__":
    import tempfile

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        golden = record(Path(tmp), "--values" in sys.argv)
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"recorded {platform_key()} in {GOLDEN}")
