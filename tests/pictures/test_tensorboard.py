"""--tensorboard: event files that TensorBoard's own loader reads back, equal to metrics.jsonl."""

import dataclasses
import json

import numpy as np
import pytest

from ganfit import Config, GanfitError, train
from ganfit.pictures import tensorboard as tb
from ganfit.pictures.hook import Snapshots

pytest.importorskip("tensorboard")


def test_event_files_hold_every_members_scalars_and_histograms(tmp_path):
    out = tmp_path / "run"
    train(Config(seeds=3, epochs=60, log_every=20, eval_samples=400, tensorboard=True), out)
    root = out / "tensorboard"
    assert sorted(p.name for p in root.iterdir()) == ["median", "member_0000", "member_0001", "member_0002"]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    for k in range(3):
        scalars = tb.read_scalars(root / f"member_{k:04d}")
        assert {"loss/d_real", "loss/d_fake", "loss/g", "metric/mean", "metric/ks", "learned"} <= set(scalars)
        mine = [r for r in rows if r["member"] == k]
        assert [s for s, _ in scalars["metric/ks"]] == [r["epoch"] for r in mine] == [0, 20, 40, 59]
        assert np.allclose([v for _, v in scalars["metric/ks"]], [r["ks"] for r in mine], rtol=1e-6)
        assert np.allclose([v for _, v in scalars["loss/g"]], [r["g_loss"] for r in mine], rtol=1e-6)
    median = tb.read_scalars(root / "median")["metric/std"]
    last = [r["std"] for r in rows if r["epoch"] == 59]
    assert median[-1][0] == 59 and median[-1][1] == pytest.approx(np.median(last), rel=1e-6)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(root / "member_0001"), size_guidance={"histograms": 0})
    acc.Reload()
    hist = acc.Histograms("fake/x")
    assert [h.step for h in hist] == [0, 20, 40, 59]
    assert hist[-1].histogram_value.num == 400  # every eval sample of the member
    assert hist[-1].histogram_value.sum / 400 == pytest.approx(mine_mean(rows, 1, 59), rel=1e-5)


def mine_mean(rows, member, epoch):
    return next(r["mean"] for r in rows if r["member"] == member and r["epoch"] == epoch)


def test_non_numeric_columns_are_skipped_and_missing_package_is_one_clear_error(tmp_path, monkeypatch):
    log = tb.EventLog(tmp_path / "tb", [0], ["x"])
    log.write(5, {"ks": np.array([0.25]), "status": np.array(["ok"])}, np.zeros((1, 10, 1)))
    assert tb.read_scalars(tmp_path / "tb" / "member_0000") == {"metric/ks": [(5, 0.25)]}
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *a, **kw):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(GanfitError, match="--tensorboard needs the tensorboard package"):
        tb.EventLog(tmp_path / "tb2", [0], ["x"])


def trained_with_hook(tmp_path, monkeypatch):
    """A tiny run with pictures and TensorBoard, and its hook closed as training._finish does (a second
    close does nothing, so this holds whether training calls it yet or not)."""
    hooks = []
    real_finish = Snapshots.finish

    def finish(self):
        hooks.append(self)
        return real_finish(self)

    monkeypatch.setattr(Snapshots, "finish", finish)
    config = Config(epochs=60, log_every=20, eval_samples=500, seeds=2, tensorboard=True, pictures=True)
    run = train(config, tmp_path / "r")
    hooks[0].close(run.summary)
    return config, run, hooks[0]


