"""A run's metric rows: measured beside training, written to metrics.jsonl, shown as the status line.

At a log epoch, `submit` copies what the row needs (the losses, G's and D's weights as the health
check sees them) and hands the metrics to a worker thread, so that training goes on meanwhile on the
other core. `collect`, at the next log epoch or checkpoint (always the same epochs, so that rows,
health and resumes stay deterministic), judges the members, appends their rows to metrics.jsonl, and
passes the row to TensorBoard and the progress line.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .config import Config
from .errors import GanfitError
from .files import io_reason, jsonable, open_regular, quiet_stdout
from .game import Game, Target
from .game.plan import one_thread
from .measure import Health
from .measure import metrics as M
from .rundir.layout import METRICS


def measure(game: Game, eval_z: torch.Tensor, g_params=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each member's samples of the fixed eval noise (data units) and their metrics, with `learned` (and
    the distances to the held-out samples, where the run has them). G is evaluated on one torch thread,
    as on the metric worker: the rounding of a run's metrics does not depend on its thread count."""
    with one_thread():
        x = game.frame.to_data(game.G.evaluate(eval_z, params=g_params)).cpu().numpy()
    row = M.compute(x, game.target, game.config.target_mmd)
    if game.validation is not None:
        row |= M.against(x, game.validation.data, game.target.std)
    return x, row | {"learned": M.judge(row, game.target)}


@dataclass
class Loop:
    """What a run's loop, its metric rows and its end share: the game, each member's fixed eval noise, the
    health judge, the run directory and the pictures hook (pictures/hook.Snapshots; None where off)."""

    game: Game
    eval_z: torch.Tensor | None
    health: Health | None
    run_dir: Path | None = None
    hook: object | None = None


@dataclass
class LogRow:
    """What a callback is given at each metric row (never inside the step: training goes on meanwhile)."""

    epoch: int
    metrics: dict[str, np.ndarray]  # name -> one value per member: losses, metrics, learned
    samples: np.ndarray  # each member's samples of the fixed eval noise [K, N, dim], in the data's units
    history: list[dict]  # metrics.jsonl's rows so far, this one included
    config: Config
    target: Target
    run_dir: Path | None


