"""Units: printed spellings -> UCUM codes, UCUM codes -> the form a person reads, and properties.

UCUM is what the vault stores and exports (``10*3/uL``, ``u[IU]/mL``); people read
:func:`display_unit` (``10³/µL``, ``µIU/mL``). The spelling table lives in
``resources/catalog/units.json`` (data, not code); this module only normalises the typography
(micro signs, ``mc`` prefixes, superscripts, ``x10^3``/``10*3``/``10E3`` powers, whitespace) before
looking a spelling up. :func:`unit_property` names the kind of quantity a unit measures (mass or
substance concentration, ...), which decides the LOINC code of a result.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

from ohvault.labs.errors import CatalogError
from ohvault.ucum import UNITLESS as _UNITLESS
from ohvault.ucum import display_unit

__all__ = ["UnitTable", "display_unit", "load_unit_table", "normalise_unit", "unit_property"]

_ANNOTATION = re.compile(r"\{([^{}]*)\}")

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


# The property a unit measures, named as LOINC names them: the code of a result follows it.
_PREFIXES = ("", "k", "d", "c", "m", "u", "n", "p", "f")
_MASS = {p + "g" for p in _PREFIXES}
_SUBSTANCE = {p + "mol" for p in _PREFIXES} | {p + "eq" for p in _PREFIXES}
_ARBITRARY = (
    {p + "U" for p in _PREFIXES}
    | {p + "[IU]" for p in _PREFIXES}
    | {p + "kat" for p in _PREFIXES}
    | {"[arb'U]", "[EU]", "[todd'U]"}
)
_VOLUME = {p + "L" for p in _PREFIXES} | {"mm3", "[HPF]", "[LPF]"}
_TIME = {"h", "d", "min", "s", "(24.h)", "24.h"}


def _atom_kind(atom: str) -> str | None:
    atom = _ANNOTATION.sub("", atom)
    if atom in _MASS:
        return "M"
    if atom in _SUBSTANCE:
        return "S"
    if atom in _ARBITRARY:
        return "A"
    if atom == "" or re.fullmatch(r"10\*\d+|\d+", atom):
        return "N"
    return None


def unit_property(ucum: str | None) -> str | None:
    """The LOINC property a UCUM unit measures: ``MCnc`` (mass/volume), ``SCnc``, ``ACnc``, ...

    Units of one property convert into each other by a fixed factor (``mg/dL`` and ``g/L``) and
    share a LOINC code; a molar unit needs the analyte's molar code. Calibrator annotations
    that change the code are kept (``ng/mL{FEU}`` is ``MCnc{FEU}``, not ``MCnc{DDU}``).
    Returns the UCUM code itself when the unit fits none of the families below, so two unknown
    units never pass for the same property.
    """
    if ucum is None:
        return None
    s = ucum.strip()
    if s in ("", *_UNITLESS):
        return "Ratio" if s else None
    tag = "".join("{" + n + "}" for n in _ANNOTATION.findall(s) if n in ("FEU", "DDU"))
    area = s.endswith("/{1.73_m2}")
    parts = _ANNOTATION.sub("", s.removesuffix("/{1.73_m2}")).split("/")
    if s in ("%", "L/L"):
        return "Fr"
    kinds = [_atom_kind(p) for p in parts]
    if len(parts) >= 2 and parts[0] in _VOLUME and parts[1] in _TIME:
        return ("Ar" if area else "") + "VRat"  # mL/min, mL/s, mL/min/1.73 m2
    if len(parts) < 2 or kinds[0] is None:
        return s
    k = kinds[0]
    if parts[1] in _VOLUME:
        rate = "Rat" if len(parts) == 3 and parts[2] in _TIME else ""
        return f"{k}Cnc{rate}{tag}"  # MCnc; MCncRat: ng/mL/h (renin activity)
    if len(parts) == 2 and parts[1] in _TIME:
        return f"{k}Rat{tag}"
    if len(parts) == 2 and k == "S" and kinds[1] == "S":
        return f"SFr{tag}"  # mmol/mol (HbA1c IFCC)
    if len(parts) == 2 and kinds[1] in ("M", "S"):
        return f"{k}{kinds[1]}Rto{tag}"  # mg/g or mg/mmol of creatinine, ug/g of stool
    return s
