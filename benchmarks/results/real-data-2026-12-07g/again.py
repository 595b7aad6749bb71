"""fit's steps after training (critics, kernel, kind, comparison) again on a fit run that a screen kept, in
memory: what critic_variants.py and member_variants.py vary them on."""

import json
from pathlib import Path

import numpy as np

from ganfit import fitting
from ganfit.run import Run, load


def conclude_again(run_dir: Path) -> Run:
    """The kept run at run_dir, concluded again as `ganfit fit` concluded it (its split and parts from its
    files), with nothing written."""
    run = load(run_dir)
    record = json.loads((run.dir / fitting.SPLIT).read_text())
    info = {k: v for k, v in record.items() if k not in ("train", "validation", "test")}
    parts = {
        p: np.load(run.dir / f, allow_pickle=False)
        for p, f in (("train", "target.npy"), ("validation", "validation.npy"), ("test", fitting.TEST))
    }
    run.dir = None  # nothing written
    return fitting.conclude(run, parts, info)
