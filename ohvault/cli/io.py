"""Terminal input and output for the CLI: secrets from stdin or a prompt, JSON or text."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date, datetime
from typing import Any

from ohvault.errors import BadInput

_stdin_lines: list[str] | None = None


def _stdin_line() -> str:
    """Successive lines of stdin, so one pipe can carry e.g. old and new passphrase."""
    global _stdin_lines
    if _stdin_lines is None:
        _stdin_lines = sys.stdin.read().splitlines()
    if not _stdin_lines:
        raise BadInput("Expected another line on standard input.")
    return _stdin_lines.pop(0)


def reset_stdin() -> None:
    global _stdin_lines
    _stdin_lines = None


def read_secret(prompt: str, *, from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        value = _stdin_line()
    elif sys.stdin.isatty():
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != value:
            raise BadInput("The two entries do not match.")
    else:
        raise BadInput(
            "Standard input is not a terminal, so ohvault will not prompt.",
            hint="Pass the secret with --passphrase-stdin / --recovery-key-stdin.",
        )
    if not value:
        raise BadInput("An empty secret was given.")
    return value


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    raise TypeError(type(obj).__name__)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n")


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
