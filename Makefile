# Two commands set everything up: `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned: its CPU wheel is on this machine's disk; an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# pip builds the compiled kernel (setup.py: one library per instruction set) into src/ganfit/game/;
# a change to kernel.c rebuilds it (ganfit refuses a library built from another kernel.c).
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py src/ganfit/game/kernel.c
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[dev,ray]"
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(BIN)/pip install -q -e ".[dev,ray,bench]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/ganfit train --seeds 8 --pictures --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/real_data.py

clean:
	rm -rf $(VENV) runs .pytest_cache build src/ganfit/game/_kernel_*
