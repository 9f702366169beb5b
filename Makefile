# The two commands of the quick start: `make run` and `make test`.
# The venv installs requirements.lock (the versions the tests ran), then the project alone;
# it is rebuilt when the lock or pyproject.toml changes. `make lock` refreshes the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock

.PHONY: run test lint lock bench

$(BIN)/votewire: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; \
	  echo "votewire: $(LOCK) does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
	touch $@

# Re-resolve pyproject.toml's ranges (runtime + the test extra) to the newest versions,
# keeping pins that still fit; then reinstall. Commit the lock with the change that needs it.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile --quiet --generate-hashes --extra test --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 $(if $(UPGRADE),--upgrade) -o $(LOCK) pyproject.toml
	$(MAKE) $(BIN)/votewire

run: $(BIN)/votewire
	$(BIN)/votewire demo

test: $(BIN)/votewire
	bash .ci/deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(BIN)/votewire
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
