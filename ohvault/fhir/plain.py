"""Plain (unencrypted) FHIR JSON and CSV: import from other apps, export after a warning.

Import reads a FHIR R4 Bundle JSON as other systems write it and returns its
records for review (`read_fhir_file`, resource by resource: what cannot be read
is listed with its path and reason); `store_fhir_import` checks the person
against the profile and stores the accepted records. Each record's id is derived
from its source (server + resource id, identifiers), so importing the same or a
newer file updates in place instead of adding copies; an observation already
stored from another source (same test, date and value) is skipped. Export writes
everything a plan covers, documents inline (base64), atomically.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ohvault.atomic import atomic_write_bytes
from ohvault.changes import Change, changes
from ohvault.errors import BadInput
from ohvault.fhir.mapping import to_bundle
from ohvault.fhir.plan import ExportPlan, record_date
from ohvault.fhir.reading import FhirContent, ImportKey, Skipped, derived_id, read_bundle
from ohvault.fhir.validate import FhirInvalid
from ohvault.importing import IdentityMismatch, person_mismatches
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Profile,
    Provenance,
    Record,
)
from ohvault.storage.codec import columns, from_row, quoted
from ohvault.vault import Vault

MAX_FHIR_FILE = 256 << 20

PLAINTEXT_WARNING = (
    "WARNING: this writes your health records UNENCRYPTED. Anyone who can read the file "
    "(other users, backups, cloud sync, a lost laptop) can read your records."
)


def read_fhir_file(path: Path) -> FhirContent:
    """Parse a FHIR Bundle JSON file resource by resource; nothing is stored.

    Only a file that is not a FHIR Bundle is refused whole; resources that cannot be
    read are listed in `content.problems` with their path and reason."""
    try:
        if path.stat().st_size > MAX_FHIR_FILE:
            raise BadInput("The FHIR file is larger than ohvault accepts (256 MiB).")
        raw = path.read_bytes()
    except OSError:
        raise BadInput("The FHIR file cannot be read.") from None
    if raw.lstrip()[:3] in (b"age", b"---") and b"age-encryption.org" in raw[:200]:
        raise FhirInvalid(
            "The file is age-encrypted, not a plain FHIR Bundle.",
            hint="An ohvault bundle is imported with `ohvault import-bundle FILE`.",
        )
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FhirInvalid("The file is not JSON, so not a FHIR Bundle.") from None
    return read_bundle(data, provenance=Provenance.FHIR)


class FhirIdentityMismatch(IdentityMismatch):
    """The FHIR file names someone other than the profile's person."""

    def __init__(self, reasons: list[str]) -> None:
        BadInput.__init__(
            self,
            "This file may belong to someone else: " + "; ".join(reasons) + ".",
            hint="Check the file and the profile. To import it anyway, confirm "
            "(--confirm-identity).",
        )
        self.reasons = reasons


def fhir_identity_mismatches(profile: Profile, content: FhirContent) -> list[str]:
    """Why the person in the file may not be this profile's (PHI-free), or an empty list."""
    if content.patient is None:
        return []
    return person_mismatches(
        profile, content.patient.name, content.patient.birth_date, where="in the file"
    )


@dataclass
class FhirImportOutcome:
    added: dict[str, int]
    duplicates: int
    skipped_resources: dict[str, int]  # resource types ohvault does not keep
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)  # resources not imported, and why
    notes: list[str] = field(default_factory=list)
    panels: int = 0
    identity_confirmed: bool = False

    @property
    def imported_before(self) -> bool:
        """Nothing new: every record was already in the vault as the file has it."""
        return not self.added and not self.updated and bool(self.unchanged or self.duplicates)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "skipped": [s.to_json() for s in self.skipped],
            "not_kept": self.skipped_resources,
            "skipped_resources": self.skipped_resources,
            "panels": self.panels,
            "notes": self.notes,
            "imported_before": self.imported_before,
            "identity_confirmed": self.identity_confirmed,
        }


_META_FIELDS = {
    "id",
    "profile_id",
    "created_at",
    "updated_at",
    "provenance",
    "source_id",
    "deleted",
}


def _same_content(a: Record, b: Record) -> bool:
    return all(
        getattr(a, f.name) == getattr(b, f.name)
        for f in dataclasses.fields(a)
        if f.name not in _META_FIELDS
    )


def _existing(vault: Vault, cls: type[Record], profile_id: str, record_id: str) -> Record | None:
    row = vault.db.execute(
        f"SELECT {quoted(columns(cls))} FROM {cls.TABLE} WHERE id = ? AND profile_id = ?",  # noqa: S608
        (record_id, profile_id),
    ).fetchone()
    return from_row(cls, row) if row else None


