"""A user's data, fuzzed: `ganfit.fit` and `Run.sample` fed arrays, masked arrays, lists, pandas Series
and DataFrames and torch tensors of every dtype, offset, scale and shape. Each either gives one
GanfitError line or a run whose samples are in the data's units: finite, not quantised, their median
inside the data's range and every sample within a few spans of it."""

import warnings

import numpy as np
import pandas as pd
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ganfit
from ganfit import GanfitError, arrays

# Each example trains (briefly) and fits the baselines: a handful keeps the suite's time budget.
FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = ["float64", "float32", "float16", "int64", "int32", "int8", "uint8", "uint16", "bool", "complex64", "<U8"]
CONTAINERS = ["ndarray", "masked", "list", "series", "frame", "tensor"]
TORCH = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "int64": torch.int64}
TORCH |= {"int32": torch.int32, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}


@st.composite
def datasets(draw):
    n = draw(st.integers(1, 80))
    dim = draw(st.sampled_from([1, 1, 2, 3]))
    offset = draw(st.sampled_from([0.0, 1e3, -1e6, 1e9]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    dtype = draw(st.sampled_from(DTYPES))
    container = draw(st.sampled_from(CONTAINERS))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    raw = offset + scale * rng.standard_normal((n, dim))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # casting 1e9 to int8 or float16: the data are what results
        x = raw.astype(dtype)
    x = x[:, 0] if dim == 1 and draw(st.booleans()) else x
    if container == "masked":
        return np.ma.masked_array(x, mask=rng.random(x.shape) < 0.1)
    if container == "list":
        return x.tolist()
    if container == "series":
        return pd.Series(x if x.ndim == 1 else x[:, 0], name="v")
    if container == "frame":
        return pd.DataFrame(
            x if x.ndim == 2 else x[:, None], columns=[f"c{i}" for i in range(x.shape[-1] if x.ndim == 2 else 1)]
        )
    if container == "tensor" and dtype in TORCH:
        return torch.as_tensor(x.astype(dtype if dtype != "uint16" else "int32"), dtype=TORCH[dtype])
    return x


@FUZZ
@given(datasets())
def test_fit_and_sample_any_data(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "k masked rows dropped", numpy's casts
            run = ganfit.fit(data, epochs=60, log_every=30, eval_samples=300, seeds=1, progress=None)
            x = arrays.as_array(data)[0]
    except GanfitError as e:
        assert str(e) and "\n" not in str(e)
        return
    s = run.sample(400)
    assert s.shape == (400, x.shape[1]) and np.isfinite(s).all()
    lo, hi = x.min(0), x.max(0)
    span = hi - lo
    assert ((np.median(s, 0) >= lo - span) & (np.median(s, 0) <= hi + span)).all(), (np.median(s, 0), lo, hi)
    assert ((s >= lo - 5 * span) & (s <= hi + 5 * span)).all()
    assert all(len(np.unique(s[:, j])) > 50 for j in range(s.shape[1]))  # not quantised by the data's offset
