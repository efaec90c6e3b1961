"""Dependency audit for `make test`: pip-audit against PyPI's vulnerability data.

    python packaging/audit_deps.py

- A dependency with a known vulnerability fails the build (exit 1), unless its id is in
  packaging/audit-ignore.txt with a reason.
- If the vulnerability data cannot be reached (CI only reaches PyPI; OSV is not used), or
  PyPI answers without per-version data for every dependency, the audit says so plainly
  and does not fail the build: an unreachable service must not make CI flaky, and it is
  not evidence of a vulnerability. Set OHVAULT_AUDIT_STRICT=1 to fail in that case too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
IGNORE_FILE = HERE / "audit-ignore.txt"


@dataclass
class Verdict:
    exit_code: int
    lines: list[str] = field(default_factory=list)


def ignored_ids(path: Path = IGNORE_FILE) -> list[str]:
    """Vulnerability ids accepted on purpose: `ID  reason` per line, # comments."""
    if not path.exists():
        return []
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line.split()[0])
    return ids


def judge(report: dict[str, Any] | None, stderr: str, *, strict: bool = False) -> Verdict:
    """Turn pip-audit's JSON report (None if it produced none) into a build verdict."""
    if report is None:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        reason = "unreachable" if "Connection" in stderr or "resolve" in stderr else "failed"
        return Verdict(
            1 if strict else 0,
            [f"pip-audit: the vulnerability service was {reason}; dependencies NOT audited.",
             f"pip-audit: {last[0][:300]}"],
        )  # fmt: skip
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = len(deps) - len(skipped)
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(
                f"pip-audit: VULNERABLE {dep['name']} {dep.get('version', '?')}: "
                f"{vuln.get('id')} (fixed in: {fixes})"
            )
    if vulnerable:
        lines.append(
            "pip-audit: upgrade the package, or accept the risk in packaging/audit-ignore.txt "
            "with the id and a reason."
        )
        return Verdict(1, lines)
    if deps and audited == 0:
        return Verdict(
            1 if strict else 0,
            [f"pip-audit: none of {len(deps)} dependencies could be checked: the vulnerability "
             "data was not available (PyPI answered without per-version data).",
             "pip-audit: dependencies NOT audited; not failing the build "
             "(OHVAULT_AUDIT_STRICT=1 makes this fatal)."],
        )  # fmt: skip
    lines.append(f"pip-audit: {audited} dependencies audited, no known vulnerabilities.")
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        lines.append(f"pip-audit: {len(skipped)} could not be checked: {names}")
    return Verdict(0, lines)


def main() -> int:
    cmd = [
        sys.executable, "-m", "pip_audit", "--vulnerability-service", "pypi", "--skip-editable",
        "--format", "json", "--progress-spinner", "off", "--timeout", "30",
    ]  # fmt: skip
    for vuln_id in ignored_ids():
        cmd += ["--ignore-vuln", vuln_id]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    verdict = judge(report, proc.stderr, strict=os.environ.get("OHVAULT_AUDIT_STRICT") == "1")
    for line in verdict.lines:
        print(line)
    return verdict.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
