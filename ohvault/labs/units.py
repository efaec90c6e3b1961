"""Printed unit spellings -> UCUM codes.

The spelling table lives in ``resources/catalog/units.json`` (data, not code); this module only
normalises the typography (micro signs, ``mc`` prefixes, superscripts, ``x10^3``/``10*3``/``10E3``
powers, whitespace) before looking a spelling up.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

from ohvault.labs.errors import CatalogError

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUP_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_POWER = re.compile(r"(?:^|(?<=[^0-9.,]))[xX*×]?\s*10\s*(?:\^|\*|[eE]|\*\*)\s*(\d{1,2})")
_MC = re.compile(r"(?:^|(?<=[/\s(]))mc(?=[gIUimk])")
_SPACE = re.compile(r"\s+")
_WRAP = re.compile(r"^[(\[]\s*(.*?)\s*[)\]]$")


def spelling_key(printed: str) -> str:
    """Typographic normalisation of a printed unit (case is kept)."""
    s = _SUP_RUN.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), printed)
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("μ", "u").replace("µ", "u").replace("°", "").replace("·", ".")
    s = _MC.sub("u", s.strip())
    s = _POWER.sub(lambda m: "10^" + m.group(1), s)
    s = _SPACE.sub("", s)
    s = s.replace("m^2", "m2").replace("1,73", "1.73")
    return s


class UnitTable:
    """Lookup table from printed spellings to UCUM codes."""

    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.exact: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        self.ucum_codes: set[str] = set()
        for entry in entries:
            ucum = str(entry["ucum"])
            self.ucum_codes.add(ucum)
            spellings = entry.get("spellings", [])
            sensitive = entry.get("case_sensitive", [])
            if not isinstance(spellings, list) or not isinstance(sensitive, list):
                raise CatalogError(f"units.json: bad spellings for {ucum}")
            for sp in [ucum, *map(str, spellings)]:
                key = spelling_key(sp)
                self.exact.setdefault(key, ucum)
                self.folded.setdefault(key.casefold(), ucum)
            for sp in map(str, sensitive):
                self.exact[spelling_key(sp)] = ucum

    def lookup(self, printed: str) -> str | None:
        key = spelling_key(printed)
        if not key:
            return None
        for candidate in (key, _strip_wrap(key)):
            if candidate in self.exact:
                return self.exact[candidate]
            folded = candidate.casefold()
            if folded in self.folded:
                return self.folded[folded]
        return None


def _strip_wrap(key: str) -> str:
    m = _WRAP.match(key)
    return m.group(1) if m else key


def load_unit_table(path: Path) -> UnitTable:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read unit table {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise CatalogError(f"{path}: expected an object with a 'units' list")
    return UnitTable(data["units"])


@cache
def default_unit_table() -> UnitTable:
    from ohvault.labs.catalog import catalog_dir

    return load_unit_table(catalog_dir() / "units.json")


@cache
def normalise_unit(printed: str) -> str | None:
    """Return the UCUM code for a printed unit (``"x10^3/µL"`` -> ``"10*3/uL"``), or None."""
    return default_unit_table().lookup(printed)
