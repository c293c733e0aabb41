# Two commands set everything up on a fresh machine:
#   make run   - batch of the baseline scenario, its summary and figures
#   make test  - lint and the test suite
# Both build the virtual environment in .venv on first use.

VENV := .venv
BIN := $(VENV)/bin
# The first Python >= 3.12 that actually runs (pyenv shims may exist without the interpreter).
PYTHON ?= $(shell for c in python3.12 python3.13; do $$c -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && { echo $$c; exit; }; done; \
	for c in $$(pyenv root 2>/dev/null)/versions/3.1[23]*/bin/python3; do [ -x $$c ] && { echo $$c; exit; }; done)

.PHONY: run test lint format bench calibrate validate clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 or newer is required (python3.12 not found)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

.venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/wargame batch configs/baseline.yaml
	$(BIN)/wargame plot runs/baseline
	$(BIN)/wargame report runs/baseline

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Fit the uncertain parameters to the episode library (configs/model/posterior/calibration.yaml),
# install the posterior every scenario uses by default (configs/model/posterior/), score it.
calibrate: $(VENV)/.installed
	$(BIN)/wargame calibrate configs/model/posterior/calibration.yaml --out runs/calibration --install
	$(BIN)/wargame validate --out runs/validation

validate: $(VENV)/.installed
	$(BIN)/wargame validate --out runs/validation

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_batch.py --check

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info
