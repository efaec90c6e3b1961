# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest system-deps screenshots bench fuzz dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -e '.[dev,server]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ohvault

system-deps:
	bash packaging/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check ohvault tests benchmarks
	$(BIN)/ruff format --check ohvault tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	bash tests/run-with-keyring.sh $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ohvault.gui.screenshots docs/screenshots

bench: $(STAMP)
	bash tests/run-with-keyring.sh $(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
