#!/usr/bin/env bash
# Smoke test of the built one-folder app (`make dist-check`): it starts, finds its bundled
# resources, reaches the keychain and SQLCipher, parses a PDF and shows its window.
# Run under tests/run-with-keyring.sh (a real Secret Service) with a throwaway vault.
set -euo pipefail
BIN="${1:-dist/ohvault/ohvault}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
WORK="$(mktemp -d -t ohvault-dist-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export OHVAULT_HOME="$WORK/vault" OHVAULT_CONFIG_DIR="$WORK/config" OHVAULT_LOG_DIR="$WORK/logs"
# Run from elsewhere so nothing can come from the source tree by accident.
cd "$WORK"
unset PYTHONPATH

step() { printf 'dist-check: %s\n' "$*"; }

version="$("$BIN" --version)"
expected="ohvault $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/ohvault/__init__.py")"
[ "$version" = "$expected" ] || { echo "dist-check: --version says '$version', expected '$expected'" >&2; exit 1; }
step "--version: $version"

"$BIN" init --profile "Fuzz Person" --json >/dev/null
step "init: vault created, key in the keychain"
"$BIN" import-pdf "$ROOT/tests/hardening/fuzz/seeds/pdf/cbc.pdf" --json >/dev/null
n="$("$BIN" observations list --json | "$ROOT/.venv/bin/python" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
[ "$n" -ge 1 ] || { echo "dist-check: import-pdf stored no results" >&2; exit 1; }
step "import-pdf: $n results from a PDF (pdfplumber, catalog from the bundled resources)"
"$BIN" backup >/dev/null
"$BIN" doctor
step "doctor: all checks pass"

# The GUI: Qt's platform plugins and the app's icons must load. Offscreen it runs until
# stopped, so still running after a few seconds (timeout's 124) means it started.
set +e
QT_QPA_PLATFORM=offscreen timeout 8 "$BIN" >"$WORK/gui.log" 2>&1
rc=$?
set -e
if [ "$rc" != 124 ]; then
    echo "dist-check: the desktop app exited with $rc:" >&2
    cat "$WORK/gui.log" >&2
    exit 1
fi
step "GUI: started offscreen and kept running"
step "OK"
