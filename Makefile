# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench

$(BIN)/votewire: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/votewire
	$(BIN)/votewire demo

test: $(BIN)/votewire
	bash .ci/deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/votewire
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
