"""Record types, one per FHIR R4 resource we keep, so bundles map one-to-one.

Every record carries a UUID, created/updated timestamps, a provenance and a
tombstone flag: sync and bundle imports merge records by id and must see
deletions. Every record belongs to exactly one profile (FHIR Patient).

The storage layer maps each dataclass field to a column of the same name, so
adding a field means adding it here and in a migration; nothing else.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

# A code from a terminology, as FHIR's Coding: {"system": ..., "code": ..., "display": ...}.
Coding = dict[str, str]


def new_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the end of the id index
    instead of at random pages, which keeps bulk imports fast; 74 random bits keep it unique."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Provenance(StrEnum):
    MANUAL = "manual"
    LAB_PDF = "lab_pdf"
    FHIR = "fhir"
    BUNDLE = "bundle"
    SYNC = "sync"


class RecordType(StrEnum):
    OBSERVATION = "observation"
    DIAGNOSTIC_REPORT = "diagnostic_report"
    DOCUMENT = "document"
    MEDICATION = "medication"
    CONDITION = "condition"
    ALLERGY = "allergy"
    IMMUNIZATION = "immunization"
    NOTE = "note"


@dataclass(kw_only=True)
class Profile:
    """A person whose records the vault keeps (FHIR Patient)."""

    id: str = field(default_factory=new_id)
    name: str
    birth_date: date | None = None
    sex: str | None = None  # FHIR administrative gender: male | female | other | unknown
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(kw_only=True)
class Record:
    """Fields every stored record has."""

    TYPE: ClassVar[RecordType]
    TABLE: ClassVar[str]

    id: str = field(default_factory=new_id)
    profile_id: str
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    provenance: Provenance = Provenance.MANUAL
    source_id: str | None = None  # bundle id, document id or device that brought it in
    deleted: bool = False


def is_out_of_range(flag: str | None) -> bool:
    """A result flag that says "outside the reference range": any flag but N (normal)."""
    return bool(flag) and flag != "N"


@dataclass(kw_only=True)
class Observation(Record):
    """One lab result or measurement (FHIR Observation)."""

    TYPE = RecordType.OBSERVATION
    TABLE = "observations"

    analyte: str  # display name (catalog preferred name where known)
    loinc: str | None = None
    value_num: float | None = None
    value_text: str | None = None  # coded/qualitative value or censored text such as "<0.5"
    unit: str | None = None  # UCUM
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str | None = None
    flag: str | None = None  # FHIR interpretation: N, H, L, HH, LL, A
    effective: date
    performer: str | None = None  # the laboratory
    status: str = "final"
    category: str | None = None
    report_id: str | None = None
    note: str | None = None
    printed_name: str | None = None  # the test name as the laboratory printed it
    # The value in the analyte's canonical unit (catalog analytes only), computed once on import.
    value_canonical: float | None = None
    unit_canonical: str | None = None
    # v7: every coding of the test (LOINC drives `loinc`; others are kept as sent), the
    # FHIR category code (vital-signs, laboratory, ...), the time of day when known,
    # components (blood pressure: systolic and diastolic in one reading), and the panel
    # this result was grouped under.
    codings: list[Coding] = field(default_factory=list)
    category_code: str | None = None
    effective_at: datetime | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    panel_id: str | None = None

    def display_value(self) -> str:
        if self.value_text is not None:
            return self.value_text
        if self.value_num is None:
            # A reading made of parts (blood pressure 120/80) shows its parts in order.
            parts = [c.get("value") for c in self.components]
            if any(isinstance(v, int | float) for v in parts):
                # A part the sender marked absent shows as a dash: 109/–.
                return "/".join(f"{v:g}" if isinstance(v, int | float) else "–" for v in parts)
            return ""
        return f"{self.value_num:g}"


@dataclass(kw_only=True)
class DiagnosticReport(Record):
    """A lab report grouping the observations read from one document."""

    TYPE = RecordType.DIAGNOSTIC_REPORT
    TABLE = "diagnostic_reports"

    title: str
    lab: str | None = None
    effective: date | None = None
    issued: date | None = None
    document_id: str | None = None
    status: str = "final"


@dataclass(kw_only=True)
class Document(Record):
    """An original file (FHIR DocumentReference). The bytes live in an encrypted blob table."""

    TYPE = RecordType.DOCUMENT
    TABLE = "documents"

    filename: str
    media_type: str = "application/pdf"
    sha256: str
    size: int
    description: str | None = None
    title: str | None = None
    kind: str | None = None  # one of DOCUMENT_KINDS
    document_date: date | None = None  # when it was written, not when it was stored


@dataclass(kw_only=True)
class MedicationStatement(Record):
    TYPE = RecordType.MEDICATION
    TABLE = "medications"

    name: str
    dosage: str | None = None
    status: str = "active"  # active | completed | stopped | on-hold | intended | not-taken
    start: date | None = None
    end: date | None = None
    note: str | None = None
    codings: list[Coding] = field(default_factory=list)  # RxNorm, SNOMED, ... as sent
    no_known: bool = False  # a "no known medications" statement, not a medication


NO_KNOWN_ALLERGIES = "No known allergies"
NO_KNOWN_MEDICATIONS = "No known medications"
NO_KNOWN_PROBLEMS = "No known problems"


@dataclass(kw_only=True)
class Condition(Record):
    TYPE = RecordType.CONDITION
    TABLE = "conditions"

    name: str
    code: str | None = None  # SNOMED CT or ICD-10 where known
    clinical_status: str = (
        "active"  # active | recurrence | relapse | inactive | remission | resolved
    )
    onset: date | None = None
    abatement: date | None = None
    note: str | None = None
    verification_status: str | None = None  # unconfirmed | provisional | confirmed | refuted ...
    codings: list[Coding] = field(default_factory=list)
    no_known: bool = False  # a "no known problems" statement


@dataclass(kw_only=True)
class AllergyIntolerance(Record):
    TYPE = RecordType.ALLERGY
    TABLE = "allergies"

    substance: str
    reaction: str | None = None
    criticality: str | None = None  # low | high | unable-to-assess
    recorded: date | None = None
    note: str | None = None
    clinical_status: str | None = None  # active | inactive | resolved
    verification_status: str | None = None  # unconfirmed | presumed | confirmed | refuted
    codings: list[Coding] = field(default_factory=list)
    no_known: bool = False  # a "no known (food, drug, ...) allergies" statement


@dataclass(kw_only=True)
class Immunization(Record):
    TYPE = RecordType.IMMUNIZATION
    TABLE = "immunizations"

    vaccine: str
    occurrence: date
    lot_number: str | None = None
    performer: str | None = None
    note: str | None = None
    status: str = "completed"  # completed | not-done (kept as "not given", with its reason)
    status_reason: str | None = None
    codings: list[Coding] = field(default_factory=list)  # CVX, NDC, SNOMED, ... as sent


@dataclass(kw_only=True)
class Note(Record):
    TYPE = RecordType.NOTE
    TABLE = "notes"

    text: str
    noted: date | None = None


RECORD_CLASSES: dict[RecordType, type[Record]] = {
    cls.TYPE: cls
    for cls in (
        Observation,
        DiagnosticReport,
        Document,
        MedicationStatement,
        Condition,
        AllergyIntolerance,
        Immunization,
        Note,
    )
}
