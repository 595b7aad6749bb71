import pytest

from ganfit import GanfitError
from ganfit.game.noise import make_noise
from ganfit.game.targets import make_target
from ganfit.specs import parse_spec


def test_parse_spec():
    assert parse_spec("gaussian:mean=4,std=1.25", "target") == ("gaussian", {"mean": "4", "std": "1.25"})
    assert parse_spec(" uniform ", "target") == ("uniform", {})
    assert parse_spec("csv:path=a/b.csv,column=height", "target") == ("csv", {"path": "a/b.csv", "column": "height"})


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty target spec"),
        ("gaussian:mean", "'mean' is not key=value"),
        ("gaussian:mean=", "'mean=' is not key=value"),
        ("gaussian:mean=1,mean=2", "'mean' given twice"),
        ("9x", "is not a name"),
        ("cauchy", "unknown target 'cauchy'"),
        ("gaussian:sigma=1", "has no parameter 'sigma'"),
        ("gaussian:mean=four", "'four' is not a number"),
        ("gaussian:std=-1", "std must be > 0"),
        ("gaussian:mean=nan", "not a finite number"),
        ("uniform:low=2,high=1", "high must exceed low"),
        ("csv", "needs path=..."),
    ],
)
def test_bad_target_specs_name_the_problem(spec, message):
    with pytest.raises(GanfitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_target(spec)


def test_default_target_and_noise():
    t = make_target("gaussian:mean=4,std=1.25")
    assert (t.dim, float(t.mean[0]), float(t.std[0])) == (1, 4.0, 1.25)
    n = make_noise("normal:dim=3")
    assert (n.kind, n.dim, n.n_uniforms) == ("normal", 3, 6)
    with pytest.raises(GanfitError, match="dim must be >= 1"):
        make_noise("uniform:dim=0")
    with pytest.raises(GanfitError, match="'1.5' is not an integer"):
        make_noise("uniform:dim=1.5")
