"""The LOINC codes the catalog uses, with their component and long name (for FHIR ``display``).

``resources/loinc/loinc-subset.tsv`` is a subset of the LOINC table (code, component, long common
name) holding exactly the codes of the biomarker catalog; ``tools/loinc_subset.py`` regenerates it
from a LOINC release. It carries LOINC's notice (``resources/loinc/README.md``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ohvault.labs.errors import CatalogError

SUBSET_FILE = "loinc-subset.tsv"
COLUMNS = ("loinc", "component", "long_common_name")


@dataclass(frozen=True)
class LoincTerm:
    code: str
    component: str
    long_name: str | None  # LOINC's long common name; not every code of the subset has one

    @property
    def display(self) -> str:
        """What a person or a FHIR ``display`` should read: the long name, else the component."""
        return self.long_name or self.component


def read_subset(path: Path) -> dict[str, LoincTerm]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(
                csv.reader((line for line in fh if not line.startswith("#")), delimiter="\t")
            )
    except OSError as exc:
        raise CatalogError(f"cannot read LOINC subset {path}: {exc}") from exc
    if not rows or tuple(rows[0]) != COLUMNS:
        raise CatalogError(f"{path}: expected the columns {', '.join(COLUMNS)}")
    terms: dict[str, LoincTerm] = {}
    for row in rows[1:]:
        if len(row) != len(COLUMNS):
            raise CatalogError(f"{path}: bad row {row!r}")
        code, component, long_name = row
        terms[code] = LoincTerm(code, component, long_name or None)
    return terms


@cache
def loinc_terms() -> dict[str, LoincTerm]:
    """Every code of the shipped subset, loaded once."""
    from ohvault.labs.catalog import resources_dir

    return read_subset(resources_dir() / "loinc" / SUBSET_FILE)


def loinc_term(code: str | None) -> LoincTerm | None:
    return loinc_terms().get(code.strip()) if code else None


def loinc_display(code: str | None) -> str | None:
    """The LOINC long common name of ``code`` (else its component), or None for an unknown code."""
    term = loinc_term(code)
    return term.display if term is not None else None
