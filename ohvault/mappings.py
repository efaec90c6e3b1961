"""Taught name mappings: what a printed test name means, as the user said once.

A laboratory prints a name the catalog does not know ("Lp-PLA2 Activity"); the
user maps it to a catalog analyte or keeps it as its own test (it then has its
own trend). The mapping is stored in the vault (by the repository), keyed by the
normalised printed name and optionally by the laboratory, and applied to every
later import with full confidence. The CLI (`ohvault mappings`) and the review
screen both call the functions here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

from ohvault.errors import BadInput

if TYPE_CHECKING:
    from ohvault.labs.catalog import Analyte, Catalog
    from ohvault.labs.parser import ParsedReport, ParsedResult

# A result the user's own mapping resolved is as sure as one the user typed.
TAUGHT_CONFIDENCE = 1.0


def normalise(text: str | None) -> str:
    """The lookup key of a printed name or laboratory: case, accents, punctuation ignored."""
    if not text:
        return ""
    from ohvault.labs.catalog import normalise_name

    return normalise_name(text)


@dataclass
class NameMapping:
    """A printed name (optionally at one laboratory) and the test it means."""

    printed_name: str
    analyte: str  # the catalog's preferred name, or the printed name for an own test
    loinc: str | None = None
    analyte_id: str | None = None  # catalog id; None for an own test
    own_test: bool = False
    lab: str | None = None  # None: every laboratory
    id: str = field(default_factory=lambda: uuid4().hex)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def printed_key(self) -> str:
        return normalise(self.printed_name)

    @property
    def lab_key(self) -> str:
        return normalise(self.lab)

    def describe(self) -> str:
        target = "its own test" if self.own_test else f"{self.analyte} (LOINC {self.loinc})"
        where = f" at {self.lab}" if self.lab else ""
        return f"{self.printed_name}{where} → {target}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "printed_name": self.printed_name,
            "lab": self.lab,
            "analyte": self.analyte,
            "analyte_id": self.analyte_id,
            "loinc": self.loinc,
            "own_test": self.own_test,
            "created_at": self.created_at.isoformat(),
        }


def find_analyte(catalog: Catalog, text: str) -> Analyte | None:
    """A catalog analyte by LOINC code, catalog id, preferred name or synonym."""
    text = text.strip()
    if not text:
        return None
    return (
        catalog.by_loinc(text)
        or catalog.by_id(text)
        or catalog.synonym_keys().get(normalise(text))
        or catalog.match(text)
    )


def build_mapping(
    catalog: Catalog,
    printed_name: str,
    *,
    analyte: str | None = None,
    own_test: bool = False,
    lab: str | None = None,
) -> NameMapping:
    """Check and build a mapping (not stored yet): to a catalog analyte, or as its own test."""
    printed = " ".join(printed_name.split())
    if not normalise(printed):
        raise BadInput("Give the test name as the report prints it.")
    lab = " ".join(lab.split()) if lab and lab.strip() else None
    if own_test == bool(analyte and analyte.strip()):
        raise BadInput("Map the name either to a catalog test or keep it as its own test.")
    if own_test:
        return NameMapping(printed_name=printed, analyte=printed, own_test=True, lab=lab)
    assert analyte is not None
    found = find_analyte(catalog, analyte)
    if found is None:
        raise BadInput(
            f"No test called {analyte!r} in the catalog.",
            hint="Use a name, a synonym or a LOINC code (search with the app's Map to…), "
            "or keep it as its own test.",
        )
    return NameMapping(
        printed_name=printed,
        analyte=found.preferred_name,
        loinc=found.loinc,
        analyte_id=found.id,
        lab=lab,
    )


def lookup(mappings: list[NameMapping], printed_name: str, lab: str | None) -> NameMapping | None:
    """The mapping for this name at this laboratory, else for this name at any laboratory."""
    key, lab_key = normalise(printed_name), normalise(lab)
    general: NameMapping | None = None
    for m in mappings:
        if m.printed_key != key:
            continue
        if m.lab_key and m.lab_key == lab_key:
            return m
        if not m.lab_key:
            general = m
    return general


def apply_mapping(
    result: ParsedResult, mapping: NameMapping, catalog: Catalog | None
) -> ParsedResult:
    """The result as the mapping says, at full confidence, with its canonical value."""
    if mapping.own_test:
        return dataclasses.replace(
            result,
            name=mapping.analyte,
            loinc=None,
            value_canonical=None,
            unit_canonical=None,
            confidence=TAUGHT_CONFIDENCE,
        )
    analyte = None
    if catalog is not None:
        analyte = (catalog.by_id(mapping.analyte_id) if mapping.analyte_id else None) or (
            catalog.by_loinc(mapping.loinc) if mapping.loinc else None
        )
    if analyte is None:  # no catalog at hand: the name and code the mapping was taught with
        return dataclasses.replace(
            result,
            name=mapping.analyte,
            loinc=mapping.loinc,
            value_canonical=None,
            unit_canonical=None,
            confidence=TAUGHT_CONFIDENCE,
        )
    return dataclasses.replace(read_as(result, analyte), name=mapping.analyte)


def read_as(
    result: ParsedResult, analyte: Analyte, *, confidence: float = TAUGHT_CONFIDENCE
) -> ParsedResult:
    """``result`` read as a result of ``analyte``, which a person chose for it.

    Its name and category are the analyte's; its LOINC code is the one of its unit's property
    (``Analyte.loinc_for_result``: glucose in mmol/L is 14749-6, not 2345-7), as the parser
    gives the results it maps itself; its canonical value is computed from the analyte's
    conversions, or left empty for a unit the analyte does not know. The one rule for a taught
    mapping (the review's Map to…, the CLI's `mappings add`) and a correction in the review.
    """
    unit = result.unit_ucum or result.unit
    canonical: float | None = None
    canonical_unit: str | None = None
    if result.value_num is not None:
        try:
            canonical = analyte.to_canonical(result.value_num, unit or analyte.canonical_unit)
            canonical_unit = analyte.canonical_unit
        except Exception:  # a unit the analyte does not know: keep the value as printed
            canonical, canonical_unit = None, None
    return dataclasses.replace(
        result,
        name=analyte.preferred_name,
        loinc=analyte.loinc_for_result(unit, text_value=result.value_num is None),
        category=analyte.category,
        value_canonical=canonical,
        unit_canonical=canonical_unit,
        confidence=confidence,
    )


def apply_mappings(
    report: ParsedReport, mappings: list[NameMapping], catalog: Catalog | None = None
) -> ParsedReport:
    """The report with every taught name resolved (per printed name, optionally per lab)."""
    if not mappings:
        return report
    out: list[ParsedResult] = []
    for r in report.results:
        m = lookup(mappings, r.printed_name, report.lab_name)
        out.append(apply_mapping(r, m, catalog) if m is not None else r)
    return dataclasses.replace(report, results=out)
