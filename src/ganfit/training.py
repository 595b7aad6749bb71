"""Training: the seed's alternating game, played by K independent GANs at once.

`train(config, out)` builds the game (game/), opens the run directory (rundir/), plays the epochs and
ends the run. Each epoch, D takes `d_steps` steps (real batch labelled 1, G's samples 0) and then G
`g_steps` (make D say 1). Randomness for a block of epochs is drawn ahead in one go from counter-based
streams (game/rng.py); nothing in the step reads a value back to the host; metric rows are measured
every `log_every` epochs beside training (metric_log.py).
"""

from __future__ import annotations

import contextlib
import gc
import shlex
import time
import warnings
from pathlib import Path

import torch

from . import budget, provenance
from .config import Config
from .errors import GanfitError
from .files import io_reason
from .game import Game, Plan, eval_noise, native, rng
from .measure import Health
from .measure import metrics as M
from .metric_log import Loop, MetricLog, measure
from .pictures import figures
from .pictures.hook import Snapshots
from .progress import Progress
from .run import Run
from .rundir import checkpoint, layout
from .rundir.layout import METRICS

DRAW_BUDGET = 1 << 17  # uniforms drawn per block: small enough that int64 temporaries stay in cache


def train(config: Config, out: str | Path | None = None, progress="auto", resume: bool = False, callbacks=()) -> Run:
    """Train config.seeds GANs together; write the run directory `out` (if given); return the Run.

    With resume=True, `out` is an existing run directory: training continues from its last checkpoint
    and ends bit for bit where an uninterrupted run would. `progress`: "auto" (a progress bar in a
    terminal or a notebook, nothing elsewhere), None, or an object told `start(total, done)`,
    `update(epoch, line)` at every log row and `close()`. `callbacks`: functions called with a
    metric_log.LogRow at every metric row, beside training (never inside the step); one that returns
    True stops the run, which then ends as an interrupted one does (checkpointed, resumable).
    """
    if progress == "auto":
        progress = Progress(lines=False)
    if out is None and (config.pictures or config.tensorboard):
        warnings.warn(
            "pictures and tensorboard are written to a run directory: give out=DIR (or run.save(DIR) after)",
            stacklevel=2,
        )
    plan = Plan.of(config)  # validated, its data read, sizes, engine and threads worked out: once
    budget.check(plan)  # before anything is allocated: a run that would not fit is one line
    game = Game.build(plan)
    _check_watched(game)
    run_dir = Path(out) if out is not None else None
    made = None  # this process's claim on a new run directory: (whether it made the directory,)
    game.provenance = provenance.collect(native.platform_info())  # once: the config table and the summary
    try:
        if run_dir and not resume:
            data = {"target": plan.target, "validation": plan.validation}  # read once, by the plan
            game.config, made_dir = layout.claim(run_dir, game.config, game.provenance, data)  # data: files
            made = (made_dir,)
        with contextlib.ExitStack() as stack:
            if run_dir:
                stack.enter_context(checkpoint.RunLock(run_dir))
            stop = stack.enter_context(checkpoint.StopSignals())
            stack.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(game.config.threads)
            return _train(game, run_dir, resume, stop, progress, callbacks)
    except (GanfitError, KeyboardInterrupt):  # a Ctrl-C before the loop answers signals: the same
        if made and not (run_dir / checkpoint.CHECKPOINT).exists():
            layout.discard(run_dir, *made)  # its own, failed before its first checkpoint: nothing half-made
        raise


def _check_watched(game: Game) -> None:
    """early_stop and keep_best name metrics this run computes."""
    c = game.config
    known = M.watchable(game.target, game.validation is not None, c.target_mmd)
    for name in ("early_stop", "keep_best"):
        if getattr(c, name) and getattr(c, name) not in known:
            needs = " (val_ metrics need a validation set)" if getattr(c, name).startswith("val_") else ""
            raise GanfitError(f"{name} {getattr(c, name)!r}: this run computes {', '.join(known)}{needs}")


def _train(game: Game, run_dir: Path | None, resume: bool, stop, progress, callbacks) -> Run:
    c, seeds = game.config, game.config.member_seeds()
    device = game.G.device
    keys = rng.member_keys(seeds, "train", device)
    eval_z = eval_noise(c, game.noise, device)
    params = game.g_params() + list(game.D.parameters())
    health = Health(params, c.early_stop, c.early_stop_patience, c.early_stop_delta, c.keep_best)
    epoch, history, nbytes = _restore(game, health, run_dir) if resume else (0, [], 0)
    hook = Snapshots.start(game, eval_z, run_dir)  # pictures and TensorBoard; None when off
    loop = Loop(game, eval_z, health, run_dir, hook)
    log = MetricLog(loop, progress, history, nbytes, callbacks)
    if progress:
        progress.start(c.epochs, epoch)
    started, first = time.perf_counter(), epoch
    # What exists now (the imports' ~10^6 objects) is not garbage while the loop runs: out of the
    # collector's sight, its full passes no longer cost milliseconds (8% of the seed's K = 1 step in perf);
    # given back afterwards, so that a long-lived process (a notebook, a sweep) still collects it.
    gc.freeze()
    try:
        epoch, status = _play(loop, keys, log, stop, epoch)
    finally:
        gc.unfreeze()
        log.close()
    return _finish(loop, log, layout.Outcome(status, epoch, time.perf_counter() - started, epoch - first))


