"""Sizes and depths, fuzzed: any integer in a count field, any nesting in a TOML file, any criterion text
is a valid object or one GanfitError line, never another exception (see test_sizes.py for each case)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganfit import Config, GanfitError, cli
from ganfit.config import FIELDS, MAX
from ganfit.sweep import criteria

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COUNTS = sorted(n for n, f in FIELDS.items() if f.type == "int")
INTS = st.one_of(
    st.integers(-5, 300),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 10**100, 10**4000, -(10**4000), *MAX.values()]),
    st.sampled_from(list(MAX.values())).map(lambda m: m + 1),
)


def one_line_or_none(make):
    try:
        return make()
    except GanfitError as e:
        assert str(e) and "\n" not in str(e), str(e)
        return None


@FUZZ
@given(st.dictionaries(st.sampled_from(COUNTS), INTS, min_size=1, max_size=3))
def test_any_int_in_the_count_fields_validates_or_is_one_line(values):
    c = one_line_or_none(lambda: Config(**values).validate())
    if c is not None:  # accepted: within every maximum, and the rows it makes too
        assert all(getattr(c, name) <= most for name, most in MAX.items())
        assert 1 <= c.log_rows() <= 100_000


@FUZZ
@given(st.sampled_from(["lr_d", "frame_mean", "gp", "beta1"]), INTS)
def test_any_int_in_a_float_field_validates_or_is_one_line(name, value):
    c = one_line_or_none(lambda: Config(**{name: value}).validate())
    assert c is None or math.isfinite(getattr(c, name))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(MAX)).flatmap(lambda n: st.tuples(st.just(n), st.integers(MAX[n] + 1, 10**60))))
def test_a_count_past_its_maximum_on_the_command_line_is_one_line(tmp_path_factory, capsys, name_value):
    name, value = name_value
    out = tmp_path_factory.mktemp("cli") / "run"
    assert cli.main(["train", "--" + name.replace("_", "-"), str(value), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"ganfit: error: {name} must be at most {MAX[name]:,}, got {value:,}\n"
    assert not out.exists()


OPEN = {"[": "]", "{ a = ": " }", "[ 1, ": " ]", "{ x = [": "] }"}
KEYS = ["a", "epochs", "target", "provenance", "seeds", '"quoted"', "x.y", "[t]\nb", ""]
JUNK = st.text(alphabet="[]{}=,.\"'#\n 1a", max_size=40)


@st.composite
def nested_toml(draw):
    """A key, then some nesting of arrays and inline tables, closed or not, with junk anywhere."""
    key = draw(st.sampled_from(KEYS))
    layers = draw(st.lists(st.sampled_from(sorted(OPEN)), max_size=4))
    depth = draw(st.one_of(st.integers(0, 30), st.integers(0, 3000)))
    opened = [layers[i % len(layers)] for i in range(depth)] if layers else []
    inner = draw(st.sampled_from(["1", '"s"', "true", "1.5", "", "[]", "{}"]))
    closed = draw(st.integers(0, len(opened)))
    closing = "".join(OPEN[o] for o in reversed(opened))[: closed * 3]
    return f"{key} = {''.join(opened)}{inner}{closing}{draw(JUNK)}\n{draw(JUNK)}"


@FUZZ
@given(nested_toml())
def test_nested_toml_is_a_config_or_one_line(tmp_path_factory, text):
    f = tmp_path_factory.mktemp("toml") / "c.toml"
    f.write_text(text)
    c = one_line_or_none(lambda: Config.from_toml(f))
    assert c is None or isinstance(c, Config)


TOKENS = [
    "(",
    ")",
    "ks",
    "w1",
    "modes",
    "learned",
    "ok",
    "and",
    "or",
    "not",
    "abs",
    "abs(",
    "<",
    "<=",
    "==",
    "!=",
    ">",
    "+",
    "-",
    "*",
    "/",
    "0",
    "1",
    "1e999",
    "0.5",
    "true",
    "false",
    " ",
    ";",
    "__import__",
    "9" * 400,
]
MEMBERS = st.fixed_dictionaries(
    {
        "ks": st.one_of(st.floats(allow_nan=True), st.integers(-(10**400), 10**400), st.none(), st.text(max_size=3)),
        "w1": st.one_of(st.floats(allow_nan=True), st.booleans()),
        "status": st.sampled_from(["ok", "diverged", "stopped", None]),
        "learned": st.booleans(),
    }
)


OPS = ["+", "-", "*", "/", "<", "<=", "==", "!=", ">", "and", "or"]
EXPRS = st.recursive(
    st.sampled_from(["ks", "w1", "1", "0.5", "1e999", "true", "learned", "ok", "9" * 300]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(OPS), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"abs({e})"),
        inner.map(lambda e: f"-{e}"),
    ),
    max_leaves=40,
)


@st.composite
def criterion_texts(draw):
    """Random tokens, or a well-formed expression, wrapped deep in one opener or chained long."""
    if draw(st.booleans()):
        return "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=80)))
    expr = draw(EXPRS)
    opener, closer = draw(st.sampled_from([("(", ")"), ("abs(", ")"), ("not ", ""), ("-", ""), ("", "")]))
    depth = draw(st.one_of(st.integers(0, 40), st.integers(0, 600)))
    chain = draw(st.sampled_from([" + ks", " and ok", " * 1", " or false", ""])) * draw(st.integers(0, 400))
    return opener * depth + expr + chain + closer * depth


@FUZZ
@given(criterion_texts(), MEMBERS)
def test_criterion_text_parses_and_evaluates_or_is_one_line(text, member):
    c = one_line_or_none(lambda: criteria.parse(text))
    if c is not None:  # accepted: evaluating it can only give True or False
        assert c(member) in (True, False)
        assert criteria.succeeded(c, member) in (True, False)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_as_a_criterion_is_a_criterion_or_one_line(text):
    c = one_line_or_none(lambda: criteria.parse(text, known=("ks", "w1")))
    if c is not None:
        assert c({"ks": 0.1, "w1": float("nan"), "status": "ok"}) in (True, False)
