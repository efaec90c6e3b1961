"""Small wording rules shared by the CLI, the GUI and the reports: plurals, flags, ranges."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ohvault.model import Observation

FLAG_WORDS = {
    "H": "High",
    "HH": "Critically high",
    "L": "Low",
    "LL": "Critically low",
    "A": "Abnormal",
    "N": "Normal",
}


def plural(count: int, singular: str, many: str | None = None) -> str:
    """ "1 minute", "2 minutes", "0 entries" (`many` for words that do not just add an s)."""
    word = singular if count == 1 else (many or f"{singular}s")
    return f"{count} {word}"


def flag_word(flag: str | None) -> str:
    """A result's flag in words ("High"); a flag we have no word for is shown as it is."""
    return FLAG_WORDS.get(flag or "", flag or "")


def reference_text(o: Observation) -> str:
    """The reference range as a person reads it: "70–99", "< 200", "> 40", else the printed text."""
    if o.ref_low is not None and o.ref_high is not None:
        return f"{o.ref_low:g}–{o.ref_high:g}"
    if o.ref_high is not None:
        return f"< {o.ref_high:g}"
    if o.ref_low is not None:
        return f"> {o.ref_low:g}"
    return o.ref_text or ""
