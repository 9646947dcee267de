# Two entry points for a fresh machine: `make demo` and `make test`.
# Both build .venv from the hash-pinned lock files; nothing relies on what is installed already.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit venv lock clean

$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/ccc demo

test: $(STAMP) lint unit

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

unit: $(STAMP)
	$(BIN)/pytest -n auto -q

# The Claude Code CLI that the claude-code agent preset is tested with, pinned in tools/claude/ and installed
# from the npm registry (its native binary ships in a platform package) into a git-ignored cache.
CLAUDE_DIR := .cache/claude
CLAUDE_STAMP := $(CLAUDE_DIR)/.installed

.PHONY: claude-cli
claude-cli: $(CLAUDE_STAMP)

$(CLAUDE_STAMP): tools/claude/package.json tools/claude/package-lock.json
	mkdir -p $(CLAUDE_DIR)
	cp tools/claude/package.json tools/claude/package-lock.json $(CLAUDE_DIR)/
	cd $(CLAUDE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	$(CLAUDE_DIR)/node_modules/.bin/claude --version
	touch $@

# Re-pin after editing requirements*.in.
lock: $(STAMP)
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.10 requirements.in -o requirements.lock
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.10 requirements-dev.in -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache
