"""TensorBoard event files for a run (`--tensorboard`): `tensorboard --logdir RUN_DIR/tensorboard`.

One TensorBoard "run" per member (member_0000, member_0001, ...) plus `median` (the ensemble's), so that
TensorBoard draws the members of one chart in different colours. Scalars: `loss/d_real`, `loss/d_fake`,
`loss/g`, `metric/<name>` for every metric of the log row, and `learned` (0 or 1). Histograms of the
fake samples (`fake/<column>`) for the first HISTOGRAM_MEMBERS members. Records are written
synchronously with tensorboard's own record framing and protobufs (no background thread), each file
opened for the write and closed again, so a thousand members need no thousand open files.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np

from ..errors import GanfitError
from ..files import io_reason

HISTOGRAM_MEMBERS = 8
BINS = 60
TAGS = {"d_loss_real": "loss/d_real", "d_loss_fake": "loss/d_fake", "g_loss": "loss/g", "learned": "learned"}


def _protos():
    # tensorboard is optional (ganfit[tensorboard]): imported only by a run that asks for it
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError:
        raise GanfitError(
            "--tensorboard needs the tensorboard package: pip install 'ganfit[tensorboard]' (or tensorboard)"
        ) from None
    return Event, Summary, HistogramProto, RecordWriter


def tag(name: str) -> str:
    return TAGS.get(name, f"metric/{name}")


class EventLog:
    """Scalars per member and for the median, histograms of fake samples; see the module's doc."""

    def __init__(self, root: Path, seeds: list[int], columns: list[str]):
        self.Event, self.Summary, self.Histogram, self.RecordWriter = _protos()
        self.root, self.columns = Path(root), list(columns)
        stamp = f"{time.time():.6f}"
        host = socket.gethostname() or "ganfit"
        self.names = [f"member_{k:04d}" for k in range(len(seeds))] + ["median"]
        self.files = {n: self.root / n / f"events.out.tfevents.{stamp}.{host}.ganfit" for n in self.names}
        for n, path in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._append(n, [self.Event(wall_time=time.time(), file_version="brain.Event:2")])

    def _append(self, name: str, events: list) -> None:
        try:
            with open(self.files[name], "ab") as fh:
                w = self.RecordWriter(fh)
                for e in events:
                    w.write(e.SerializeToString())
        except OSError as e:
            raise GanfitError(f"cannot write TensorBoard events in {self.root}: {io_reason(e)}") from None

    def _scalars(self, step: int, values: dict[str, float]) -> object:
        vals = [self.Summary.Value(tag=tag(n), simple_value=float(v)) for n, v in values.items() if np.isfinite(v)]
        return self.Event(wall_time=time.time(), step=step, summary=self.Summary(value=vals))

    def _histogram(self, name: str, x: np.ndarray):
        x = x[np.isfinite(x)].astype(np.float64)
        if not x.size:
            return None
        counts, edges = np.histogram(x, bins=BINS)
        h = self.Histogram(
            min=float(x.min()),
            max=float(x.max()),
            num=float(x.size),
            sum=float(x.sum()),
            sum_squares=float(np.dot(x, x)),
            bucket_limit=edges[1:].tolist(),
            bucket=counts.astype(float).tolist(),
        )
        return self.Summary.Value(tag=name, histo=h)

    def write(self, epoch: int, row: dict[str, np.ndarray], samples: np.ndarray) -> None:
        """One log row: row maps names to per-member arrays [K]; samples [K, N, dim] in the data's units."""
        numeric = {}
        for n, v in row.items():
            try:
                if np.ndim(v) == 1:
                    numeric[n] = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):  # a non-numeric column (a status word): not a scalar
                pass
        samples = np.asarray(samples)
        for k, name in enumerate(self.names[:-1]):
            events = [self._scalars(epoch, {n: v[k] for n, v in numeric.items()})]
            if k < HISTOGRAM_MEMBERS and samples.ndim >= 2:
                x = samples[k].reshape(samples.shape[1], -1)
                hists = [self._histogram(f"fake/{c}", x[:, j]) for j, c in enumerate(self.columns[: x.shape[1]])]
                hists = [h for h in hists if h is not None]
                if hists:
                    events.append(self.Event(wall_time=time.time(), step=epoch, summary=self.Summary(value=hists)))
            self._append(name, events)
        with np.errstate(all="ignore"):
            medians = {n: np.nanmedian(v) if np.isfinite(v).any() else np.nan for n, v in numeric.items()}
        self._append("median", [self._scalars(epoch, medians)])


def read_scalars(member_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of one member's directory, read back with tensorboard's own loader: {tag: [(step, value)]}."""
    # tensorboard is optional: imported by the reader that needs it
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(member_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
