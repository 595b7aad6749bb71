"""The golden runs (tests/golden/cases.py) reproduce their recorded files bit for bit."""

import json

import pytest

from golden.cases import CASES, HASHES


@pytest.mark.parametrize("name", list(CASES))
def test_golden_run_is_bit_identical(name, tmp_path):
    expected = json.loads(HASHES.read_text())[name]
    assert CASES[name](tmp_path / name) == expected
