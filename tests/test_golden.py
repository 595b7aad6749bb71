"""The golden runs (tests/golden/cases.py) reproduce their recorded files bit for bit."""

import json

import pytest

from golden.cases import CASES, HASHES


@pytest.mark.parametrize("name", list(CASES))
def test_golden_run_is_bit_identical(name, tmp_path, monkeypatch):
    monkeypatch.setenv("GANFIT_COMPILED", "0")  # torch's engines; the compiled step has its own tests
    expected = json.loads(HASHES.read_text())[name]
    assert CASES[name](tmp_path / name) == expected
