"""Plain (unencrypted) FHIR JSON and CSV: import from other apps, export after a warning.

Import reads a FHIR R4 Bundle JSON as other personal health record apps write it
and returns its records for review (`read_fhir_file`); `store_fhir_import`
stores the accepted ones. Records get fresh ids and `Provenance.FHIR`; an
observation already stored (same analyte, date and value) is skipped. Export
writes everything a plan covers, documents inline (base64), atomically.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ohvault.atomic import atomic_write_bytes
from ohvault.errors import BadInput
from ohvault.fhir.mapping import FhirContent, from_bundle, to_bundle
from ohvault.fhir.validate import FhirInvalid, validate_bundle
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Provenance,
    Record,
)
from ohvault.vault import Vault

if TYPE_CHECKING:
    from ohvault.bundles.export import ExportPlan

MAX_FHIR_FILE = 256 << 20

PLAINTEXT_WARNING = (
    "WARNING: this writes your health records UNENCRYPTED. Anyone who can read the file "
    "(other users, backups, cloud sync, a lost laptop) can read your records."
)


def read_fhir_file(path: Path) -> FhirContent:
    """Parse and validate a FHIR Bundle JSON file; nothing is stored."""
    try:
        if path.stat().st_size > MAX_FHIR_FILE:
            raise BadInput("The FHIR file is larger than ohvault accepts (256 MiB).")
        raw = path.read_bytes()
    except OSError:
        raise BadInput("The FHIR file cannot be read.") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FhirInvalid("The file is not JSON, so not a FHIR Bundle.") from None
    validate_bundle(data)
    return from_bundle(data, keep_ids=False, provenance=Provenance.FHIR)


@dataclass
class FhirImportOutcome:
    added: dict[str, int]
    duplicates: int
    skipped_resources: dict[str, int]


def store_fhir_import(
    vault: Vault,
    profile_id: str,
    content: FhirContent,
    accepted: Collection[str] | None = None,
) -> FhirImportOutcome:
    """Store the accepted records (all when `accepted` is None) in one transaction."""
    vault.repo.profile(profile_id)
    added: dict[str, int] = {}
    duplicates = 0
    with vault.db.transaction():
        for record in content.records:
            if accepted is not None and record.id not in accepted:
                continue
            record.profile_id = profile_id
            if isinstance(record, Observation) and vault.repo.find_duplicate_observation(
                profile_id, record
            ):
                duplicates += 1
                continue
            vault.repo.add(record)
            added[record.TYPE.value] = added.get(record.TYPE.value, 0) + 1
        for pending in content.documents:
            doc = pending.record
            if (accepted is not None and doc.id not in accepted) or pending.inline is None:
                continue  # a reference to a file elsewhere: nothing to keep
            doc.profile_id = profile_id
            if vault.repo.find_document_by_hash(profile_id, doc.sha256):
                duplicates += 1
                continue
            vault.repo.add_document(doc, pending.inline)
            added["document"] = added.get("document", 0) + 1
        vault.audit.append(
            "import.fhir",
            profile_id=profile_id,
            detail=" ".join(f"{k}={v}" for k, v in sorted(added.items()))
            + f" duplicates={duplicates}",
        )
    return FhirImportOutcome(added, duplicates, dict(content.skipped))


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
    from ohvault.bundles.export import record_date

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
