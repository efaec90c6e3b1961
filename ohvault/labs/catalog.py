"""The biomarker catalog: analytes, their names in many languages, units and conversions.

The catalog is data (``resources/catalog/analytes.json`` and ``units.json``, documented in
``docs/catalog-format.md``); this module loads and indexes it. Families of analytes that differ
only by one ingredient (allergen-specific IgE) are written once with a member list and expanded
here into one analyte per member.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ohvault.labs.errors import CatalogError, UnitConversionError
from ohvault.labs.units import UnitTable, load_unit_table, unit_property

_GREEK = str.maketrans(
    {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "λ": "lambda"}
)
_NON_WORD = re.compile(r"[^0-9a-z%#]+")
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_TRAILING_PAREN = re.compile(r"\s*\([^()]*\)\s*$")
# One letter joined to a name by a hyphen ("LDL-P", "HDL-P"): the letter is part of the name
_GLUED_LETTER = re.compile(r"(?<=[A-Za-z0-9])-([A-Za-z])(?![A-Za-z0-9])")


def resources_dir() -> Path:
    """The shipped data folder (``ohvault.paths.resources_dir``), checked to hold the catalog."""
    from ohvault import paths

    found = paths.resources_dir()
    if not (found / "catalog" / "analytes.json").is_file():
        raise CatalogError(f"biomarker catalog not found in {found}; reinstall ohvault")
    return found


def catalog_dir() -> Path:
    """Directory holding ``analytes.json`` and ``units.json``."""
    return resources_dir() / "catalog"


def normalise_name(text: str) -> str:
    """Normalise a printed test name for lookup.

    Case, accents, punctuation and spacing are ignored; ``%`` and ``#`` are kept as words
    because they distinguish relative from absolute differential counts.
    """
    s = text.translate(_GREEK).replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = s.replace("%", " % ").replace("#", " # ")
    return " ".join(_NON_WORD.sub(" ", s).split())


@dataclass(frozen=True)
class UnitConversion:
    """``canonical = value * factor / divisor + offset`` (affine, hence exactly invertible)."""

    unit: str
    factor: float
    divisor: float = 1.0
    offset: float = 0.0

    def to_canonical(self, value: float) -> float:
        return value * self.factor / self.divisor + self.offset

    def from_canonical(self, value: float) -> float:
        return (value - self.offset) * self.divisor / self.factor


@dataclass(frozen=True)
class Analyte:
    id: str
    preferred_name: str
    loincs: tuple[str, ...]
    category: str
    canonical_unit: str
    conversions: tuple[UnitConversion, ...]
    plausible_low: float | None
    plausible_high: float | None
    ref_low: float | None
    ref_high: float | None
    ref_text: str | None
    synonyms: tuple[str, ...]
    qualitative: bool = False
    values: tuple[str, ...] = ()
    normal: str | None = None
    family: str | None = None
    # LOINC code per unit property (``{"SCnc": "14749-6"}``); None: LOINC has no code for it
    loinc_by_property: dict[str, str | None] = field(default_factory=dict, compare=False)
    _by_unit: dict[str, UnitConversion] = field(default_factory=dict, compare=False, repr=False)

    @property
    def loinc(self) -> str | None:
        """The primary code (for results in the canonical unit); None for a derived index that
        LOINC has no code for (NLR, Mentzer index, HOMA-IR)."""
        return self.loincs[0] if self.loincs else None

    def loinc_for_unit(self, ucum: str | None) -> str | None:
        """The LOINC code for a result of this analyte reported in ``ucum``.

        LOINC codes name a property: glucose in mg/dL is 2345-7, in mmol/L 14749-6; HbA1c in %
        is 4548-4, in mmol/mol 59261-8. A unit of the canonical unit's property (or no unit, a
        qualitative result) gets the primary code. None when the unit's property has no code
        in the catalog: storing a mass code on a molar value would be wrong, not approximate.
        A printed spelling (``"mmol/l"``, ``"µIU/mL"``) is read as its UCUM code first.
        """
        if ucum and ucum not in self._by_unit:
            from ohvault.labs.units import normalise_unit

            ucum = normalise_unit(ucum) or ucum
        prop = unit_property(ucum) if ucum else None
        if prop is None or prop == unit_property(self.canonical_unit):
            return self.loinc
        return self.loinc_by_property.get(prop)

    def loinc_for_result(self, unit: str | None, *, text_value: bool = False) -> str | None:
        """The LOINC code to store with a result of this analyte printed with ``unit``.

        A number in a unit read as UCUM gets the code of that unit's property
        (:meth:`loinc_for_unit`: glucose in mmol/L is 14749-6). A text result (``Negative``,
        ``NONE SEEN`` per HPF) or a number whose unit is no unit we know (``% of total Hgb``)
        gets the primary code: its unit tells no property, and such a number is reviewed
        before it is stored. The one rule of the parser, taught mappings and corrections.
        """
        if text_value or not unit:
            return self.loinc
        if unit not in self._by_unit:
            from ohvault.labs.units import normalise_unit

            read = normalise_unit(unit)
            if read is None:
                return self.loinc
            unit = read
        return self.loinc_for_unit(unit)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(c.unit for c in self.conversions)

    def accepts(self, ucum: str | None) -> bool:
        return ucum is not None and ucum in self._by_unit

    def _conversion(self, unit: str) -> UnitConversion:
        conv = self._by_unit.get(unit)
        if conv is None:
            from ohvault.labs.units import normalise_unit

            ucum = normalise_unit(unit)
            conv = self._by_unit.get(ucum) if ucum is not None else None
        if conv is None:
            raise UnitConversionError(f"{self.preferred_name}: unit {unit!r} is not accepted")
        return conv

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        """Convert between two accepted units (UCUM codes or printed spellings)."""
        canonical = self._conversion(from_unit).to_canonical(value)
        return self._conversion(to_unit).from_canonical(canonical)

    def to_canonical(self, value: float, unit: str) -> float:
        return self._conversion(unit).to_canonical(value)

    def is_plausible(self, canonical_value: float) -> bool:
        lo, hi = self.plausible_low, self.plausible_high
        return (lo is None or canonical_value >= lo) and (hi is None or canonical_value <= hi)


@dataclass(frozen=True)
class NameMatch:
    analyte: Analyte
    score: float  # 1.0 exact synonym; lower when words had to be dropped
    how: str


@dataclass(frozen=True)
class _Shared:
    name: str
    analytes: tuple[str, ...]
    default: str | None


_NOISE_WORDS = {
    "serum",
    "plasma",
    "s",
    "p",
    "se",
    "pl",
    "b",
    "blood",
    "whole",
    "level",
    "levels",
    "estimation",
    "test",
    "result",
    "conc",
    "concentration",
    "value",
    "photometry",
    "calculated",
    "calc",
    "immunoassay",
    "clia",
    "ecl",
    "ecli",
    "eclia",
    "cmia",
    "elisa",
    "hplc",
    "ise",
    "indirect ise",
    "enzymatic",
    "colorimetric",
    "turbidimetry",
    "nephelometry",
    "spectrophotometry",
    "method",
    "automated",
    "automated count",
    "flow cytometry",
    "impedance",
    "cyanide free",
    "sls",
    # qualitative or quantitative variant of the same test ("HLA-B27 PCR, QUALITATIVE")
    "qualitative",
    "quantitative",
    "qual",
    "quant",
    "qn",
    # specimen words in other languages ("Glükóz ... - plazma", "Ferro sérico - soro")
    "plazma",
    "szerum",
    "soro",
}


class Catalog:
    """Indexed biomarker catalog. Build with :func:`load_catalog`."""

    def __init__(
        self,
        analytes: Iterable[Analyte],
        shared: list[_Shared],
        headings: dict[str, str],
        unit_table: UnitTable,
    ) -> None:
        self._analytes = list(analytes)
        self._by_id = {a.id: a for a in self._analytes}
        self._by_loinc: dict[str, Analyte] = {}
        self._by_name: dict[str, Analyte] = {}
        self.collisions: list[tuple[str, str, str]] = []
        shared_keys = {normalise_name(s.name) for s in shared}
        for a in self._analytes:
            for code in a.loincs:
                self._by_loinc.setdefault(code, a)
            for syn in (*a.synonyms, a.preferred_name):
                key = normalise_name(syn)
                if key in shared_keys:
                    continue
                other = self._by_name.setdefault(key, a)
                if other is not a:
                    self.collisions.append((key, other.id, a.id))
        self._shared: dict[str, _Shared] = {normalise_name(s.name): s for s in shared}
        self._headings = headings
        self.unit_table = unit_table
        self._spaceless_index: dict[str, Analyte] | None = None
        self._section_cache: dict[tuple[str, str, str | None], Analyte | None] = {}
        self._names_sorted = sorted(
            {
                **self._by_name,
                **{k: self._by_id[s.default] for k, s in self._shared.items() if s.default},
            }.items()
        )

    # -- basic access -------------------------------------------------------------------------
    def all(self) -> list[Analyte]:
        return list(self._analytes)

    def by_id(self, analyte_id: str) -> Analyte | None:
        return self._by_id.get(analyte_id)

    def by_loinc(self, code: str) -> Analyte | None:
        return self._by_loinc.get(code.strip())

    def loinc_for(self, analyte_id: str, ucum: str | None) -> str | None:
        """The LOINC code for a result of ``analyte_id`` in ``ucum`` (see Analyte.loinc_for_unit)."""
        analyte = self._by_id.get(analyte_id)
        return analyte.loinc_for_unit(ucum) if analyte is not None else None

    def family(self, family_id: str) -> list[Analyte]:
        """The analytes expanded from one family (``"sige"``: allergen-specific IgE)."""
        return [a for a in self._analytes if a.family == family_id]

    def shared_names(self) -> dict[str, tuple[str, ...]]:
        return {k: s.analytes for k, s in self._shared.items()}

    def synonym_keys(self) -> dict[str, Analyte]:
        return dict(self._by_name)

    def search(self, prefix: str, limit: int = 20) -> list[Analyte]:
        """Analytes with a name (or any word of a name) starting with ``prefix`` (autocomplete)."""
        key = normalise_name(prefix)
        if not key:
            return []
        starts: list[Analyte] = []
        words: list[Analyte] = []
        for name, analyte in self._names_sorted:
            if name.startswith(key):
                if analyte not in starts:
                    starts.append(analyte)
            elif f" {key}" in f" {name}" and analyte not in words:
                words.append(analyte)
        out = starts + [a for a in words if a not in starts]
        return out[:limit]

    def category_for_heading(self, text: str) -> str | None:
        """Category id when ``text`` is a known section heading (``"Lipid Panel"`` -> lipids)."""
        key = normalise_name(text)
        hit = self._headings.get(key)
        if hit is None and key:
            stripped = normalise_name(_PAREN.sub(" ", text))
            hit = self._headings.get(stripped)
        return hit

    # -- name matching ------------------------------------------------------------------------
    def match(
        self,
        printed_name: str,
        unit: str | None = None,
        *,
        section: str | None = None,
        qualitative: bool | None = None,
    ) -> Analyte | None:
        """The analyte a printed test name refers to, or None when it is not recognised.

        ``unit`` (printed or UCUM), ``section`` (category id of the enclosing heading) and
        ``qualitative`` disambiguate names used by several analytes (``"Neutrophils"`` with ``%``
        or ``10^3/µL``; ``"Glucose"`` in blood or urine).
        """
        m = self.match_name(printed_name, unit, section=section, qualitative=qualitative)
        return m.analyte if m else None

    def match_name(
        self,
        printed_name: str,
        unit: str | None = None,
        *,
        section: str | None = None,
        qualitative: bool | None = None,
    ) -> NameMatch | None:
        ucum = None
        if unit:
            ucum = unit if unit in self.unit_table.ucum_codes else self.unit_table.lookup(unit)
        keys = _candidate_keys(printed_name)
        for key, score, how in keys:
            if how == "prefix":
                break
            hit = self._lookup_key(key, ucum, section, qualitative)
            if hit is not None and section is not None and hit.category != section:
                # "Occult blood" under a urinalysis heading is the urine test, not the stool one
                alt = self._in_section(key, section, ucum)
                if alt is not None:
                    return NameMatch(alt, min(score, 0.92), "qualified by section heading")
            if hit is not None:
                return NameMatch(hit, score, how)
        # Tight character spacing makes text extraction drop the spaces ("TotalCholesterol").
        for key, score, how in keys:
            if how == "prefix":
                break
            hit = self._spaceless().get(key.replace(" ", ""))
            if hit is not None:
                return NameMatch(hit, min(score, 0.92), "ignoring spaces")
        if section is not None:
            for key, score, how in keys:
                if how == "prefix":
                    break
                alt = self._in_section(key, section, ucum)
                if alt is not None:
                    return NameMatch(alt, min(score, 0.92), "qualified by section heading")
        for key, score, how in keys:
            if how != "prefix":
                continue
            hit = self._lookup_key(key, ucum, section, qualitative)
            if hit is not None:
                return NameMatch(hit, score, how)
        return None

    def _spaceless(self) -> dict[str, Analyte]:
        """Synonyms with the spaces removed; keys shared by two analytes are left out."""
        if self._spaceless_index is None:
            index: dict[str, Analyte | None] = {}
            for key, analyte in self._by_name.items():
                k = key.replace(" ", "")
                if len(k) < 4:  # "K", "Na", "Hb": too short to match safely without spaces
                    continue
                index[k] = analyte if index.get(k, analyte) is analyte else None
            self._spaceless_index = {k: a for k, a in index.items() if a is not None}
        return self._spaceless_index

    def _in_section(self, key: str, section: str, ucum: str | None) -> Analyte | None:
        """The one analyte of category ``section`` named ``key`` plus one qualifying word.

        Section headings qualify short names: "Protein" under "Urinalysis" is "Urine protein".
        """
        words = key.split()
        if not words:
            return None
        cache_key = (key, section, ucum)
        if cache_key in self._section_cache:
            return self._section_cache[cache_key]
        wanted = set(words)
        # the added word must come from the section's own headings ("urine" in "Urine routine"),
        # so "Plasma glucose" under "Diabetes" is not turned into some other diabetes test
        qualifiers = {
            w for heading, cat in self._headings.items() if cat == section for w in heading.split()
        }
        found: set[str] = set()
        for name, analyte in self._by_name.items():
            if analyte.category != section or (ucum is not None and not analyte.accepts(ucum)):
                continue
            parts = name.split()
            extra = set(parts) - wanted
            if len(parts) == len(words) + 1 and len(extra) == 1 and extra <= qualifiers:
                found.add(analyte.id)
        hit = self._by_id[found.pop()] if len(found) == 1 else None
        self._section_cache[cache_key] = hit
        return hit

    def _lookup_key(
        self, key: str, ucum: str | None, section: str | None, qualitative: bool | None
    ) -> Analyte | None:
        shared = self._shared.get(key)
        if shared is not None:
            return self._resolve_shared(shared, ucum, section, qualitative)
        return self._by_name.get(key)

    def _resolve_shared(
        self, shared: _Shared, ucum: str | None, section: str | None, qualitative: bool | None
    ) -> Analyte | None:
        cands = [self._by_id[i] for i in shared.analytes]
        if ucum is not None:
            by_unit = [a for a in cands if a.accepts(ucum)]
            if by_unit:
                cands = by_unit
            elif len(cands) > 1:
                return None
        if len(cands) > 1 and section is not None:
            by_section = [a for a in cands if a.category == section]
            if by_section:
                cands = by_section
        if len(cands) > 1 and qualitative is not None:
            by_kind = [a for a in cands if a.qualitative == qualitative]
            if by_kind:
                cands = by_kind
        if len(cands) == 1:
            return cands[0]
        if shared.default is not None and any(a.id == shared.default for a in cands):
            return self._by_id[shared.default]
        return None


def _candidate_keys(printed: str) -> list[tuple[str, float, str]]:
    out: list[tuple[str, float, str]] = []
    seen: set[str] = set()

    def add(text: str, score: float, how: str) -> None:
        key = normalise_name(text) if how != "raw" else text
        if key and key not in seen:
            seen.add(key)
            out.append((key, score, how))

    full = normalise_name(printed)
    add(full, 1.0, "raw")
    # one letter joined to the name by a hyphen ("LDL-P", "HDL-P, serum") belongs to the
    # name: it is never dropped as a specimen letter nor cut off by a prefix guess
    glued = {m.group(1).casefold() for m in _GLUED_LETTER.finditer(printed)}
    # a mark after the name ("(A)" for an accredited test, "(calc)") while the name itself
    # holds parentheses: "Glükóz (éhgyomri, 0 perces vércukor) - plazma (A)" is tried before
    # the name without any parentheses, which drops the words that say what it is
    before_mark = _TRAILING_PAREN.sub("", printed)
    if before_mark != printed and _PAREN.search(before_mark):
        add(before_mark, 0.95, "without the mark after the name")
        add(
            " ".join(_without_noise(normalise_name(before_mark).split(), glued)),
            0.92,
            "without noise words",
        )
    no_paren = _PAREN.sub(" ", printed)
    add(no_paren, 0.95, "without parentheses")
    full_words = full.split()
    while full_words and full_words[-1].isdigit() and len(full_words) > 1:
        full_words.pop()
    add(" ".join(full_words), 0.95, "without trailing code")
    words = normalise_name(no_paren).split()
    # trailing lab codes / footnote digits ("Glucose 01", "Sodium 1"), noise words
    trimmed = _without_noise(words, glued)
    add(" ".join(trimmed), 0.92, "without noise words")
    for inner in re.findall(r"\(([^()]*)\)", printed):
        add(inner, 0.85, "parenthesised name")
    # last resort: drop trailing words (low confidence, never confident on its own)
    for n in range(len(trimmed) - 1, 0, -1):
        if trimmed[n] in glued and len(trimmed[n]) == 1:
            continue  # "VLDL-P" is not "VLDL"
        head = " ".join(trimmed[:n])
        if len(head) >= 3:
            add(head, 0.55, "prefix")
    return out


def _without_noise(words: list[str], glued: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The words of a name without trailing codes and noise words at either end.

    A one-letter word in ``glued`` was joined to the name by a hyphen in print and is part of
    it, not a specimen letter: ``LDL-P`` and ``VLDL-P`` are particle counts, never LDL or VLDL
    cholesterol.
    """
    trimmed = list(words)
    while trimmed and (
        (trimmed[-1].isdigit() and len(trimmed) > 1)
        or (trimmed[-1] in _NOISE_WORDS and not (len(trimmed[-1]) == 1 and trimmed[-1] in glued))
    ):
        trimmed.pop()
    while len(trimmed) > 1 and trimmed[0] in _NOISE_WORDS:
        trimmed.pop(0)
    return trimmed


