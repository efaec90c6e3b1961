"""The dependency audit's verdict: a known vulnerability fails the build; an unreachable
vulnerability service is reported plainly and does not (unless strict)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "audit_deps", ROOT / "packaging" / "audit_deps.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


CLEAN = {"name": "cryptography", "version": "46.0.0", "vulns": []}
SKIPPED = {"name": "sqlcipher3", "skip_reason": "Dependency not found on PyPI"}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}],
}


def test_a_known_vulnerability_fails_and_names_the_fix(audit: ModuleType) -> None:
    verdict = audit.judge({"dependencies": [CLEAN, VULNERABLE, SKIPPED]}, "")
    assert verdict.exit_code == 1
    assert any("jinja2 3.1.2" in line and "3.1.3" in line for line in verdict.lines)


def test_clean_dependencies_pass_and_skipped_ones_are_named(audit: ModuleType) -> None:
    verdict = audit.judge({"dependencies": [CLEAN, SKIPPED]}, "")
    assert verdict.exit_code == 0
    assert "1 dependencies audited" in verdict.lines[0]
    assert "sqlcipher3" in verdict.lines[1]


@pytest.mark.parametrize("strict", [False, True])
def test_no_vulnerability_data_at_all_is_said_plainly(audit: ModuleType, strict: bool) -> None:
    verdict = audit.judge({"dependencies": [SKIPPED, SKIPPED]}, "", strict=strict)
    assert verdict.exit_code == (1 if strict else 0)
    assert "NOT audited" in " ".join(verdict.lines)
    unreachable = audit.judge(None, "requests.exceptions.ConnectionError: ...", strict=strict)
    assert unreachable.exit_code == (1 if strict else 0)
    assert "unreachable" in unreachable.lines[0] and "NOT audited" in unreachable.lines[0]


def test_accepted_vulnerabilities_need_an_id_per_line(audit: ModuleType, tmp_path: Path) -> None:
    ignore = tmp_path / "audit-ignore.txt"
    ignore.write_text("# header\nGHSA-aaaa-bbbb-cccc  only in the server extra\n\n", "utf-8")
    assert audit.ignored_ids(ignore) == ["GHSA-aaaa-bbbb-cccc"]
    assert audit.ignored_ids(ROOT / "packaging" / "audit-ignore.txt") == []


def test_ruff_security_rules_are_on() -> None:
    import tomllib

    lint = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    # Only the assert rule is off project-wide (pytest needs it); subprocess rules with
    # fixed argument lists are off because every call passes a list, never a shell string.
    assert set(lint["ignore"]) & {f"S{n}" for n in range(100, 1000)} <= {"S101", "S603", "S607"}
