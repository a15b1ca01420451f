# Two commands do all set-up on a fresh machine:  make run  |  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_BIN := $(CURDIR)/toolchain/node_modules/.bin
PORT ?= 3000

export PATH := $(NODE_BIN):$(CURDIR)/$(BIN):$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PORT

.PHONY: setup run test lint bench migrate clean cluster

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

$(NODE_BIN)/node: toolchain/package.json toolchain/package-lock.json
	cd toolchain && npm ci --no-audit --no-fund --loglevel=error
	@$(NODE_BIN)/node --version && $(NODE_BIN)/bun --version >/dev/null
	@touch $@

setup: $(BIN)/.installed $(NODE_BIN)/node

migrate: setup
	$(BIN)/python -m vopix migrate

run: migrate
	$(BIN)/reflex run --env prod --single-port

cluster: setup
	@scripts/cluster.sh

test: setup
	@scripts/test.sh

lint: setup
	$(BIN)/ruff check .

bench: setup
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) toolchain/node_modules .web
