"""Counts read as a person would write them."""

from __future__ import annotations

from ohvault.wording import plural


def test_plural_uses_the_singular_only_for_one() -> None:
    assert plural(1, "minute") == "1 minute"
    assert plural(2, "minute") == "2 minutes"
    assert plural(0, "row") == "0 rows"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"
