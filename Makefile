# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck audit pytest system-deps screenshots bench fuzz dist dist-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -e '.[dev,server]'
	touch $(STAMP)

# The runtime system packages are installed when run as root; otherwise the script names
# what is missing and the app starts anyway (it explains what it cannot do without them).
run: $(STAMP)
	-@bash packaging/install-system-deps.sh --runtime
	$(BIN)/ohvault

system-deps:
	bash packaging/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check ohvault tests benchmarks tools
	$(BIN)/ruff format --check ohvault tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

# --cov feeds the per-package coverage floors (tests/coverage_gate.py) with no report of its own.
pytest: $(STAMP) system-deps
	bash tests/run-with-keyring.sh $(BIN)/python -m pytest -n 2 --cov=ohvault --cov-report= $(PYTEST_ARGS)

# pip-audit: a known vulnerability in a dependency fails the build; an unreachable
# vulnerability service is reported and does not (packaging/audit_deps.py). Before pytest,
# so that pytest's summary stays the last thing `make test` prints.
audit: $(STAMP)
	$(BIN)/python packaging/audit_deps.py

test: lint typecheck audit pytest

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ohvault.gui.screenshots docs/screenshots

bench: $(STAMP)
	bash tests/run-with-keyring.sh $(BIN)/python -m benchmarks.run_all $(BENCH)

# The one-folder Linux app (PyInstaller, packaging/pyinstaller/ohvault.spec) in dist/ohvault/.
dist: $(STAMP)
	rm -rf dist/ohvault build/pyinstaller
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/pyinstaller/ohvault.spec

# Builds, then runs the built binary (--version, init, import-pdf, backup, doctor, the GUI
# offscreen) against a throwaway vault and the real keychain. Not part of `make test`: the
# build alone takes minutes on two cores.
dist-check: dist system-deps
	bash tests/run-with-keyring.sh bash packaging/dist_check.sh dist/ohvault/ohvault

# Coverage-guided fuzzing (atheris) of every target for FUZZ_SECONDS each; crashes land in
# build/fuzz/crashes/ and become files under tests/hardening/fuzz/regressions/.
FUZZ_SECONDS ?= 300
fuzz: $(STAMP) system-deps
	rc=0; for t in pdf header bundle sync; do \
		bash tests/run-with-keyring.sh $(BIN)/python -m tests.hardening.fuzz.run $$t --seconds $(FUZZ_SECONDS) || rc=1; \
	done; exit $$rc

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