class MetricLog:
    """The metric rows of one run (see the module's doc): submit at a log epoch, collect later."""

    def __init__(self, loop: Loop, progress=None, history: list | None = None, nbytes: int = 0, callbacks=()):
        self.game, self.eval_z, self.health, self.run_dir = loop.game, loop.eval_z, loop.health, loop.run_dir
        self.hook, self.progress, self.callbacks = loop.hook, progress, list(callbacks)
        history = [] if history is None else history
        self.stopped = False  # a callback asked the run to stop
        self.pipe_closed = False  # the progress lines' reader went away (then stopped too)
        self.history, self.metrics_bytes = history, nbytes
        self.final: dict[str, np.ndarray] = {}  # the latest row, per member
        self.samples = np.empty(0)  # the latest row's samples [K, N, dim]
        self.seeds = self.game.config.member_seeds()
        # One thread of torch's own there: by default its first op would start a second OpenMP team, as
        # wide as the machine, whose threads then contend with the training's team at every op (3x slower).
        self.worker = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="ganfit-metrics", initializer=torch.set_num_threads, initargs=(1,)
        )
        self.pending: list = []
        self.file = self._open(self.run_dir) if self.run_dir else None

    @staticmethod
    def _open(run_dir: Path):
        """metrics.jsonl for appending: a regular file only (a symbolic link there is never followed)."""
        try:
            return open(open_regular(run_dir / METRICS, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab")
        except OSError as e:
            raise GanfitError(f"cannot write in {run_dir}: {io_reason(e)}") from None

    def submit(self, epoch: int, out, real_batch: torch.Tensor, write: bool = True) -> None:
        """At log epoch `epoch`, with the step's output: measure this state of the members."""
        self.collect()
        losses = [x.cpu().numpy() for x in out[0]()]
        if self.hook:
            self.hook.take_frame(epoch)
        params = self.health.snapshot()  # G's parameters, then D's: the order Health was given
        n = len(list(self.game.G.parameters()))
        job = self.worker.submit(measure, self.game, self.eval_z, params[:n])
        self.pending.append((job, epoch, losses, params, write, real_batch, out[1].clone()))  # engines may reuse it

    def collect(self) -> None:
        """The pending row, if any: judged, written and shown."""
        if not self.pending:
            return
        job, epoch, losses, params, write, real_batch, fake = self.pending.pop()
        self.samples, row = job.result()
        self.health.check(epoch, losses, row, params)
        self.final = row | dict(zip(M.LOSS_COLUMNS, losses))
        lines = []
        for k, seed in enumerate(self.seeds):
            rec = {"epoch": epoch, "member": k, "seed": seed, "status": self.health.status(k)[0]}
            rec = jsonable(rec | {n: v[k] for n, v in self.final.items()})
            self.history.append(rec)
            lines.append(json.dumps(rec, allow_nan=False) + "\n")
        if self.file and write:
            data = "".join(lines).encode()
            try:
                self.file.write(data)
                self.file.flush()
            except OSError as e:
                raise GanfitError(f"cannot write in {self.run_dir}: {io_reason(e)}") from None
            self.metrics_bytes += len(data)
        if self.hook:
            self.hook.write_row(epoch, self.final, self.samples)
        if self.progress:
            frame = self.game.frame
            line = status_line(epoch, losses, frame.to_data(real_batch), frame.to_data(fake), row)
            try:
                self.progress.update(epoch, line)
            except BrokenPipeError:  # `ganfit train | head`: no one reads on; the run ends as interrupted
                self.progress, self.stopped, self.pipe_closed = None, True, True
                quiet_stdout()
        if self.callbacks:
            g = self.game
            event = LogRow(epoch, self.final, self.samples, self.history, g.config, g.target, self.run_dir)
            for callback in self.callbacks:
                if callback(event) is True:  # True: stop the run (at the next epoch, with a checkpoint)
                    self.stopped = True

    def close(self) -> None:
        """Wait for the worker thread, close metrics.jsonl and the progress line."""
        self.worker.shutdown(wait=True, cancel_futures=True)
        if self.file:
            self.file.close()
        if self.progress:
            self.progress.close()


def status_line(epoch: int, losses, real: torch.Tensor, fake: torch.Tensor, row: dict[str, np.ndarray]) -> str:
    """The seed's status line for member 0, plus a one-line digest of the ensemble."""
    lr, lf, lg = (float(x[0]) for x in losses)
    r, f, K = real[0].double(), fake[0].double(), len(losses[0])
    line = (
        f"{epoch}: D: {lr:.4f}/{lf:.4f} G: {lg:.4f} (Real: [{r.mean():.4f}, {r.std(unbiased=False):.4f}], "
        f"Fake: [{f.mean():.4f}, {f.std(unbiased=False):.4f}])"
    )
    if K > 1 and "mean" in row:
        line += (
            f"\n    ensemble of {K}: median mean {np.nanmedian(row['mean']):.3f}, median std "
            f"{np.nanmedian(row['std']):.3f}, median KS {np.nanmedian(row['ks']):.3f}, "
            f"learned {int(row['learned'].sum())}/{K}"
        )
    elif "sw" in row:  # 2-D: the distances and, for mixtures, the mode metrics
        with np.errstate(all="ignore"):
            line += f"\n    ensemble of {K}: median sliced W1 {np.nanmedian(row['sw']):.4f}"
            if "modes" in row:
                line += f", modes {np.nanmedian(row['modes']):g}, HQ {np.nanmedian(row['hq']):.3f}"
            line += f", learned {int(row['learned'].sum())}/{K}"
    return line
