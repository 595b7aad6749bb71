"""TensorBoard event files for a run (`--tensorboard`): `tensorboard --logdir RUN_DIR/tensorboard`.

One TensorBoard "run" per member (member_0000, member_0001, ...) plus `median` (the ensemble's), so that
TensorBoard draws the members of one chart in different colours. At each log row (`write`): scalars
`loss/d_real`, `loss/d_fake`, `loss/g`, `metric/<name>` for every metric of the row, and `learned` (0 or 1
per member; in `median` the fraction of the members that learned); histograms of the fake samples
(`fake/<column>`) for the first HISTOGRAM_MEMBERS members. At the run's end (`write_final`, then
`write_images`): the HPARAMS tab's records (every Config field as the session start info of each run, the
members' with their own seed and per_member values, the experiment with a domain for each field in
`median`, a session end), the summary's final metrics as `final/<name>` (the hparams' metric values), the
config as text (`config`, in `median`) and the run's PNG pictures as images (tag: the file's name, in
`median`). Records are written synchronously with tensorboard's own record framing, protobufs and summary
helpers (no background thread, no TensorFlow), each file opened for the write and closed again, so a
thousand members need no thousand open files.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..config import GRADIENTS, LOSS_NAMES, WATCHABLE
from ..errors import GanfitError
from ..files import io_reason, open_regular

HISTOGRAM_MEMBERS = 8
BINS = 60
TAGS = {"d_loss_real": "loss/d_real", "d_loss_fake": "loss/d_fake", "g_loss": "loss/g", "learned": "learned"}
# hparams domains: the fields in [0, 1], and the closed choices (with whatever else a run used: custom:NAME)
FRACTIONS = ("beta1", "beta2", "g_ema", "lr_decay")
CHOICES = {
    "loss": LOSS_NAMES,
    "gradients": GRADIENTS,
    "early_stop": ("", *WATCHABLE),
    "keep_best": ("", *WATCHABLE),
    "device": ("cpu", "cuda"),
}
NOT_METRICS = ("member", "seed", "status", "status_epoch")  # a summary member's bookkeeping, not a metric
PNG = b"\x89PNG\r\n\x1a\n"
PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # PNG colour type -> Summary.Image colorspace (channels)


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


def _plugins() -> SimpleNamespace:
    # tensorboard is optional, as in _protos: its hparams and text plugins, for the run's end
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
    from tensorboard.plugins.hparams.summary_v2 import hparams_pb
    from tensorboard.plugins.text.summary_v2 import text_pb

    return SimpleNamespace(api=api_pb2, meta=metadata, data=plugin_data_pb2, hparams_pb=hparams_pb, text_pb=text_pb)


def tag(name: str) -> str:
    return TAGS.get(name, f"metric/{name}")


def session_hparams(config, k: int | None) -> dict[str, bool | int | float | str]:
    """Every Config field as an hparam; member k's with its own seed and per_member values (k None: the
    ensemble's, as configured), plus `member`: the TensorBoard run's name."""
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    if k is not None:
        values |= {n: v[k] for n, v in config.member_values().items()} | {"seed": config.member_seeds()[k]}
    values = {n: v if isinstance(v, bool | int | float | str) else str(v) for n, v in values.items()}
    return values | {"member": "median" if k is None else f"member_{k:04d}"}


def final_metrics(summary: dict) -> dict[str, dict[str, float]]:
    """The summary's final numbers by TensorBoard run: the median's (with `learned`, the fraction of the
    members that learned) and each member's, every finite number of its final row."""

    def numbers(values: dict) -> dict[str, float]:
        ok = {n: v for n, v in values.items() if isinstance(v, bool | int | float) and n not in NOT_METRICS}
        return {n: float(v) for n, v in ok.items() if np.isfinite(v)}

    total = summary.get("members_total") or len(summary.get("members", [])) or 1
    out = {"median": numbers(summary.get("median") or {}) | {"learned": summary.get("learned", 0) / total}}
    for k, m in enumerate(summary.get("members", [])):
        out[f"member_{k:04d}"] = numbers(m)
    return out


def png_image(path: Path, image_cls) -> object | None:
    """A Summary.Image of a PNG file's bytes (its size from the IHDR chunk); None for what is no PNG."""
    data = Path(path).read_bytes()
    if len(data) < 26 or not data.startswith(PNG) or data[12:16] != b"IHDR":
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    channels = PNG_CHANNELS.get(data[25], 4)
    return image_cls(height=height, width=width, colorspace=channels, encoded_image_string=data)


