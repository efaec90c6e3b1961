"""Small wording rules shared by the CLI and the GUI: counts with the right plural."""

from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 minute", "2 minutes", "0 entries" (`many` for words that do not just add an s)."""
    word = singular if count == 1 else (many or f"{singular}s")
    return f"{count} {word}"
