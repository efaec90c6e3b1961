"""Fixtures for the lab parser tests: the synthetic corpus is generated once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # benchmarks/ and tests/ importable however pytest was started
    sys.path.insert(0, str(REPO))

from tests.labs.corpus import generate_corpus  # noqa: E402


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab-corpus")
    # 3 reports per layout keep the suite fast; `python -m benchmarks.lab_accuracy` scores all 5
    generate_corpus(out, seed=20240305, per_layout=3)
    return out
