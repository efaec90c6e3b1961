"""What the lab report parser returns: results, rows it could not read, and the report.

Also the confidence levels that give a result's ``confidence`` its meaning: a result at or above
:data:`CONFIDENT` is stored without review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

CONFIDENT = 0.8
# A row that is structurally a result but whose name is not in the catalog is returned for
# review, never stored without it.
UNMAPPED_CONFIDENCE = 0.5
# A value from a table of several dated result columns whose current column cannot be told.
UNCERTAIN_COLUMN_CONFIDENCE = 0.6
# A printed name read as a catalog name it is spelt almost like (OCR misspellings).
FUZZY_CONFIDENCE = 0.7
# A name matched by its first words, the rest checked (resolve.Resolver._prefix_holds): the
# test's own abbreviation after its name ("Sex Hormone Binding Globulin SHBG") is a second,
# independent match of the same test; a footnote letter or a method or specimen word
# ("Triglycerides A", "Methylmalonic Acid, Serum") only counts with a unit the test is
# measured in, because a letter can name another test ("Protein S").
ABBREVIATION_AGREES_CONFIDENCE = 0.9
MARK_AFTER_NAME_CONFIDENCE = 0.85


@dataclass(frozen=True)
class ParsedResult:
    name: str | None
    printed_name: str
    loinc: str | None
    value: float | str
    value_num: float | None
    comparator: str | None
    unit: str | None
    unit_ucum: str | None
    value_canonical: float | None
    unit_canonical: str | None
    ref_low: float | None
    ref_high: float | None
    ref_text: str | None
    flag: str | None
    date: date | None
    page: int
    bbox: tuple[float, float, float, float]
    confidence: float
    category: str | None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "printed_name": self.printed_name,
            "loinc": self.loinc,
            "value": self.value,
            "unit": self.unit,
            "unit_ucum": self.unit_ucum,
            "value_canonical": self.value_canonical,
            "unit_canonical": self.unit_canonical,
            "ref_low": self.ref_low,
            "ref_high": self.ref_high,
            "ref_text": self.ref_text,
            "flag": self.flag,
            "date": self.date.isoformat() if self.date else None,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class UnmatchedRow:
    text: str
    page: int
    bbox: tuple[float, float, float, float]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParsedReport:
    collection_date: date | None
    reported_date: date | None
    received_date: date | None
    lab_name: str | None
    patient_name: str | None
    patient_birth_date: date | None
    results: list[ParsedResult]
    unmatched: list[UnmatchedRow]
    pages: int
    sha256: str
    patient_sex: str | None = None
    ocr: bool = False  # read from page images by text recognition; every result needs review

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "collection_date": iso(self.collection_date),
            "reported_date": iso(self.reported_date),
            "received_date": iso(self.received_date),
            "lab_name": self.lab_name,
            "patient_name": self.patient_name,
            "patient_birth_date": iso(self.patient_birth_date),
            "patient_sex": self.patient_sex,
            "pages": self.pages,
            "sha256": self.sha256,
            "ocr": self.ocr,
            "results": [r.to_json() for r in self.results],
            "unmatched": [u.to_json() for u in self.unmatched],
        }
