# The README's two commands: `make demo` (set up + main job) and `make test` (set up + tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: resolved later, as a dependency of stable-baselines3, pip could pick a CUDA build.
	$(BIN)/python -m pip install --quiet -c constraints.txt torch
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,dask,rl,solver,design,dashboard,mirror,service]"
	touch $(STAMP)

## setup: create .venv with the pinned versions of everything
setup: $(STAMP)

## demo: a study of the example assembly line: KPI table, a plot and a stored run
demo: setup
	mkdir -p demo
	$(BIN)/twin run scenarios/examples/assembly_line.yaml --out runs --plot demo/assembly_line.png

## test: the whole test suite (what CI runs)
test: setup
	$(BIN)/python -m pytest -n 2

## test-fast: every test not marked slow (a few minutes), for feedback while working
test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not slow"

## lint: ruff and mypy
lint: setup
	$(BIN)/ruff check twin agents dashboard tests benchmarks
	$(BIN)/ruff format --check twin agents dashboard tests benchmarks
	$(BIN)/mypy

## bench: speed of the twin against plain SimPy
bench: setup
	$(BIN)/python benchmarks/sim_speed.py

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
