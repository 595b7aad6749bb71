"""A config worked out once, before anything is allocated: the plan that budget.py, Game.build, the thread
choice and the summary all read.

Plan.of validates the config, builds R, I and D's view from their specs (a CSV target is read here, once),
works out G's and D's layer sizes, D's inputs per batch and the uniforms a member draws per epoch, picks
the engine class (engine_for) and resolves the thread count, which it records in the config (it can change
float rounding). Nothing here allocates a tensor of the run's size.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import Config
from ..errors import GanfitError
from . import compiled, cuda, fast
from .autograd import AutogradEngine
from .compiled import CompiledEngine
from .cuda import GraphEngine
from .fast import FastEngine
from .models import parse_activations
from .noise import Noise, make_noise
from .targets import Target, make_target
from .views import MinibatchView, make_view


def engine_for(config: Config, view) -> type:
    """The engine class that plays config's game: the compiled or the torch hand-derived step wherever
    they cover it (unless `gradients` asks for autograd), else autograd. The one place that chooses."""
    covered = fast.covers(config, view)
    if config.gradients == "fast" and not covered:
        raise GanfitError(f"gradients 'fast' covers {fast.COVERS}; use 'autograd' for {config.loss} / {config.d_view}")
    if covered and config.gradients != "autograd":
        if cuda.covers(config, view):
            return GraphEngine
        return CompiledEngine if compiled.covers(config, view) else FastEngine
    return AutogradEngine


@dataclass(frozen=True)
class Plan:
    """Every number a run's parts are built from, worked out once from its config."""

    config: Config  # validated, its thread count resolved
    target: Target  # R
    noise: Noise  # I
    view: object  # how D sees a batch (game/views.py)
    validation: Target | None  # held-out samples the members are measured against, or None
    g_sizes: tuple[int, ...]  # G's layers: noise dim, g_hidden per activation, the data's dim
    d_sizes: tuple[int, ...]  # D's layers: its view's width, d_hidden per activation, 1
    d_inputs: int  # D's inputs per batch: 1 for the seed's minibatch view, batch / m for the others
    engine: type  # the engine class that plays it (engine_for)
    uniforms_per_epoch: int  # what one member draws per epoch: real batches and noise for every step

    @classmethod
    def of(cls, config: Config) -> Plan:
        config.validate()
        target, noise, view = make_target(config.target), make_noise(config.noise), make_view(config.d_view)
        validation = make_target(config.validation) if config.validation else None
        if validation is not None and (validation.data is None or validation.dim != target.dim):
            raise GanfitError(f"validation: needs {target.dim}-D samples (csv:, npy: or data in memory)")
        c, dim = config, target.dim
        g_acts = parse_activations(c.g_activations, "g_activations")
        d_acts = parse_activations(c.d_activations, "d_activations")
        engine = engine_for(config, view)
        if not config.threads:  # resolved and recorded: the thread count can change float rounding
            config = config.replace(threads=default_threads(config, engine))
        return cls(
            config,
            target,
            noise,
            view,
            validation,
            (noise.dim, *[c.g_hidden] * len(g_acts), dim),
            (view.features(c.batch, dim), *[c.d_hidden] * len(d_acts), 1),
            1 if isinstance(view, MinibatchView) else c.batch // getattr(view, "m", 1),
            engine,
            c.batch * (c.d_steps * (target.n_uniforms + noise.n_uniforms) + c.g_steps * noise.n_uniforms),
        )


SMALL_OPS = 160_000  # K x batch x width below which a second thread gains at most 20% in torch's step


def default_threads(config: Config, engine: type | None = None) -> int:
    """The compiled step splits the members across threads (a member's arithmetic does not depend on
    how many): as many as there are idle cores, at most one per member. Torch's step: one thread where
    its ops are small, K * batch * width < SMALL_OPS (the seed's game below K = 32, where a second
    thread gained at most 20%), else the idle cores (+50-100%: the ring recipe at K = 10 ran 737 and
    1,115 GAN-epochs/s). A thread that has to share its core with another busy process slows every op
    down (docs/performance.md)."""
    if config.threads:
        return config.threads
    engine = engine or engine_for(config, make_view(config.d_view))
    if engine.splits_members:
        return min(config.seeds, idle_cores())
    if config.seeds * config.batch * max(config.g_hidden, config.d_hidden) < SMALL_OPS or os.cpu_count() == 1:
        return 1
    return idle_cores()


def idle_cores(looks: int = 5) -> int:
    """The cores no other work keeps busy now (at least 1): the most of `looks` looks a millisecond apart,
    as a task that wakes for an instant (a kernel thread, a process that is ending) is in one count."""
    cores, idle = os.cpu_count() or 1, 1
    for look in range(looks):
        time.sleep(0.001 if look else 0.0)
        idle = max(idle, min(cores, cores - busy_cores()))
        if idle == cores:
            break
    return idle


@contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread inside the block, and as it was after: for small ops, where a second thread
    costs more in waking than it gives, and for rounding that does not depend on the thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def busy_cores(loadavg: str | None = None, own: int | None = None) -> int:
    """How many cores other work keeps busy now: the runnable tasks in /proc/loadavg ("r/t") less `own`,
    this process's (running_threads()), not the one-minute average, which still counts a run that ended
    seconds ago."""
    try:
        text = loadavg if loadavg is not None else Path("/proc/loadavg").read_text()
        return max(0, int(text.split()[3].split("/")[0]) - (running_threads() if own is None else own))
    except (OSError, IndexError, ValueError):  # no /proc (macOS, say): the average is what there is
        return round(os.getloadavg()[0])


def running_threads() -> int:
    """This process's threads that are running or runnable now (at least 1, the caller): after an op,
    torch's OpenMP threads spin for a while, and counted as other work they would halve the next choice."""
    running = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # a thread that ended as it was read
            continue
        running += stat[stat.rindex(")") + 2] == "R"  # the state follows the name, which may hold spaces
    return max(1, running)
