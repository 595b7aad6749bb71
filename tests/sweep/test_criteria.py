import builtins
import math

import pytest

from ganfit import GanfitError
from ganfit.sweep.criteria import parse, succeeded
from ganfit.sweep.tables import wilson

MEMBER = {"member": 0, "seed": 3, "status": "ok", "learned": True, "ks": 0.02, "w1": 0.1, "mean": 4.3, "std": 1.2}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ks < 0.03", True),
        ("ks < 0.01", False),
        ("ks <= 0.02 and w1 < 0.2", True),
        ("ks < 0.01 or w1 < 0.2", True),
        ("not diverged", True),
        ("not learned", False),
        ("learned", True),
        ("ok and not stopped", True),
        ("(ks < 0.01 or learned) and std > 1", True),
        ("not ks < 0.01 and not ks > 0.03", True),  # not binds looser than a comparison
        ("0.01 < ks < 0.03", True),  # chained, as in Python
        ("0.01 < ks < 0.015", False),
        ("abs(mean - 4) < 0.5 and abs(std - 1.25) < 0.4", True),
        ("abs(mean - 4) / 1.25 < 0.2", False),
        ("-ks > -0.03", True),
        ("2 * ks + 1e-3 == 0.041", True),
        ("ks != 0.02", False),
        ("true", True),
        ("false or ks < 1", True),
        ("mean - 4 - 0.3 < 1e-9", True),  # left-associative
    ],
)
def test_criteria_evaluate_like_their_arithmetic(text, expected):
    assert parse(text)(MEMBER) is expected


def test_missing_or_non_finite_values_fail_every_comparison():
    m = MEMBER | {"ks": None}
    for text in ("ks < 1", "ks > 1", "ks == ks", "ks != 0.5", "ks / 0 < 1", "w1 / 0 > 0"):
        assert parse(text)(m) is False, text
    assert parse("not ks < 1")(m) is True


def test_a_diverged_member_never_succeeds():
    crit = parse("ks < 0.03")
    assert succeeded(crit, MEMBER)
    assert not succeeded(crit, MEMBER | {"status": "diverged"})
    assert parse("diverged")(MEMBER | {"status": "diverged"})


def test_modes_criterion_over_a_2d_member():
    crit = parse("modes == 25 and hq >= 0.95", known=("sw", "mmd", "modes", "hq", "reverse_kl"))
    assert crit({"modes": 25, "hq": 0.97, "status": "ok"})
    assert not crit({"modes": 24, "hq": 0.99, "status": "ok"})
    assert crit.names == {"modes", "hq"}


def test_criteria_never_call_eval(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("eval was called")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert parse("(ks < 0.03 or not learned) and abs(mean - 4) < 1")(MEMBER)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("ks <", "ends too early"),
        ("ks < 0.03)", "unexpected ')'"),
        ("(ks < 0.03", "expected ')'"),
        ("ks << 3", "unexpected '<'"),
        ("ks < 0.03 and", "ends too early"),
        ("__import__('os')", "cannot read"),
        ("ks.real < 1", "cannot read"),
        ("ks < 0.03; import os", "cannot read"),
        ("abs ks", "expected '('"),
        ("ks 0.03", "unexpected '0.03'"),
        ("lambda: 1", "cannot read"),
    ],
)
def test_bad_criteria_are_one_clear_error(text, message):
    with pytest.raises(GanfitError) as e:
        parse(text, known=("ks", "w1"))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(GanfitError, match=r"unknown metric 'kss' \(known: .*ks.*learned"):
        parse("kss < 0.03", known=("ks", "w1"))
    with pytest.raises(GanfitError, match="unknown metric 'modes'"):
        parse("modes == 25", known=("ks", "w1"))


def test_wilson_interval_against_hand_values():
    lo, hi = wilson(8, 16)
    assert lo == pytest.approx(0.27999, abs=1e-5) and hi == pytest.approx(0.72001, abs=1e-5)
    lo, hi = wilson(0, 16)
    assert lo == 0.0 and hi == pytest.approx(0.19360, abs=1e-5)
    lo, hi = wilson(16, 16)
    assert hi == 1.0 and lo == pytest.approx(0.80640, abs=1e-5)
    assert all(math.isnan(x) for x in wilson(0, 0))