def _play(loop: Loop, keys, log: MetricLog, stop, epoch: int):
    """The epochs from `epoch` to the end or a stop; returns (the epochs done, the run's status)."""
    game, health, run_dir = loop.game, loop.health, loop.run_dir
    c = game.config
    block = max(1, DRAW_BUDGET // (keys.shape[0] * game.plan.uniforms_per_epoch))

    def save(epoch: int) -> None:
        log.collect()  # at every checkpoint epoch, with or without a run directory: the same schedule
        if run_dir:
            checkpoint.save(run_dir, game.state() | health.state(), epoch, log.metrics_bytes)

    start = epoch
    while epoch < c.epochs and not stop.requested and not log.stopped and not health.all_frozen():
        first = epoch - epoch % block  # blocks are aligned so that a resumed run draws identical blocks
        drawn = game.draw(keys, first, min(block, c.epochs - first))  # real batches and noise, ahead
        while epoch - first < len(drawn):
            t, n = epoch - first, _until_event(c, epoch, first + len(drawn))
            out = game.play(drawn, t, t + n)  # n epochs: each D's steps, then G's
            epoch, t = epoch + n, t + n - 1
            if c.logs_at(epoch - 1):
                log.submit(epoch - 1, out, drawn.real[t, -1])
            if epoch % c.checkpoint_every == 0 or epoch == c.epochs:
                save(epoch)
            if stop.requested or log.stopped or health.all_frozen():
                break
    status = "finished"
    if start < epoch < c.epochs:  # stopped early: keep where it got, say why
        stopped = "stopped by a callback" if log.stopped else "all members stopped"
        status = "interrupted" if stop.requested or log.pipe_closed else stopped
        save(epoch)
        if not c.logs_at(epoch - 1):
            log.submit(epoch - 1, out, drawn.real[t, -1], write=False)
    log.collect()
    return epoch, status


CHUNK = 64  # epochs per call at most: a signal is answered within a few milliseconds


def _until_event(c: Config, epoch: int, end: int) -> int:
    """How many epochs to play from `epoch` before something must happen: a metric row, a checkpoint,
    the block's end (`end`), or CHUNK epochs."""
    n = 1
    while n < CHUNK and epoch + n < end and not c.logs_at(epoch + n - 1) and (epoch + n) % c.checkpoint_every:
        n += 1
    return n


def _restore(game: Game, health: Health, run_dir: Path) -> tuple[int, list[dict], int]:
    """The state at the last checkpoint: (its epoch, metrics.jsonl's rows up to it, their bytes)."""
    layout.check_data(run_dir, game.config)
    was = layout.read_summary(run_dir).get("engine")
    if was and was != game.engine.name:  # no compiler now, say: the same game, other float rounding
        warnings.warn(
            f"{run_dir} trained on the {was} engine and goes on on the {game.engine.name} one: its weights"
            " will differ in rounding from an uninterrupted run's",
            stacklevel=4,
        )
    checkpoint.remove_stale_temporaries(run_dir)
    tensors, epoch, nbytes = checkpoint.load(run_dir, game.state() | health.state())
    game.load_state(tensors, epoch)
    health.load_state(tensors)
    if epoch > game.config.epochs or (epoch == game.config.epochs and layout.finished(run_dir)):
        more = f"ganfit train --resume {shlex.quote(str(run_dir))} --epochs {2 * epoch}"
        raise GanfitError(f"{run_dir} has trained {epoch} epochs: give it more, e.g. {more}")
    provenance.note(provenance.read(run_dir / layout.CONFIG), native.platform_info())
    layout.rewrite_config(run_dir, game.config)  # a resume that asked for more epochs, once it is sure
    layout.cut_metrics(run_dir / METRICS, nbytes)
    layout.drop_report(run_dir)  # it shows the run as it was
    return epoch, layout.read_metrics(run_dir / METRICS), nbytes


def _finish(loop: Loop, log: MetricLog, outcome: layout.Outcome) -> Run:
    """The end of a run: the kept weights, the final rows, the summary, and the run directory's files."""
    game, eval_z, health, hook, run_dir = loop.game, loop.eval_z, loop.health, loop.hook, loop.run_dir
    c, target, seeds = game.config, game.target, game.config.member_seeds()
    health.restore()
    game.use_ema()
    final, samples = log.final, log.samples
    if not final and log.history:  # killed after its last checkpoint: the final rows are in metrics.jsonl
        final = layout.last_rows(log.history, len(seeds))
        samples = measure(game, eval_z)[0]
    if health.frozen.any() or c.keep_best:  # members end in their kept or best state, measured as saved
        samples, row = measure(game, eval_z)
        final = final | row
    if c.keep_best:
        final["best_epoch"] = health.best_epoch.numpy()
    run = Run(c, game.G, game.D, game.frame, list(target.columns), run_dir, history=log.history)
    statuses = [health.status(k) for k in range(len(seeds))]
    run.summary = layout.summary(c, target, final, statuses, outcome) | {
        "engine": game.engine.name,  # which gradient engine played it (fast, compiled or autograd)
        "provenance": game.provenance,
    }
    if run_dir:
        run.write_results()
        try:
            snaps, gif = hook.finish() if hook else (None, None)
            figures.run_pictures(run_dir, target, run.history, samples, snaps, gif)
            if hook:
                hook.close(run.summary)  # TensorBoard's hparams, final metrics and the pictures
        except OSError as e:
            raise GanfitError(f"cannot write pictures in {run_dir}: {io_reason(e)}") from None
    return run