def _num(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise CatalogError(f"expected a number or null, got {v!r}")
    return float(v)


def _analyte(raw: dict[str, Any], family: str | None = None) -> Analyte:
    try:
        convs = tuple(
            UnitConversion(
                unit=str(u["unit"]),
                factor=float(u["factor"]),
                divisor=float(u.get("divisor", 1.0)),
                offset=float(u.get("offset", 0.0)),
            )
            for u in raw["units"]
        )
        plaus = raw.get("plausible", [None, None])
        ref = raw.get("reference", {})
        by_prop = raw.get("loinc_by_property", {})
        if not isinstance(by_prop, dict):
            raise TypeError("loinc_by_property must be an object")
        a = Analyte(
            id=str(raw["id"]),
            preferred_name=str(raw["preferred_name"]),
            loincs=tuple(str(c) for c in raw["loinc"]),
            category=str(raw["category"]),
            canonical_unit=str(raw["canonical_unit"]),
            conversions=convs,
            plausible_low=_num(plaus[0]),
            plausible_high=_num(plaus[1]),
            ref_low=_num(ref.get("low")),
            ref_high=_num(ref.get("high")),
            ref_text=ref.get("text"),
            synonyms=tuple(str(s) for s in raw.get("synonyms", [])),
            qualitative=bool(raw.get("qualitative", False)),
            values=tuple(str(s) for s in raw.get("values", [])),
            normal=raw.get("normal"),
            family=family,
            loinc_by_property={str(k): None if v is None else str(v) for k, v in by_prop.items()},
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CatalogError(f"analytes.json: bad analyte {raw.get('id')!r}: {exc}") from exc
    if not a.loincs and not raw.get("no_loinc"):
        raise CatalogError(
            f"analytes.json: analyte {a.id!r} has no LOINC code and no 'no_loinc' reason"
        )
    a._by_unit.update({c.unit: c for c in convs})
    return a


def expand_family(family: dict[str, Any]) -> list[dict[str, Any]]:
    """One analyte entry per family member, names generated from the family's patterns.

    A member ``{"code": "f13", "name": "Peanut", "loinc": "6206-7", "synonyms": ["Groundnut"]}``
    with patterns ``["{name} IgE", "IgE {name}", "{code} {name}"]`` is printed by labs as
    "Peanut IgE", "IgE Peanut", "f13 Peanut", "Groundnut IgE"; the code alone ("t3") is never a
    name, as it is often another test's. Every other key of the family
    (units, category, reference, plausible bounds) is shared by its members.
    """
    try:
        fid = str(family["id"])
        patterns = [str(p) for p in family["name_patterns"]]
        code_patterns = [str(p) for p in family.get("code_patterns", [])]
        template = str(family["preferred_name"])
        members = family["members"]
        shared = {
            k: v
            for k, v in family.items()
            if k not in ("id", "name_patterns", "code_patterns", "preferred_name", "members")
        }
        out: list[dict[str, Any]] = []
        for m in members:
            names = [str(m["name"]), *map(str, m.get("synonyms", []))]
            code = str(m.get("code", "")).strip()
            synonyms: list[str] = []
            for name in names:
                for pat in patterns:
                    synonyms.append(pat.format(name=name, code=code))
                if code:
                    for pat in code_patterns:
                        synonyms.append(pat.format(name=name, code=code))
            entry = dict(shared)
            entry.update(
                id=f"{fid}_{m['id']}",
                preferred_name=template.format(name=m["name"], code=code),
                loinc=[str(m["loinc"])],
                synonyms=list(dict.fromkeys(synonyms)),
            )
            out.append(entry)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CatalogError(f"analytes.json: bad family {family.get('id')!r}: {exc}") from exc
    return out


def parse_catalog(data: dict[str, Any], unit_table: UnitTable) -> Catalog:
    """Build a :class:`Catalog` from the decoded ``analytes.json``."""
    if data.get("format") != "ohvault-biomarker-catalog":
        raise CatalogError("analytes.json: unexpected 'format'")
    analytes = [_analyte(raw) for raw in data["analytes"]]
    for family in data.get("families", []):
        analytes.extend(_analyte(raw, str(family["id"])) for raw in expand_family(family))
    shared = [
        _Shared(str(s["name"]), tuple(str(x) for x in s["analytes"]), s.get("default"))
        for s in data.get("shared_names", [])
    ]
    headings: dict[str, str] = {}
    for cat in data.get("categories", []):
        for h in cat["headings"]:
            headings.setdefault(normalise_name(h), str(cat["id"]))
    return Catalog(analytes, shared, headings, unit_table)


@cache
def load_catalog(directory: Path | None = None) -> Catalog:
    """Load (once per directory) the catalog from ``resources/catalog``."""
    base = directory or catalog_dir()
    path = base / "analytes.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read biomarker catalog {path}: {exc}") from exc
    return parse_catalog(data, load_unit_table(base / "units.json"))