class EventLog:
    """Scalars per member and for the median, histograms of fake samples, and at the end the hparams,
    final metrics, config text and pictures; see the module's doc."""

    def __init__(self, root: Path, seeds: list[int], columns: list[str]):
        self.Event, self.Summary, self.Histogram, self.RecordWriter = _protos()
        self.root, self.columns = Path(root), list(columns)
        stamp = f"{time.time():.6f}"
        host = socket.gethostname() or "ganfit"
        self.names = [f"member_{k:04d}" for k in range(len(seeds))] + ["median"]
        self.files = {n: self.root / n / f"events.out.tfevents.{stamp}.{host}.ganfit" for n in self.names}
        for n, path in self.files.items():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise GanfitError(f"cannot write TensorBoard events in {self.root}: {io_reason(e)}") from None
            self._append(n, [self.Event(wall_time=time.time(), file_version="brain.Event:2")])

    def _append(self, name: str, events: list) -> None:
        try:
            with open(open_regular(self.files[name], os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab") as fh:
                w = self.RecordWriter(fh)
                for e in events:
                    w.write(e.SerializeToString())
        except OSError as e:
            raise GanfitError(f"cannot write TensorBoard events in {self.root}: {io_reason(e)}") from None

    def _event(self, step: int, values: list) -> object:
        return self.Event(wall_time=time.time(), step=step, summary=self.Summary(value=values))

    def _scalars(self, step: int, values: dict[str, float], name=tag) -> object:
        vals = [self.Summary.Value(tag=name(n), simple_value=float(v)) for n, v in values.items() if np.isfinite(v)]
        return self._event(step, vals)

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
                    events.append(self._event(epoch, hists))
            self._append(name, events)
        self._append("median", [self._scalars(epoch, ensemble(numeric))])

    def write_final(self, config, summary: dict, step: int) -> None:
        """The run's end, from its config and summary (run.summary): in every run the hparams session (start,
        the final metrics as `final/<name>` scalars, end), in `median` also the hparams experiment (every
        field with its domain, the final metrics) and the config as text (`config`), all at `step`."""
        tb = _plugins()
        finals = final_metrics(summary)
        sessions = {n: session_hparams(config, None if n == "median" else k) for k, n in enumerate(self.names)}
        start = time.time() - float(summary.get("wall_seconds") or 0.0)
        members = summary.get("members") or []
        for k, name in enumerate(self.names):
            values = list(tb.hparams_pb(sessions[name], start_time_secs=start).value)
            if name == "median":
                values.append(self._experiment(tb, config, sessions, finals, start))
                values += list(tb.text_pb("config", f"```toml\n{config.to_toml()}```\n").value)
            state = members[k].get("status") if name != "median" and k < len(members) else None
            ok = summary.get("status") != "interrupted" and state != "diverged"
            end = tb.data.SessionEndInfo(status=tb.api.STATUS_SUCCESS if ok else tb.api.STATUS_FAILURE)
            end.end_time_secs = time.time()
            final = self._scalars(step, finals.get(name, {}), name=lambda n: f"final/{n}")
            end_value = self._hparams_value(tb, tb.meta.SESSION_END_INFO_TAG, session_end_info=end)
            self._append(name, [self._event(step, values), final, self._event(step, [end_value])])

    def _hparams_value(self, tb: SimpleNamespace, name: str, **data) -> object:
        meta = tb.meta.create_summary_metadata(tb.data.HParamsPluginData(**data))
        return self.Summary.Value(tag=name, metadata=meta, tensor=tb.meta.NULL_TENSOR)

    def _experiment(self, tb: SimpleNamespace, config, sessions: dict, finals: dict, start: float) -> object:
        """The hparams experiment: every session's hparam with its description and domain, and the final
        metrics of any session (those of the median and of the members)."""
        docs = {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(config)}
        docs["member"] = "the TensorBoard run: median (the ensemble, as configured) or member_NNNN"
        infos = [hparam_info(tb.api, n, [s[n] for s in sessions.values()], docs.get(n, "")) for n in docs]
        names = sorted({n for values in finals.values() for n in values})
        metrics = [tb.api.MetricInfo(name=tb.api.MetricName(tag=f"final/{n}"), display_name=n) for n in names]
        experiment = tb.api.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=start)
        return self._hparams_value(tb, tb.meta.EXPERIMENT_TAG, experiment=experiment)

    def write_images(self, step: int, paths: list[Path]) -> None:
        """The run's pictures (PNG files) as image summaries in `median` at `step`, tagged by file name."""
        try:
            images = [(Path(p).name, png_image(p, self.Summary.Image)) for p in paths]
        except OSError as e:
            raise GanfitError(f"cannot read the pictures for TensorBoard: {io_reason(e)}") from None
        values = [self.Summary.Value(tag=n, image=im) for n, im in images if im is not None]
        if values:
            self._append("median", [self._event(step, values)])


def ensemble(numeric: dict[str, np.ndarray]) -> dict[str, float]:
    """The median run's scalars of a log row: each column's median over the members, but `learned` as the
    fraction of the members that learned (the median of 0s and 1s says only whether half did)."""
    out = {}
    with np.errstate(all="ignore"):
        for n, v in numeric.items():
            average = np.nanmean if n == "learned" else np.nanmedian
            out[n] = average(v) if np.isfinite(v).any() else np.nan
    return out


def hparam_info(api, name: str, values: list, doc: str) -> object:
    """An HParamInfo with a domain that holds every run's value: booleans both, strings the field's choices
    and the values used, numbers an interval ([0, 1] for fractions, else from 0 or below to the largest)."""
    first = values[0]
    info = api.HParamInfo(name=name, description=doc, differs=len(set(values)) > 1)
    if isinstance(first, bool):
        info.type = api.DATA_TYPE_BOOL
        info.domain_discrete.extend([False, True])
    elif isinstance(first, str):
        info.type = api.DATA_TYPE_STRING
        info.domain_discrete.extend(sorted(set(CHOICES.get(name, ())) | {str(v) for v in values}))
    else:
        info.type = api.DATA_TYPE_FLOAT64
        lo, hi = (0.0, 1.0) if name in FRACTIONS else (0.0, 0.0)
        info.domain_interval.min_value = float(min(lo, *values))
        info.domain_interval.max_value = float(max(hi, *values))
    return info


def read_scalars(member_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of one member's directory, read back with tensorboard's own loader: {tag: [(step, value)]}."""
    # tensorboard is optional: imported by the reader that needs it
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(member_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
