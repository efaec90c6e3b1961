"""The commands in the docs work: the README's are run for real, every other `ohvault ...`
shown in README.md or docs/*.md must at least be accepted by the argument parser, and every
make target the docs mention exists."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ohvault.cli.main import build_parser
from tests.hardening.fuzz.make_seeds import lab_pdf

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
_INLINE = re.compile(r"`((?:\.venv/bin/)?ohvault [^`]+)`")
# Placeholders the docs use for values, and what to parse them as.
PLACEHOLDERS = {
    "N": "2", "NAME": "Alex", "PATH": "backup.ohvbackup", "FILE": "report.pdf", "DIR": "out",
    "URL": "https://sync.example.org", "CODE": "ABCD", "ID": "0123", "TEXT": "note",
    "YYYY-MM-DD": "2024-01-01", "PEM": "ca.pem", "KEY": "age1xyz", "ACTION": "open",
}  # fmt: skip


def shell_lines(text: str) -> list[str]:
    """Command lines in ```sh / ```bash / ```console / ``` blocks, comments stripped."""
    lines = []
    for lang, body in _FENCE.findall(text):
        if lang not in ("", "sh", "bash", "shell", "console"):
            continue
        body = re.sub(r"\\\n\s*", " ", body)  # join continued lines
        for line in body.splitlines():
            line = line.removeprefix("$ ").strip()
            if line and not line.startswith("#"):
                lines.append(line.split("  #", 1)[0].split(" # ", 1)[0].strip())
    return lines


def ohvault_commands(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = [line for line in shell_lines(text) if re.match(r"(\.venv/bin/)?ohvault( |$)", line)]
    # Inline code in prose often just names a command (`ohvault restore`): parse it only when
    # it shows options; otherwise the command name alone must exist.
    for m in _INLINE.finditer(text):
        snippet = m.group(1)
        found.append(snippet if " -" in snippet else " ".join(snippet.split()[:2]) + " --help")
    out = []
    for cmd in found:
        cmd = cmd.split("|", 1)[0].split("<", 1)[0].split(">", 1)[0].strip()  # drop pipes
        # Synopses (`[--json]`, `add|list`, `FILE...`) document syntax, not a command line.
        if any(tok in cmd for tok in ("[", "…", "...")):
            continue
        out.append(cmd)
    return out


def _parse(cmd: str) -> None:
    argv = [PLACEHOLDERS.get(a, a) for a in shlex.split(cmd)[1:]]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):  # --help / --version exit 0
            raise AssertionError(f"the docs show a command ohvault rejects: {cmd}") from None


ALL = [(p, c) for p in DOCS for c in ohvault_commands(p)]


@pytest.mark.parametrize(("path", "cmd"), ALL, ids=[f"{p.name}:{c}" for p, c in ALL])
def test_documented_command_is_accepted(
    path: Path, cmd: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _parse(cmd)


def test_the_docs_show_commands_at_all() -> None:
    assert len(ALL) >= 10  # the extraction itself must not silently find nothing


def test_make_targets_in_the_docs_exist() -> None:
    targets = set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text("utf-8"), re.M))
    for path in DOCS:
        for m in re.finditer(r"`make ([\w-]+)`|^make ([\w-]+)", path.read_text("utf-8"), re.M):
            assert (m.group(1) or m.group(2)) in targets, f"{path.name} mentions make {m.group(0)}"


def test_readme_commands_run_in_order_on_a_fresh_vault(keychain: object, tmp_path: Path) -> None:
    """What a new user types from the README, run for real (the keychain, a real PDF)."""
    commands = [c for c in shell_lines((ROOT / "README.md").read_text("utf-8")) if "ohvault" in c]
    assert commands[0].startswith(".venv/bin/ohvault init"), commands
    name = re.search(r'--profile "([^"]+)"', commands[0])
    assert name, "the README's init names a profile"
    # The README imports report.pdf: a synthetic report for that same person.
    rows = [("Glucose", "5.4", "mmol/L", "3.9-5.6"), ("Hemoglobin", "13.9", "g/dL", "12.0 - 15.5")]
    (tmp_path / "report.pdf").write_bytes(lab_pdf(rows, patient=name.group(1)))
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = dict(os.environ)
    env.update(
        OHVAULT_HOME=str(tmp_path / "vault"),
        OHVAULT_CONFIG_DIR=str(tmp_path / "config"),
        OHVAULT_LOG_DIR=str(tmp_path / "logs"),
    )
    outputs = []
    for cmd in commands:
        result = subprocess.run(
            shlex.split(cmd), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"README command failed: {cmd}\n{result.stderr}"
        outputs.append(result.stdout)
    assert "recovery" in outputs[0].lower()
    assert "Glucose" in "".join(outputs)


def test_the_check_rejects_what_ohvault_would_reject() -> None:
    for bad in ("ohvault observations frobnicate", "ohvault backup --every-hours soon"):
        with pytest.raises(AssertionError):
            _parse(bad)
    _parse("ohvault backup --every-hours N --keep N --dir DIR")


def test_every_command_is_documented_in_the_cli_reference() -> None:
    """docs/cli.md has a section for each command `ohvault --help` lists, and no other."""
    import argparse

    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    listed = set(sub.choices)
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    documented = {
        name
        for heading in re.findall(r"^### (.*)$", text, re.M)
        for name in re.findall(r"`ohvault ([a-z][a-z-]*)", heading)
    }
    assert listed - documented == set(), "commands missing from docs/cli.md"
    assert documented - listed == set(), "docs/cli.md documents commands that do not exist"
