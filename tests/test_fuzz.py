"""Bad input, fuzzed: whatever a user types or hands over, ganfit answers with a GanfitError (the CLI:
one line, exit 2) or a valid object — never another exception, never a half-written run directory."""

import string
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganfit import Config, GanfitError, cli
from ganfit.game.noise import make_noise
from ganfit.game.targets import make_target
from ganfit.game.views import make_view

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = [
    "gaussian",
    "uniform",
    "laplace",
    "student_t",
    "lognormal",
    "exponential",
    "mog",
    "ring",
    "grid",
    "spiral",
    "moons",
    "csv",
    "normal",
    "minibatch",
    "sample",
    "pack",
    "",
    "9",
    "x y",
]
KEYS = [
    "mean",
    "std",
    "low",
    "high",
    "dim",
    "means",
    "stds",
    "weights",
    "modes",
    "radius",
    "path",
    "column",
    "columns",
    "diffs",
    "m",
    "df",
    "scale",
    "noise",
    "n",
    "",
    "=",
    "zzz",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "0",
            "-1",
            "1e309",
            "1e-320",
            "true",
            "2;3",
            ";",
            "1;;2",
            "abc",
            "",
            "/no/such.csv",
            "3.5",
            "-0",
            "99999999999999999999",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.text(string.printable, max_size=8),
)


@st.composite
def specs(draw):
    name = draw(st.sampled_from(NAMES))
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=4))
    sep = draw(st.sampled_from([",", ";", ", ", ",,"]))
    body = sep.join(f"{k}={v}" for k, v in pairs)
    return name + (":" + body if pairs or draw(st.booleans()) else "")


def ok_or_ganfit_error(build, spec):
    try:
        built = build(spec)
    except GanfitError as e:
        assert str(e) and "\n" not in str(e)
        return None
    return built


@FUZZ
@given(specs())
def test_target_noise_and_view_specs(spec):
    t = ok_or_ganfit_error(make_target, spec)
    if t is not None:  # a spec that parses is a usable target: finite moments
        assert t.dim in (1, 2) and all(abs(v) < float("inf") for v in [*t.mean, *t.std])
    ok_or_ganfit_error(make_noise, spec)
    ok_or_ganfit_error(make_view, spec)


@FUZZ
@given(st.text(max_size=60))
def test_arbitrary_spec_text(spec):
    for build in (make_target, make_noise, make_view):
        ok_or_ganfit_error(build, spec)


FIELDS = [
    "target",
    "epochs",
    "seeds",
    "lr_d",
    "beta1",
    "normalize",
    "noise",
    "batch",
    "loss",
    "device",
    "d_view",
    "threads",
    "colour",
    "eval_samples",
    "g_activations",
    "checkpoint_every",
    "early_stop",
]
TOML_VALUES = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
)


def toml_literal(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(v), repr(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v) if not isinstance(v, list) else "[" + ", ".join(map(str, v)) + "]"


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), TOML_VALUES, max_size=4), st.text(max_size=30))
def test_config_files(tmp_path_factory, values, junk):
    f = tmp_path_factory.mktemp("cfg") / "c.toml"
    text = "\n".join(f"{k} = {toml_literal(v)}" for k, v in values.items())
    for body in (text, junk, text + "\n" + junk):
        f.write_text(body)
        try:
            c = Config.from_toml(f)
        except GanfitError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(c, Config) and tomllib.loads(c.to_toml())  # a config it accepts round-trips


CELLS = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "", " ", "1e999", "x", "1,5", '"3"', "0x10"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(string.printable.replace("\n", "").replace("\r", ""), max_size=5),
)


@FUZZ
@given(
    st.lists(st.lists(CELLS, min_size=1, max_size=3), max_size=6),
    st.booleans(),
    st.sampled_from(["", ",column=a", ",columns=a;b", ",column=1"]),
)
def test_csv_contents(tmp_path_factory, rows, header, extra):
    f = tmp_path_factory.mktemp("csv") / "d.csv"
    lines = (["a,b,c"] if header else []) + [",".join(r) for r in rows]
    f.write_text("\n".join(lines))
    t = ok_or_ganfit_error(make_target, f"csv:path={f}{extra}")
    if t is not None:
        assert t.data is not None and len(t.data) >= 2 and (t.std > 0).all()


BAD_NUMBERS = {
    "--epochs": st.one_of(st.integers(max_value=0).map(str), st.sampled_from(["1.5", "ten", "", "1e3", "nan"])),
    "--seeds": st.one_of(st.integers(max_value=0).map(str), st.sampled_from(["two", "2.0", "-", "0x2"])),
    "--batch": st.one_of(st.integers(max_value=0).map(str), st.sampled_from(["1/2", "inf"])),
    "--lr-d": st.one_of(st.floats(max_value=0).map(repr), st.sampled_from(["nan", "inf", "-inf", "fast", "1e999"])),
    "--beta1": st.one_of(
        st.floats(min_value=1.0, allow_infinity=False).map(repr),
        st.floats(max_value=-1e-9, allow_infinity=False).map(repr),
    ),
    "--log-every": st.integers(max_value=0).map(str),
    "--eval-samples": st.one_of(st.integers(max_value=0).map(str), st.just("many")),
    "--checkpoint-every": st.integers(max_value=0).map(str),
    "--threads": st.integers(max_value=-1).map(str),
}


@FUZZ
@given(st.sampled_from(sorted(BAD_NUMBERS)).flatmap(lambda flag: st.tuples(st.just(flag), BAD_NUMBERS[flag])))
def test_cli_numbers(tmp_path_factory, capsys, flag_value):
    flag, value = flag_value
    out = tmp_path_factory.mktemp("cli") / "run"
    assert cli.main(["train", flag, value, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganfit: error: ") and err.count("\n") == 1, err
    assert not out.exists()
