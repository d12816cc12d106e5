# BZPEER for Slack. Quick start: `make run` (demo store + local shell without Slack credentials),
# `make test` (the whole suite; on PostgreSQL too when TEST_DATABASE_URL is set).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Every install comes from the lock files, so two deploys of one commit get the same packages.
# `make lock` rewrites them after a change to pyproject.toml's dependencies (existing pins are kept
# where they still fit); `make lock UPGRADE=1` moves every pin to the newest version allowed.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_VERSION := 0.13.9
# The lock targets the deployment's Python and platform, whatever machine runs `make lock`.
COMPILE := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
# A dependency added to pyproject.toml but missing from the lock fails here instead of at import.
PIP_CHECK := $(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	echo "Installed packages do not satisfy pyproject.toml: after changing its dependencies run" \
	"make lock (or make clean for a fresh .venv)." >&2; exit 1; }

.PHONY: run test lint install dev lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(PIP_CHECK)
	@touch $@

# The dev lock holds the runtime pins too (compiled under them), so it stands for both stamps.
$(DEV_STAMP): $(DEV_LOCK) $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(PIP_CHECK)
	@touch $@ $(STAMP)

install: $(STAMP)

dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/bzpeer start

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@echo "== tests on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== tests on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q; \
	fi

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra dev --constraints $(LOCK) -o $(DEV_LOCK)

lint: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) *.egg-info