def _resolve_ids(vault: Vault, profile_id: str, content: FhirContent) -> dict[str, str]:
    """Temporary id -> stored id: the record this source resource became before, else a
    stable id derived from its import key (the same on every device)."""
    out: dict[str, str] = {}
    for temp, key in content.keys.items():
        found = None
        for k in key.keys:
            row = vault.db.execute(
                "SELECT record_id FROM fhir_import_keys WHERE profile_id = ? AND key = ?",
                (profile_id, k),
            ).fetchone()
            if row:
                found = str(row[0])
                break
        out[temp] = found or derived_id(profile_id, key.primary)
    return out


def _remember(vault: Vault, profile_id: str, key: ImportKey, record: Record, now: str) -> None:
    for k in key.keys:
        vault.db.execute(
            "INSERT OR REPLACE INTO fhir_import_keys (profile_id, key, record_table, record_id, "
            "resource_hash, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
            (profile_id, k, type(record).TABLE, record.id, key.resource_hash, now),
        )


def _known_hash(vault: Vault, profile_id: str, key: ImportKey) -> str | None:
    row = vault.db.execute(
        "SELECT resource_hash FROM fhir_import_keys WHERE profile_id = ? AND key = ?",
        (profile_id, key.primary),
    ).fetchone()
    return str(row[0]) if row else None


