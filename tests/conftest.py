import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def tiny():
    """A config small enough for a unit test: the seed's game, a few hundred epochs."""
    from ganfit import Config

    return Config(epochs=60, log_every=20, eval_samples=500)
