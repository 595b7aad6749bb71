"""The lab's views: the KL and JS curves' grid estimate."""

import math

import numpy as np
import pytest

from ganfit.lab.frames import divergences


def test_kl_and_js_on_a_grid_are_zero_for_one_histogram_and_js_is_ln2_for_disjoint_ones():
    h = np.array([3.0, 10, 0, 7, 1])
    kl, js = divergences(h, h * 4)  # the same shape, any count
    assert js == pytest.approx(0, abs=1e-12) and 0 <= kl < 0.05  # KL only moved by the half counts
    kl, js = divergences(np.array([5.0, 5, 0, 0]), np.array([0.0, 0, 9, 1]))
    assert js == pytest.approx(math.log(2)) and kl > 2
    rng = np.random.default_rng(0)
    near, far = (np.histogram(rng.normal(m, 1, 5000), 30, (-4, 8))[0] for m in (0.3, 3))
    ref = np.histogram(rng.normal(0, 1, 5000), 30, (-4, 8))[0]
    assert divergences(ref, near)[1] < divergences(ref, far)[1] < math.log(2)
