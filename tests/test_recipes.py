import pytest

from ganfit import Config, GanfitError, cli, recipes
from ganfit.game.targets import make_target


def test_recipe_files_are_whole_configs_in_sync_with_their_definitions():
    assert recipes.names() == sorted(recipes.RECIPES)
    for name, changes in recipes.RECIPES.items():
        text = recipes.path(name).read_text()
        assert text == Config(**changes).to_toml(), f"{name}.toml is stale: run python -m ganfit.recipes"
        assert recipes.load(name) == Config(**changes)
    assert recipes.load("seed") == Config()  # the article's experiment, unchanged


def test_recipes_build_what_they_say():
    assert make_target(recipes.load("ring").target).modes.shape == (8, 2)
    assert make_target(recipes.load("grid").target).modes.shape == (25, 2)
    assert recipes.load("ring").seeds >= 10 and recipes.load("grid").seeds >= 10
    assert recipes.load("robust1d").d_view == "sample" and recipes.load("robust1d").r1 > 0


def test_recipe_flag_then_overrides_and_errors():
    args = cli._parser().parse_args(["train", "--recipe", "ring", "--epochs", "7"])
    c = cli.config_from_args(args)
    assert (c.target, c.epochs, c.d_view) == ("ring:modes=8,radius=2,std=0.02", 7, "pack:m=2")
    known = "fit1d, fit2d, grid, ring, robust1d, seed"
    with pytest.raises(GanfitError, match=f"unknown recipe 'nope' \\(known: {known}\\)"):
        cli.config_from_args(cli._parser().parse_args(["train", "--recipe", "nope"]))
    with pytest.raises(GanfitError, match="unknown recipe"):
        cli.config_from_args(cli._parser().parse_args(["train", "--recipe", "../config"]))
    with pytest.raises(GanfitError, match="give one"):
        cli.config_from_args(cli._parser().parse_args(["train", "--recipe", "seed", "--config", "x.toml"]))


def test_fits_two_g_rates_and_two_gs_are_fits_own_and_a_users_seeds_rate_or_g_replace_them():
    args = cli._parser().parse_args(["train", "--recipe", "fit2d", "--seeds", "2", "--lr-g", "5e-4"])
    train = cli.config_from_args(args)  # the recipe file keeps one rate: train, the lab and sweeps change it
    assert (train.seeds, train.per_member, train.lr_g) == (2, "", 5e-4)
    fit2d = recipes.for_fit("fit2d")
    assert fit2d.member_values()["lr_g"] == [1e-4] * 3 + [3e-4] * 3 and fit2d.seeds == 6
    for given in ({"seeds": 2}, {"lr_g": 5e-4}, {"per_member": "seed=1,2,3,4,5,6"}):
        assert recipes.for_fit("fit2d", given).per_member == "", given
    assert recipes.for_fit("fit2d", {"epochs": 10}).per_member == fit2d.per_member
    fit1d = recipes.for_fit("fit1d")  # half ELU's G, half ReLU's; the recipe file one G for every member
    assert fit1d.g_kinds() == ["elu"] * 3 + ["relu"] * 3 and recipes.load("fit1d").g_kinds() is None
    for given in ({"seeds": 4}, {"g_activations": "tanh,tanh"}, {"per_member": "lr_g=1e-4,1e-4,1e-4,3e-4,3e-4,3e-4"}):
        assert recipes.for_fit("fit1d", given).per_member == "", given  # a user's G is not undone
    assert recipes.for_fit("fit1d", {"lr_g": 3e-4}).per_member == fit1d.per_member