def accumulator(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_the_runs_end_gives_hparams_config_text_pictures_and_learned_fraction(tmp_path, monkeypatch):
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import metadata as hp
    from tensorboard.util.tensor_util import make_ndarray

    config, run, hook = trained_with_hook(tmp_path, monkeypatch)
    root, s = run.dir / "tensorboard", run.summary
    assert run.config.threads and not config.threads  # the run's config: the thread count resolved
    config = run.config
    median = accumulator(root / "median")
    content = median.PluginTagToContent(hp.PLUGIN_NAME)
    start = hp.parse_session_start_info_plugin_data(content[hp.SESSION_START_INFO_TAG])
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(Config)}
    assert set(start.hparams) == set(fields) | {"member"} and start.hparams["member"].string_value == "median"
    for name, value in fields.items():  # every field's value, as its type
        kind = "bool_value" if isinstance(value, bool) else "string_value" if isinstance(value, str) else "number_value"
        assert getattr(start.hparams[name], kind) == value, name
    experiment = hp.parse_experiment_plugin_data(content[hp.EXPERIMENT_TAG])
    infos = {i.name: i for i in experiment.hparam_infos}
    assert set(infos) == set(fields) | {"member"}
    assert infos["pictures"].type == api_pb2.DATA_TYPE_BOOL and list(infos["pictures"].domain_discrete) == [0, 1]
    assert {"bce", "wgan", config.loss} <= set(infos["loss"].domain_discrete)
    assert (infos["beta1"].domain_interval.min_value, infos["beta1"].domain_interval.max_value) == (0, 1)
    assert infos["epochs"].domain_interval.max_value >= 60 and infos["seed"].differs  # members 0 and 1
    tags = {m.name.tag for m in experiment.metric_infos}
    assert {"final/ks", "final/w1", "final/learned", "final/g_loss"} <= tags
    end = hp.parse_session_end_info_plugin_data(content[hp.SESSION_END_INFO_TAG])
    assert end.status == api_pb2.STATUS_SUCCESS

    scalars = tb.read_scalars(root / "median")
    assert scalars["final/ks"] == [(59, pytest.approx(s["median"]["ks"], rel=1e-6))]
    fraction = s["learned"] / s["members_total"]
    assert scalars["final/learned"] == [(59, pytest.approx(fraction))]
    assert scalars["learned"][-1] == (59, pytest.approx(fraction))
    for k, member in enumerate(s["members"]):
        mine = accumulator(root / f"member_{k:04d}")
        start = hp.parse_session_start_info_plugin_data(
            mine.PluginTagToContent(hp.PLUGIN_NAME)[hp.SESSION_START_INFO_TAG]
        )
        assert start.hparams["seed"].number_value == member["seed"] == k
        assert start.hparams["member"].string_value == f"member_{k:04d}"
        finals = tb.read_scalars(root / f"member_{k:04d}")
        assert finals["final/w1"] == [(59, pytest.approx(member["w1"], rel=1e-6))]
        assert finals["final/learned"] == [(59, float(member["learned"]))]

    text = make_ndarray(median.Tensors("config")[-1].tensor_proto).item().decode()
    assert config.to_toml() in text and median.Tensors("config")[-1].step == 59
    pngs = sorted(p.name for p in run.dir.glob("*.png"))
    assert {"moments.png", "histogram.png", "curves.png", "distribution.png"} <= set(pngs)
    assert sorted(median.Tags()["images"]) == pngs
    image = median.Images("histogram.png")[-1]
    assert image.step == 59 and image.encoded_image_string == (run.dir / "histogram.png").read_bytes()
    assert image.width > 100 and image.height > 100
    sizes = [p.stat().st_size for p in sorted(root.rglob("events.*"))]
    hook.close(s)  # as training._finish will once it calls close: a second close writes nothing
    assert [p.stat().st_size for p in sorted(root.rglob("events.*"))] == sizes


def test_the_median_runs_learned_is_the_fraction_of_members_that_learned(tmp_path):
    log = tb.EventLog(tmp_path / "tb", [0, 1, 2], ["x"])
    log.write(3, {"learned": np.array([True, False, True]), "ks": np.array([0.1, 0.3, np.nan])}, np.zeros((3, 5, 1)))
    median = tb.read_scalars(tmp_path / "tb" / "median")
    assert median["learned"] == [(3, pytest.approx(2 / 3))]  # the median of 1, 0, 1 would say 1
    assert median["metric/ks"] == [(3, pytest.approx(0.2))]
    assert tb.read_scalars(tmp_path / "tb" / "member_0001")["learned"] == [(3, 0.0)]
