"""What an export covers: the records of one profile, by type and clinical date range.

`plan_export` gathers the records (and deletions) and returns an `ExportPlan` whose summary the
user confirms; both the encrypted bundle (`bundles/export.py`) and the plain FHIR/CSV export
(`fhir/plain.py`) write a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ohvault.errors import BadInput
from ohvault.fhir.mapping import EXPORTED_CLASSES
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Profile,
    Record,
    RecordType,
)

if TYPE_CHECKING:
    from ohvault.vault import Vault

EXPORTABLE_TYPES = [cls.TYPE for cls in EXPORTED_CLASSES]


def record_date(record: Record) -> date | None:
    """The clinical date a --since/--until range applies to."""
    if isinstance(record, Observation | DiagnosticReport):
        return record.effective
    if isinstance(record, Document):
        return record.created_at.date()
    if isinstance(record, MedicationStatement):
        return record.end or record.start
    if isinstance(record, Condition):
        return record.abatement or record.onset
    if isinstance(record, AllergyIntolerance):
        return record.recorded
    if isinstance(record, Immunization):
        return record.occurrence
    return None


def parse_types(text: str | None) -> list[RecordType]:
    if not text:
        return list(EXPORTABLE_TYPES)
    out: list[RecordType] = []
    for part in text.split(","):
        name = part.strip().lower()
        # Accept plurals ("observations") as well as the record type names.
        matches = [t for t in EXPORTABLE_TYPES if name in (t.value, t.value + "s")]
        if not matches:
            raise BadInput(
                f"Unknown record type {part.strip()!r}.",
                hint="Choose from: " + ", ".join(t.value for t in EXPORTABLE_TYPES),
            )
        out.extend(m for m in matches if m not in out)
    return out


@dataclass
class ExportPlan:
    profile: Profile
    types: list[RecordType]
    since: date | None
    until: date | None
    records: list[Record]
    tombstones: list[Record] = field(default_factory=list)

    @property
    def documents(self) -> list[Document]:
        return [r for r in self.records if isinstance(r, Document)]

    def counts(self) -> dict[str, int]:
        out = {t.value: 0 for t in self.types}
        for r in self.records:
            out[r.TYPE.value] += 1
        return out

    def summary(self) -> dict[str, Any]:
        """What will be shared (counts and sizes, no values) for the confirmation screen."""
        return {
            "profile_id": self.profile.id,
            "types": [t.value for t in self.types],
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "counts": self.counts(),
            "deletions": len(self.tombstones),
            "document_bytes": sum(d.size for d in self.documents),
        }


def plan_export(
    vault: Vault,
    profile_id: str,
    *,
    types: Sequence[RecordType] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> ExportPlan:
    wanted = list(types or EXPORTABLE_TYPES)
    profile = vault.repo.profile(profile_id)
    records: list[Record] = []
    tombstones: list[Record] = []
    for cls in EXPORTED_CLASSES:
        if cls.TYPE not in wanted:
            continue
        for r in vault.repo.records(cls, profile_id, include_deleted=True):
            if r.deleted:
                tombstones.append(r)
                continue
            when = record_date(r)
            if when is not None and ((since and when < since) or (until and when > until)):
                continue
            records.append(r)
    return ExportPlan(profile, wanted, since, until, records, tombstones)
