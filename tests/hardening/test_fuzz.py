"""Fuzzing in the test suite: replay seeds and every past crash, then a short atheris run.

The long runs are `make fuzz` (FUZZ_SECONDS per target). Here each target gets a fixed
number of coverage-guided inputs with a fixed libFuzzer seed, a few seconds each, so a
regression that the fuzzer finds quickly fails the build.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hardening.fuzz.targets import TARGETS

HERE = Path(__file__).resolve().parent / "fuzz"
ROOT = HERE.parents[2]
# Inputs per target for the short run: about three seconds each on the CI machine.
BRIEF_RUNS = {"pdf": 150, "header": 20_000, "bundle": 1500, "sync": 100}


def _inputs(kind: str) -> list[Path]:
    return sorted(p for p in (HERE / kind).glob("*/*") if p.is_file() and p.suffix != ".md")


@pytest.fixture(autouse=True)
def _sync_needs_keychain(request: pytest.FixtureRequest) -> None:
    # The sync target's harness creates a real vault, whose key goes into the keychain.
    if "sync" in request.node.name:
        request.getfixturevalue("keychain")


@pytest.mark.parametrize("path", _inputs("seeds"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_seed_is_handled(path: Path) -> None:
    TARGETS[path.parent.name](path.read_bytes())


@pytest.mark.parametrize("path", _inputs("regressions"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_past_crash_is_fixed(path: Path) -> None:
    """A crash once found by fuzzing (or by reading the code) must stay fixed."""
    TARGETS[path.parent.name](path.read_bytes())


def test_every_target_has_seeds() -> None:
    for target in TARGETS:
        assert any((HERE / "seeds" / target).iterdir()), target


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.parametrize("target", sorted(BRIEF_RUNS))
def test_brief_coverage_guided_run_finds_no_crash(target: str, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "tests.hardening.fuzz.run", target,
         "--runs", str(BRIEF_RUNS[target]), "--seed", "1", "--no-save"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    lines = (result.stdout + result.stderr).splitlines()
    tail = "\n".join(line for line in lines if "INFO: Instrumenting" not in line)[-6000:]
    crashed = result.returncode != 0
    assert not crashed, f"the fuzzer found a crash (input in build/fuzz/crashes/):\n{tail}"
    assert f"Done {BRIEF_RUNS[target]} runs" in result.stderr, tail
