"""game/plan.py: a config is worked out once per run, whatever reads it after (budget, game, threads,
summary, the run directory)."""

import numpy as np
import pytest
import torch

import ganfit
from ganfit import Config, provenance
from ganfit.config import Config as ConfigClass
from ganfit.game import data, plan


@pytest.fixture
def counted(monkeypatch):
    """How often a run validates its config, reads its CSV, builds R and collects its provenance."""
    calls = {"validate": 0, "csv": 0, "target": 0, "provenance": 0}

    def counting(name, f):
        def wrapper(*a, **k):
            calls[name] += 1
            return f(*a, **k)

        return wrapper

    monkeypatch.setattr(ConfigClass, "validate", counting("validate", ConfigClass.validate))
    monkeypatch.setattr("ganfit.game.targets.read_csv_columns", counting("csv", data.read_csv_columns))
    monkeypatch.setattr(plan, "make_target", counting("target", plan.make_target))
    monkeypatch.setattr(provenance, "collect", counting("provenance", provenance.collect))
    return calls


def test_a_run_resolves_its_config_once(counted, tmp_path):
    f = tmp_path / "x.csv"
    np.savetxt(f, np.random.default_rng(0).normal(3, 1, 300), header="x", comments="")
    config = Config(target=f"csv:path={f}", epochs=40, log_every=20, eval_samples=200)
    ganfit.train(config, tmp_path / "run", progress=None)
    assert counted == {"validate": 1, "csv": 1, "target": 1, "provenance": 1}


def test_one_thread_holds_torch_to_one_thread_and_puts_the_count_back_even_on_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with plan.one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError), plan.one_thread():
            raise ValueError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
