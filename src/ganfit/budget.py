"""How much memory a run needs, estimated from its config before anything is allocated, and the check
that refuses a run that would not fit (training.train calls it before Game.build).

The estimate is arithmetic on the config's sizes, and allocates nothing: G's and D's parameters with
their gradients, Adam's moments and the copies kept of them; one step's activations and random draws;
the fixed eval noise and G's samples of it; the host copies the metrics work on; the metric rows kept
in memory; the picture snapshots. It is meant to be within a factor of two of the real peak, so that a
run it lets through fits and one it refuses would not have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .config import Config
from .errors import GanfitError
from .game.models import EVAL_BUDGET
from .game.plan import Plan
from .measure.metrics import CHUNK, DIRECTIONS
from .pictures.capture import VERDICT_BATCHES

F32, F64 = 4, 8
# floats per parameter: the weights, their gradients, Adam's two moments, Health's kept copy, the copy a
# log row measures, a checkpoint's, and the step's temporaries (+1 for G's average, +1 for keep_best)
PER_PARAM = 8
DRAW_FLOATS = 9  # per uniform a step draws: the float, its int64 hashing temporaries, the batches made of it
ROW_BYTES, MODE_ROW_BYTES = 1_000, 32  # one member's metric row as Python keeps it (measured: 470 B), + per mode
FRAME_FLOATS = 12_000  # one picture snapshot (pictures/capture.py: grids, heat map, points), + 2 per member
MEMINFO, CGROUP = "/proc/meminfo", "/sys/fs/cgroup"


@dataclass
class Part:
    what: str
    nbytes: int
    device: bool  # on the run's device (else in the host's memory)
    hint: str  # what makes it smaller


def _params(sizes: list[int]) -> int:
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))


def estimate(plan: Plan | Config) -> list[Part]:
    """The run's memory, in named parts (bytes), from its plan's sizes alone (a config is planned first)."""
    plan = plan if isinstance(plan, Plan) else Plan.of(plan)
    c, target, noise = plan.config, plan.target, plan.noise
    K, B, N = c.seeds, c.batch, c.eval_samples
    dim, rows, g, d = target.dim, plan.d_inputs, plan.g_sizes, plan.d_sizes
    width = d[0]  # D's input: the minibatch view's is the whole batch, batch * dim * 2
    g_params = 0 if c.g_model else K * _params(g)  # a network from Python: its size is not known here
    d_params = 0 if c.d_model else K * _params(d)
    copies = PER_PARAM + bool(c.keep_best)
    nets = "fewer members, a smaller batch or smaller nets"
    double = 2 if c.gp or c.r1 or c.r2 else 1  # a gradient penalty's backward through the backward
    g_act, d_act = K * B * (noise.dim + 2 * sum(g[1:-1]) + dim), K * rows * (width + 2 * sum(d[1:-1]) + 1)
    per_step = plan.uniforms_per_epoch
    modes = 0 if target.modes is None else len(target.modes)
    chunk = min(K, max(1, CHUNK // (N * dim))) * N  # samples per metrics pass (measure/metrics.compute)
    per_sample = (12 if dim == 1 else 12 * DIRECTIONS) + modes * (2 * dim + 2)
    grid = 8 * N * max(1, modes) * 3 if dim == 1 else 0  # the law's quantiles (a mixture's bisection: x modes)
    frames = c.snapshots() * (FRAME_FLOATS + 2 * K) if c.pictures else 0
    verdicts = VERDICT_BATCHES * (K * B * dim * DRAW_FLOATS + d_act) if c.pictures else 0
    parts = [
        Part("G's weights and optimiser state", g_params * (copies + (c.g_ema > 0)) * F32, True, nets),
        Part("D's weights and optimiser state", d_params * copies * F32, True, nets),
        Part("a step's activations", 2 * double * (g_act + 2 * d_act) * F32, True, nets),
        Part("a step's random draws", K * per_step * DRAW_FLOATS * F32, True, "fewer members or a smaller batch"),
        Part(
            "the eval samples",
            (K * N * (noise.dim * DRAW_FLOATS + dim) + 2 * max(EVAL_BUDGET, N * max(g))) * F32,
            True,
            "fewer members or eval_samples",
        ),
        Part(
            "the metrics' copies of the samples",
            (K * N * dim * 2 * F32) + (chunk * per_sample + grid) * F64,
            False,
            "fewer members or eval_samples",
        ),
        Part(
            "the metric rows",
            K * c.log_rows() * (ROW_BYTES + MODE_ROW_BYTES * modes),
            False,
            "fewer members or a larger log_every",
        ),
        Part("the picture snapshots", (2 * frames + verdicts) * F32, True, "a larger snapshot_every or no pictures"),
    ]
    return [p for p in parts if p.nbytes]


def host_available() -> int | None:
    """Bytes this process may still allocate: MemAvailable (or the free pages), within a cgroup's limit."""
    free = None
    try:
        with open(MEMINFO) as fh:
            free = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, ValueError, StopIteration):
        try:
            free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (OSError, ValueError, AttributeError):
            pass
    try:  # a container's limit (cgroup v2), which MemAvailable does not show
        with open(f"{CGROUP}/memory.max") as a, open(f"{CGROUP}/memory.current") as b:
            limit, used = a.read().strip(), int(b.read())
        if limit != "max":
            free = min(free if free is not None else 1 << 62, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return free


def device_available(device: str) -> int | None:
    """Free bytes on a CUDA device; None for the CPU, or where CUDA is missing (Game.build says so)."""
    if not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    try:
        return torch.cuda.mem_get_info(torch.device(device))[0]
    except (RuntimeError, ValueError):
        return None


def gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def check(plan: Plan | Config) -> None:
    """Refuse, in one line, a run whose estimate does not fit in the memory there is (before it allocates)."""
    plan = plan if isinstance(plan, Plan) else Plan.of(plan)
    config = plan.config
    parts = estimate(plan)
    on_device = device_available(config.device)
    places = [("this machine", [p for p in parts if not p.device or on_device is None], host_available())]
    if on_device is not None:
        places.append((config.device, [p for p in parts if p.device], on_device))
    for place, mine, free in places:
        need = sum(p.nbytes for p in mine)
        if free is None or need <= free:
            continue
        mine = sorted(mine, key=lambda p: -p.nbytes)
        biggest = ", ".join(f"{p.what} {gb(p.nbytes)}" for p in mine[:2])
        raise GanfitError(
            f"this run needs about {gb(need)} ({config.seeds:,} member{'s' * (config.seeds > 1)} x batch"
            f" {config.batch:,}: {biggest})"
            f" and {place} has {gb(free)} available: use {mine[0].hint}"
        )
