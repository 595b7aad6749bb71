import dataclasses
import tomllib

import pytest

from ganfit import Config, GanfitError


def test_defaults_are_the_articles_experiment():
    c = Config()
    assert c.target == "gaussian:mean=4,std=1.25" and c.noise == "uniform:dim=1"
    assert (c.g_hidden, c.g_activations, c.d_hidden, c.d_activations) == (50, "elu,sigmoid", 50, "elu,elu")
    assert c.d_view == "minibatch:diffs=true" and c.loss == "bce" and c.batch == 100
    assert (c.lr_d, c.lr_g, c.beta1, c.beta2) == (2e-4, 2e-4, 0.9, 0.999)
    assert (c.d_steps, c.g_steps, c.epochs, c.log_every, c.seeds) == (1, 1, 30000, 200, 1)


def test_toml_round_trip_keeps_every_field(tmp_path):
    c = Config(target='csv:path=my "odd" file.csv,column=h', epochs=123, lr_g=3.5e-5, normalize=False, seeds=4)
    text = c.to_toml()
    assert "# K, independent GANs trained together" in text  # the field docs travel with the file
    f = tmp_path / "c.toml"
    f.write_text(text)
    # a relative data path is the config file's neighbour, wherever the command runs
    assert Config.from_toml(f) == c.replace(target=f'csv:path={tmp_path}/my "odd" file.csv,column=h')
    assert set(tomllib.loads(text)) == {f.name for f in dataclasses.fields(Config)}


def test_int_is_accepted_for_float_fields(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("lr_d = 1\n")
    assert Config.from_toml(f).lr_d == 1.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("epochs = 0", "epochs must be > 0"),
        ("seeds = -2", "seeds must be > 0"),
        ("epochs = 'many'", "expected int"),
        ("normalize = 1", "expected bool"),
        ("lr_d = nan", "not a finite number"),
        ("beta1 = 1.0", "beta1 must be in"),
        ("colour = 3", "unknown field 'colour'"),
        ("[model]\nx = 1", "unknown table \\[model\\]"),
        ("epochs = = 3", "not valid TOML"),
        ("device = 'tpu'", "device must be cpu or cuda"),
        ("loss = 'hinged'", "unknown loss 'hinged' \\(known: bce, ns, minimax, lsgan, hinge, wgan, or a function"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    f = tmp_path / "c.toml"
    f.write_text(text + "\n")
    with pytest.raises(GanfitError, match=message):
        Config.from_toml(f)


def test_missing_config_file(tmp_path):
    with pytest.raises(GanfitError, match="no such file"):
        Config.from_toml(tmp_path / "nope.toml")


def test_an_old_config_file_with_engine_still_loads_as_gradients(tmp_path):
    f = tmp_path / "old.toml"
    f.write_text('engine = "autograd"\nepochs = 5\n')
    assert Config.from_toml(f).gradients == "autograd"
    f.write_text('engine = "warp"\n')
    with pytest.raises(GanfitError, match="gradients must be auto, fast, autograd"):
        Config.from_toml(f)


def test_help_of_config_shows_every_fields_meaning():
    from ganfit.config import FIELDS

    doc = Config.__doc__
    for name, f in FIELDS.items():
        assert f"{name} = {f.default!r}: {f.metadata['doc']}" in doc
