"""Per-package coverage floors (issue 14): keys, storage, bundles and sync never lose coverage.

Active when pytest runs with pytest-cov (`make test` passes --cov). After pytest-cov has
combined the workers' data, each package's line coverage is compared with its floor in
tests/coverage-floors.json; a package below its floor fails the run, with a line saying
which. The floors are the levels the packages reached when the gate was added (`make test`
on 2026-11-30: keys 92-94%, storage 89-92%, bundles 90%, sync 90-91% across runs), rounded
down a point because hypothesis and xdist scheduling move a package's figure by about that
much from run to run; raise them as tests improve, never lower them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

FLOORS = Path(__file__).with_name("coverage-floors.json")


def package_coverage(cov: Any, package: str) -> float:
    """Percent of statements covered in ohvault/PACKAGE/ (coverage's own report arithmetic)."""
    return float(cov.report(include=[f"*/ohvault/{package}/*"], file=io.StringIO()))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, None, None]:
    yield  # pytest-cov's own wrapper has finished and combined the data by now
    plugin = session.config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    cov = getattr(controller, "cov", None)
    if cov is None or hasattr(session.config, "workerinput"):
        return  # no coverage run, or an xdist worker (the controller checks)
    floors: dict[str, float] = json.loads(FLOORS.read_text(encoding="utf-8"))
    reporter = session.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("-", "coverage floors (tests/coverage-floors.json)")
    failed = []
    for package, floor in sorted(floors.items()):
        got = package_coverage(cov, package)
        line = f"coverage ohvault/{package}: {got:.1f}% (floor {floor:.1f}%)"
        if got + 1e-9 < floor:
            failed.append(line)
        elif reporter is not None:
            reporter.write_line(line)
    for line in failed:
        if reporter is not None:
            reporter.write_line(f"COVERAGE BELOW FLOOR: {line}", red=True)
    if failed:
        session.testsfailed += 1
