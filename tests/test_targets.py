import os

import numpy as np
import pytest
import torch
from scipy import stats

from ganfit import GanfitError, rng
from ganfit.targets import make_target


def draw(target, n=20000, seed=0):
    u = rng.uniform(rng.member_keys([seed], "test"), torch.zeros(1, dtype=torch.int64), n * target.n_uniforms)
    return target.sample(u.reshape(n, target.n_uniforms)).double().numpy()


@pytest.mark.parametrize("spec", ["gaussian:mean=4,std=1.25", "gaussian:mean=-400,std=0.01", "uniform:low=-1,high=3"])
def test_closed_form_samplers_follow_their_own_cdf(spec):
    t = make_target(spec)
    x = draw(t)[:, 0]
    assert stats.kstest(x, t.dist.cdf).pvalue > 1e-3
    assert x.mean() == pytest.approx(t.mean[0], abs=4 * t.std[0] / np.sqrt(len(x)))


def test_csv_with_header_and_column_choice(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("height,weight\n1.5,60\n1.7,70\n1.9,80\n")
    t = make_target(f"csv:path={f},column=weight")
    assert t.columns == ["weight"] and t.data[:, 0].tolist() == [60, 70, 80]
    assert t.mean[0] == pytest.approx(70) and t.std[0] == pytest.approx(np.std([60, 70, 80]))
    x = draw(t, 3000)[:, 0]
    assert set(x.tolist()) == {60.0, 70.0, 80.0}
    counts = np.unique(x, return_counts=True)[1]
    assert stats.chisquare(counts).pvalue > 1e-3  # each row drawn equally often


def test_csv_without_header(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("1\n2\n\n3.5\n")
    t = make_target(f"csv:path={f}")
    assert t.data[:, 0].tolist() == [1, 2, 3.5] and t.columns == ["x"]


def bad(tmp_path, text: str | bytes | None, name="d.csv"):
    f = tmp_path / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    elif text is not None:
        f.write_text(text)
    return f


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "no such file"),
        ("", "empty"),
        ("\n\n", "empty"),
        ("value\n", "no data rows"),
        ("value\n1\nabc\n", "line 3: 'abc' is not a number"),
        ("1\nnan\n", "line 2: 'nan' is not a finite number"),
        ("1\n2\ninf\n", "line 3: 'inf' is not a finite number"),
        ("a,b\n1,2\n", "has 2 columns \\(a, b\\); choose one"),
        ("5\n5\n5\n", "needs at least two distinct values"),
        (b"\xff\xfe\x00\x01garbage", "not a text file"),
    ],
)
def test_bad_csv_names_the_problem(tmp_path, text, message):
    f = bad(tmp_path, text)
    with pytest.raises(GanfitError, match=message):
        make_target(f"csv:path={f}")


def test_csv_unknown_column_and_unreadable(tmp_path):
    f = bad(tmp_path, "a\n1\n2\n")
    with pytest.raises(GanfitError, match="no column 'b' \\(columns: a\\)"):
        make_target(f"csv:path={f},column=b")
    with pytest.raises(GanfitError, match="is a directory"):
        make_target(f"csv:path={tmp_path}")
    if os.geteuid() != 0:  # root reads everything
        f.chmod(0)
        with pytest.raises(GanfitError, match="permission denied"):
            make_target(f"csv:path={f}")
    if os.path.exists("/proc/self/mem"):  # exists, but read() fails with an I/O error, even for root
        with pytest.raises(GanfitError, match="cannot read"):
            make_target("csv:path=/proc/self/mem")
