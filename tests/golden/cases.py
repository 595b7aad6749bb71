"""Golden runs: configs whose output files must not change by a single byte when the code is reorganised.

`python tests/golden/cases.py` (re)records their sha256 in hashes.json; tests/test_golden.py trains them
again and compares. Every case runs on one thread, on the CPU: the hashes hold for this torch build and
machine kind (float rounding may differ on another CPU or torch version, and then so do the hashes).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from ganfit import Config, recipes, rundir, train
from ganfit.sweep import load_sweep, run_sweep

HASHES = Path(__file__).with_name("hashes.json")
ONE = dict(threads=1, device="cpu")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_files(d: Path) -> dict[str, str]:
    return {name: _sha(d / name) for name in ("weights.safetensors", "metrics.jsonl")}


def _train(config: Config, d: Path) -> dict[str, str]:
    train(config, d)
    return _run_files(d)


def default_game(d: Path) -> dict[str, str]:
    """The article's game on the hand-derived engine, 4 members."""
    return _train(Config(epochs=2000, seeds=4, **ONE), d)


def robust1d(d: Path) -> dict[str, str]:
    """The robust1d recipe (ns, per-sample D, R1, G's average) on autograd, shortened to 1,000 epochs."""
    return _train(recipes.load("robust1d").replace(epochs=1000, seeds=2, gradients="autograd", **ONE), d)


def ring(d: Path) -> dict[str, str]:
    """The ring recipe (PacGAN2, R1, relu G, normal noise in 2-D) on autograd for 500 epochs, its 10 members."""
    return _train(recipes.load("ring").replace(epochs=500, gradients="autograd", **ONE), d)


def per_member(d: Path) -> dict[str, str]:
    """Members with their own seeds and learning rates (per-member Adam on the fast engine), lr decay."""
    pm = "seed=0,1,0,1;lr_d=1e-4,1e-4,2e-4,2e-4;lr_g=2e-4,3e-4,2e-4,3e-4"
    return _train(Config(epochs=1000, seeds=4, per_member=pm, lr_decay=0.3, **ONE), d)


def wgan_gp(d: Path) -> dict[str, str]:
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


def resumed(d: Path) -> dict[str, str]:
    """A run trained to 400 epochs, then resumed to 700 (early stopping on ks tracked across the stop)."""
    c = Config(epochs=400, seeds=2, log_every=50, checkpoint_every=100, early_stop="ks", early_stop_patience=3, **ONE)
    train(c, d)
    train(rundir.reopen(d, 700), d, resume=True)
    return _run_files(d)


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


def sweep(d: Path) -> dict[str, str]:
    """A 2 x 2 sweep: points differing in lr_d train packed as one ensemble, d_view apart."""
    (d.parent / "golden_sweep.toml").write_text(SWEEP)
    run_sweep(load_sweep(d.parent / "golden_sweep.toml"), d, workers=1, stream=open("/dev/null", "w"))
    return {"results.csv": _sha(d / "results.csv")}


CASES = {f.__name__: f for f in (default_game, robust1d, ring, per_member, wgan_gp, resumed, sweep)}


def record(root: Path) -> dict[str, dict[str, str]]:
    return {name: case(root / name) for name, case in CASES.items()}


if __name__ == "__main__":
    import tempfile

    import torch

    torch.set_num_threads(1)
    os.environ["GANFIT_COMPILED"] = "0"  # as test_golden.py: torch's engines
    with tempfile.TemporaryDirectory() as tmp:
        hashes = record(Path(tmp))
    HASHES.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")
    json.dump(hashes, sys.stdout, indent=2)
