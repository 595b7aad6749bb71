import numpy as np
import pytest
import torch
from scipy import stats

from ganfit.game import native, rng


def lowbias32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_hash32_matches_reference_in_unsigned_arithmetic():
    xs = [0, 1, 2, 12345, 2**31 - 1, 2**31, 2**32 - 1, 0xDEADBEEF]
    got = rng.hash32(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert got == [lowbias32(x) for x in xs]


@pytest.mark.bits
@pytest.mark.skipif(native.library() is None, reason="no C compiler on this machine")
def test_the_compiled_uniforms_are_the_tensor_ops_bits():
    keys = torch.cat([rng.member_keys(list(range(5)), "train"), torch.tensor([[0, 0], [2**32 - 1, 2**31]])])
    epochs = torch.tensor([0, 1, 999, 2**31, 2**32 - 1, 2**32 + 7, 2**40 + 3])
    assert torch.equal(rng.uniform(keys, epochs, 1001), rng.uniform_torch(keys, epochs, 1001))


def test_uniforms_do_not_depend_on_block_size_or_ensemble_size():
    keys = rng.member_keys([3, 4, 5], "train")
    whole = rng.uniform(keys, torch.arange(0, 10), 7)
    parts = torch.cat([rng.uniform(keys, torch.arange(0, 4), 7), rng.uniform(keys, torch.arange(4, 10), 7)])
    alone = rng.uniform(rng.member_keys([4], "train"), torch.arange(0, 10), 7)
    assert torch.equal(whole, parts)
    assert torch.equal(whole[:, 1:2], alone)


def test_streams_and_seeds_differ():
    e = torch.arange(0, 3)
    a = rng.uniform(rng.member_keys([0], "train"), e, 50)
    assert not torch.equal(a, rng.uniform(rng.member_keys([1], "train"), e, 50))
    assert not torch.equal(a, rng.uniform(rng.member_keys([0], "eval"), e, 50))


def test_uniform_and_normal_are_distributed_as_claimed():
    u = rng.uniform(rng.member_keys([7], "t"), torch.arange(0, 200), 1000).reshape(-1).double().numpy()
    assert u.min() >= 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    half = len(u) // 2
    u1, u2 = torch.from_numpy(u[:half]), torch.from_numpy(u[half:])
    z = rng.box_muller(u1, u2).numpy()
    assert np.isfinite(z).all()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    pair = rng.box_muller(u1, u2, both=True).numpy()  # both of a pair's normals: the first is z, and independent
    assert np.array_equal(pair[:, 0], z) and stats.kstest(pair[:, 1], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(pair[:, 0], pair[:, 1])[0, 1]) < 0.01
    # neighbouring slots and epochs are uncorrelated
    grid = u.reshape(200, 1000)
    assert abs(np.corrcoef(grid[:, :-1].ravel(), grid[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(grid[:-1].ravel(), grid[1:].ravel())[0, 1]) < 0.01