@changes(
    Change.OBSERVATION,
    Change.DIAGNOSTIC_REPORT,
    Change.DOCUMENT,
    Change.MEDICATION,
    Change.CONDITION,
    Change.ALLERGY,
    Change.IMMUNIZATION,
)
def store_fhir_import(
    vault: Vault,
    profile_id: str,
    content: FhirContent,
    accepted: Collection[str] | None = None,
    *,
    confirm_identity: bool = False,
) -> FhirImportOutcome:
    """Store the accepted records (all when `accepted` is None) in one transaction.

    A record imported before from the same source resource is updated in place when
    the resource changed and left alone when it did not; the outcome says which."""
    profile = vault.repo.profile(profile_id)
    reasons = fhir_identity_mismatches(profile, content)
    if reasons and not confirm_identity:
        raise FhirIdentityMismatch(reasons)
    outcome = FhirImportOutcome(
        {}, 0, dict(content.skipped), skipped=list(content.problems), notes=list(content.notes),
        panels=content.panels, identity_confirmed=bool(reasons),
    )  # fmt: skip
    ids = _resolve_ids(vault, profile_id, content)

    def new_id(old: str | None) -> str | None:
        return ids.get(old, old) if old else old

    def bump(bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    now = datetime.now(UTC)
    with vault.db.transaction():
        for original in content.records:
            if accepted is not None and original.id not in accepted:
                continue
            key = content.keys.get(original.id)
            record = dataclasses.replace(
                original, profile_id=profile_id, id=ids.get(original.id, original.id)
            )
            if isinstance(record, Observation):
                record.report_id = new_id(record.report_id)
                record.panel_id = new_id(record.panel_id)
            if isinstance(record, DiagnosticReport):
                record.document_id = new_id(record.document_id)
            kind = record.TYPE.value
            existing = _existing(vault, type(record), profile_id, record.id)
            if existing is not None:
                if (
                    existing.deleted
                    or (
                        key is not None and _known_hash(vault, profile_id, key) == key.resource_hash
                    )
                    or _same_content(existing, record)
                ):
                    # Unchanged at the source, or deleted here on purpose: left as it is.
                    bump(outcome.unchanged, kind)
                else:
                    record.created_at = existing.created_at
                    record.updated_at = now
                    vault.repo.upsert(record, action="import.fhir")
                    bump(outcome.updated, kind)
            elif (
                isinstance(record, Observation)
                and (record.value_num is not None or record.value_text is not None)
                and vault.repo.find_duplicate_observation(profile_id, record)
            ):
                outcome.duplicates += 1
            else:
                record.created_at = now
                vault.repo.add(record, audit=False)
                bump(outcome.added, kind)
            if key is not None:
                _remember(vault, profile_id, key, record, now.isoformat())
        for pending in content.documents:
            original = pending.record
            if (accepted is not None and original.id not in accepted) or pending.inline is None:
                continue  # a reference to a file elsewhere: listed as not fetched
            key = content.keys.get(original.id)
            doc = dataclasses.replace(
                original, profile_id=profile_id, id=ids.get(original.id, original.id)
            )
            if _existing(vault, Document, profile_id, doc.id) is not None:
                bump(outcome.unchanged, "document")
            elif vault.repo.find_document_by_hash(profile_id, doc.sha256):
                outcome.duplicates += 1
            else:
                vault.repo.add_document(doc, pending.inline)
                bump(outcome.added, "document")
            if key is not None:
                _remember(vault, profile_id, key, doc, now.isoformat())

        def total(d: dict[str, int]) -> int:
            return sum(d.values())

        vault.audit.append(
            "import.fhir",
            profile_id=profile_id,
            detail=" ".join(f"{k}={v}" for k, v in sorted(outcome.added.items()))
            + f" updated={total(outcome.updated)} unchanged={total(outcome.unchanged)}"
            + f" duplicates={outcome.duplicates} skipped={len(outcome.skipped)}"
            + f" identity_confirmed={bool(reasons)}",
        )
    return outcome


def fhir_json_bytes(vault: Vault, plan: ExportPlan) -> bytes:
    def attachment(doc: Document) -> dict[str, Any]:
        content = vault.repo.document_content(plan.profile.id, doc.id)
        return {
            "contentType": doc.media_type,
            "data": base64.b64encode(content).decode("ascii"),
            "size": doc.size,
            "title": doc.filename,
            "hash": base64.b64encode(hashlib.sha1(content).digest()).decode("ascii"),  # noqa: S324 - FHIR Attachment.hash is SHA-1 by definition
        }

    import uuid

    data = to_bundle(
        plan.profile,
        plan.records,
        attachment=attachment,
        bundle_id=str(uuid.uuid4()),
        timestamp=datetime.now(UTC),
    )
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def write_fhir_json(vault: Vault, plan: ExportPlan, path: Path) -> int:
    data = fhir_json_bytes(vault, plan)
    atomic_write_bytes(path, data)
    vault.audit.append(
        "export.fhir_plaintext", profile_id=plan.profile.id, detail=f"records={len(plan.records)}"
    )
    return len(data)


CSV_COLUMNS = [
    "type", "id", "date", "name", "value", "unit", "ref_low", "ref_high", "ref_text",
    "flag", "code", "status", "lab", "note",
]  # fmt: skip


def _csv_row(r: Record) -> dict[str, Any]:
    row: dict[str, Any] = {"type": r.TYPE.value, "id": r.id, "date": record_date(r)}
    if isinstance(r, Observation):
        row.update(
            name=r.analyte, value=r.display_value(), unit=r.unit, ref_low=r.ref_low,
            ref_high=r.ref_high, ref_text=r.ref_text, flag=r.flag, code=r.loinc,
            status=r.status, lab=r.performer, note=r.note,
        )  # fmt: skip
    elif isinstance(r, DiagnosticReport):
        row.update(name=r.title, status=r.status, lab=r.lab)
    elif isinstance(r, Document):
        row.update(name=r.filename, value=r.size, unit="bytes", note=r.description)
    elif isinstance(r, MedicationStatement):
        row.update(name=r.name, value=r.dosage, status=r.status, note=r.note)
    elif isinstance(r, Condition):
        row.update(name=r.name, code=r.code, status=r.clinical_status, note=r.note)
    elif isinstance(r, AllergyIntolerance):
        row.update(name=r.substance, value=r.reaction, status=r.criticality, note=r.note)
    elif isinstance(r, Immunization):
        row.update(name=r.vaccine, code=r.lot_number, lab=r.performer, note=r.note)
    return row


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_safe(value: Any) -> Any:
    """A cell value that a spreadsheet shows as text and never evaluates.

    Text starting with =, +, -, @, tab or carriage return gets a leading single quote, as
    OWASP recommends (the quote shows in the cell; the formula never runs). Numbers stay
    numbers: values the model holds as numbers (ref_low, ref_high, sizes) are written as they
    are, and text that is nothing but a number ("-1.5", "+3", "-2e-3") is left alone, so a
    negative result is still a number to the spreadsheet. Anything else starting with a trigger
    ("-1+2", "=HYPERLINK(...)", "@SUM(A1)") is neutralised. Embedded quotes and separators are
    quoted by the csv writer.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def write_csv(vault: Vault, plan: ExportPlan, path: Path) -> int:
    """Every record of the plan as one CSV row, each cell made safe for spreadsheets."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in plan.records:
        writer.writerow({k: csv_safe(v) for k, v in _csv_row(r).items()})
    data = buf.getvalue().encode("utf-8")
    atomic_write_bytes(path, data)
    vault.audit.append(
        "export.csv_plaintext", profile_id=plan.profile.id, detail=f"records={len(plan.records)}"
    )
    return len(data)
