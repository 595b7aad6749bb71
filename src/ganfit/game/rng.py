"""Counter-based random numbers: every value is a pure function of (key, epoch, slot).

A run's randomness never lives in a generator's hidden state. Member i of an ensemble draws the same
numbers whether it trains alone or beside 1,023 others, whether epochs are drawn one at a time or in
blocks of 500, and a resumed run needs no RNG state at all. The hash is Wellons' lowbias32, done in
int64 so that it runs as plain tensor ops on any device (products stay below 2**63: a multiplier
above 2**31 is replaced by its negative twin, which is equal modulo 2**32).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from .native import library

MASK = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    return (x * (c - (1 << 32) if c >= (1 << 31) else c)) & MASK


def hash32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 on int64 tensors holding values in [0, 2**32)."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def member_keys(seeds: list[int], stream: str, device: torch.device | str = "cpu") -> torch.Tensor:
    """Two 32-bit keys per member, shape [K, 2], for one named stream ("train", "init_g", ...)."""
    tag = zlib.crc32(stream.encode())
    words = [np.random.SeedSequence([s, tag]).generate_state(2, dtype=np.uint32) for s in seeds]
    return torch.tensor(np.array(words, dtype=np.int64), dtype=torch.int64, device=device)


def uniform(keys: torch.Tensor, epochs: torch.Tensor, n: int) -> torch.Tensor:
    """Floats in [0, 1) on a 2**-24 grid, shape [len(epochs), K, n]; `epochs` is an int64 tensor. On
    the CPU, kernel.c's copy of the hash where it is built (the same bits, ~20x faster)."""
    lib = library() if keys.device.type == "cpu" else None
    if lib is not None:
        keys, epochs = keys.contiguous(), epochs.contiguous()
        out = torch.empty(len(epochs), len(keys), n)
        lib.kernel_uniform(keys.data_ptr(), epochs.data_ptr(), len(epochs), len(keys), n, out.data_ptr())
        return out
    return uniform_torch(keys, epochs, n)


def uniform_torch(keys: torch.Tensor, epochs: torch.Tensor, n: int) -> torch.Tensor:
    """uniform() in tensor ops, on any device."""
    k1, k2 = keys[:, 0], keys[:, 1]
    e = hash32((epochs[:, None] & MASK) ^ k1[None, :])  # [C, K]: one key per member and epoch
    slots = (torch.arange(n, dtype=torch.int64, device=keys.device) * _GOLDEN) & MASK
    h = hash32(hash32(e[..., None] ^ slots) ^ k2[None, :, None])
    return (h >> 8).to(torch.float32) * (2.0**-24)


def fixed(keys: torch.Tensor, n: int) -> torch.Tensor:
    """n uniforms per member [K, n] from epoch 0 of a stream: a fixed draw (initial weights, eval noise)."""
    return uniform(keys, torch.zeros(1, dtype=torch.int64, device=keys.device), n)[0]


def box_muller(u1: torch.Tensor, u2: torch.Tensor, both: bool = False) -> torch.Tensor:
    """Two uniforms in [0, 1) to a standard normal (1 - u1 keeps the log finite), in u1's dtype; with
    `both`, the pair's two independent normals (r cos, r sin) stacked on a last axis."""
    r = torch.sqrt(-2.0 * torch.log1p(-u1))
    angle = (2.0 * torch.pi) * u2
    if both:
        return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], -1)
    return r * torch.cos(angle)
