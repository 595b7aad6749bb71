"""--tensorboard: event files that TensorBoard's own loader reads back, equal to metrics.jsonl."""

import json

import numpy as np
import pytest

from ganfit import Config, GanfitError, train
from ganfit.pictures import tensorboard as tb

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
