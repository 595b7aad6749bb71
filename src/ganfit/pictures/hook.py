"""The training loop's one hook for pictures and TensorBoard.

`Snapshots.start` returns None unless the config asks for pictures or TensorBoard and the run has a
directory. At a log row, `take_frame` evaluates the capture (capture.py) when a snapshot is due, at the
epoch itself, and keeps the device tensors; `write_row` writes TensorBoard's records from the host
numbers the log has computed, whenever they are ready. `finish` stacks the snapshots, copies them to the
host once, writes snapshots.npz and starts evolution.gif in the painter process. `close`, after the
pictures are drawn, gives TensorBoard the run's end: the hparams with the summary's final metrics, the
config as text and the run directory's PNG pictures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import painter
from .capture import Capture
from .snapdata import EVOLUTION, SNAPSHOTS, SnapData
from .tensorboard import EventLog


class Snapshots:
    """The training loop's one hook for pictures and TensorBoard (see the module's doc)."""

    def __init__(self, game, eval_z: torch.Tensor, run_dir: Path):
        c = game.config
        self.game, self.run_dir, self.every = game, run_dir, c.snapshot_interval()
        self.capture = Capture(game, eval_z) if c.pictures else None
        if c.pictures:
            painter.start()  # now, so that its imports overlap training
        self.frames: list[dict[str, torch.Tensor]] = []
        self.epochs: list[int] = []
        self.window = -1
        self.tb = EventLog(run_dir / "tensorboard", c.member_seeds(), game.target.columns) if c.tensorboard else None
        self.closed = False

    @classmethod
    def start(cls, game, eval_z: torch.Tensor, run_dir: Path | None) -> Snapshots | None:
        c = game.config
        if run_dir is None or not (c.pictures or c.tensorboard):
            return None
        return cls(game, eval_z, run_dir)

    def write_row(self, epoch: int, row: dict[str, np.ndarray], samples: np.ndarray) -> None:
        """TensorBoard's scalars and histograms of a log row (whenever its metrics are ready)."""
        if self.tb:
            self.tb.write(epoch, row, samples)

    def take_frame(self, epoch: int) -> None:
        """A picture snapshot of the live weights, when one is due: call it at the epoch itself."""
        last = epoch == self.game.config.epochs - 1
        if self.capture and (epoch // self.every != self.window or last) and epoch not in self.epochs:
            self.window = epoch // self.every
            self.frames.append(self.capture.take())
            self.epochs.append(epoch)

    def data(self) -> SnapData | None:
        if not self.frames:
            return None
        keys = self.frames[0].keys()
        arrays = {k: torch.stack([f[k] for f in self.frames]).float().cpu().numpy() for k in keys}
        return SnapData(self.capture.meta(), np.array(self.epochs), arrays | self.capture.fixed())

    def finish(self) -> tuple[SnapData | None, object]:
        """After training: snapshots.npz written and the painter asked for evolution.gif; returns the
        snapshots and the painter's job (for figures.run_pictures), (None, None) without pictures."""
        snaps = self.data()
        if snaps is None:
            return None, None
        snaps.save(self.run_dir / SNAPSHOTS)
        gif = None
        if len(snaps.epochs) > 1:
            gif = painter.submit(self.run_dir / SNAPSHOTS, self.game.config.target, self.run_dir / EVOLUTION)
        return snaps, gif

    def close(self, summary: dict) -> None:
        """After the pictures (figures.run_pictures): TensorBoard's hparams (every config field, the summary's
        final metrics), the config as text and the run directory's PNG files as images, at the last epoch.
        `summary` is run.summary; a second call does nothing."""
        if self.tb is None or self.closed:
            return
        self.closed = True
        step = max(int(summary.get("epochs") or 0) - 1, 0)
        self.tb.write_final(self.game.config, summary, step)
        self.tb.write_images(step, sorted(self.run_dir.glob("*.png")))
