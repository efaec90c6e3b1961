"""Records ↔ FHIR R4 resources.

Export writes each record as one resource whose `id` is the record id and whose
`meta.lastUpdated` is the record's `updated_at`, so that a receiver can merge by
id and keep the newer version. References use `urn:uuid:` full URLs (our ids
are UUIDs). Import accepts the same shapes, plus the common variants other
personal health record apps write (`Patient/123` references, partial dates,
valueCodeableConcept, comparators).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from ohvault.errors import BadInput
from ohvault.fhir.codes import (
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    ICD10,
    INTERPRETATION,
    LABORATORY,
    LOINC,
    OBS_CATEGORY,
    SHA256_SYSTEM,
    SNOMED,
    UCUM,
    VITAL_SIGNS,
    loinc_display,
    ucum_code,
)
from ohvault.fhir.reading import FhirContent, PendingDocument, Skipped, from_bundle, read_bundle
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
)

__all__ = [
    "EXPORTED_CLASSES",
    "FhirContent",
    "PendingDocument",
    "Skipped",
    "from_bundle",
    "read_bundle",
    "record_resource",
    "to_bundle",
]

FLAGS = {"N", "H", "L", "HH", "LL", "A"}
_CENSORED = re.compile(r"^(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)$")
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
# FHIR R4 MedicationStatement.status values; anything else we stored is "unknown" there.
_MED_STATUSES = {
    "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
    "not-taken",
}  # fmt: skip
_CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}

# The record classes a bundle carries; notes stay private to the vault.
EXPORTED_CLASSES: tuple[type[Record], ...] = (
    Observation,
    DiagnosticReport,
    Document,
    MedicationStatement,
    Condition,
    AllergyIntolerance,
    Immunization,
)

AttachmentFn = Callable[[Document], dict[str, Any]]


def _urn(record_id: str) -> str:
    return f"urn:uuid:{record_id}"


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values: FHIR forbids empty strings, arrays and objects."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, list):
            value = [_clean(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, "", {}, [])]
        if value not in (None, "", {}, []):
            out[key] = value
    return out


def _quantity(value: float | None, unit: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    q: dict[str, Any] = {"value": value}
    if unit:
        # A unit that is not valid UCUM goes as text only, never as a UCUM code.
        code = ucum_code(unit)
        q.update(unit=unit, system=UCUM, code=code) if code else q.update(unit=unit)
    return q


def _codeable(codings: list[dict[str, str]], text: str | None) -> dict[str, Any]:
    return {"coding": [dict(c) for c in codings], "text": text}


def _obs_codings(obs: Observation) -> list[dict[str, str]]:
    out = [dict(c) for c in obs.codings]
    if obs.loinc and not any(c.get("system") == LOINC and c.get("code") == obs.loinc for c in out):
        out.insert(0, {"system": LOINC, "code": obs.loinc})
    for c in out:
        if c.get("system") == LOINC and c.get("code") and not c.get("display"):
            c["display"] = loinc_display(c["code"], obs.analyte)
    return out


def _obs_category(obs: Observation) -> str:
    if obs.category_code:
        return obs.category_code
    from ohvault.vitals import VITAL_LOINCS

    return VITAL_SIGNS if obs.loinc in VITAL_LOINCS else LABORATORY


def _component(c: dict[str, Any]) -> dict[str, Any]:
    codings = [dict(x) for x in c.get("codings") or []]
    if not codings and c.get("code"):
        codings = [{"system": LOINC, "code": str(c["code"])}]
    out: dict[str, Any] = {"code": {"coding": codings, "text": c.get("name")}}
    if isinstance(c.get("value"), int | float):
        out["valueQuantity"] = _quantity(float(c["value"]), c.get("unit"))
    elif c.get("value_text"):
        out["valueString"] = str(c["value_text"])
    else:
        out["dataAbsentReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "unknown",
                }
            ],
            "text": c.get("absent"),
        }
    return out


def _value_quantity(obs: Observation) -> dict[str, Any] | None:
    # A censored result such as "<0.5" is a Quantity with a comparator, so it keeps its unit.
    censored = _CENSORED.match(obs.value_text or "") if obs.value_num is None else None
    if censored:
        q = _quantity(float(censored.group(2)), obs.unit)
        assert q is not None
        return {**q, "comparator": censored.group(1)}
    return _quantity(obs.value_num, obs.unit)


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _notes(text: str | None) -> list[dict[str, str]] | None:
    return [{"text": text}] if text else None


# --- export ----------------------------------------------------------------------------


def patient_resource(profile: Profile) -> dict[str, Any]:
    return _clean(
        {
            "resourceType": "Patient",
            "id": profile.id,
            "meta": {"lastUpdated": _ts(profile.updated_at)},
            "name": [{"text": profile.name}],
            "birthDate": _d(profile.birth_date),
            "gender": profile.sex,
        }
    )


def record_resource(
    record: Record, subject: dict[str, str], attachment: AttachmentFn, report_of: dict[str, str]
) -> dict[str, Any]:
    base: dict[str, Any] = {"id": record.id, "meta": {"lastUpdated": _ts(record.updated_at)}}
    res: dict[str, Any]
    if isinstance(record, Observation):
        category = [
            {"coding": [{"system": OBS_CATEGORY, "code": _obs_category(record)}]},
            {"text": record.category},
        ]
        ref = {
            "low": _quantity(record.ref_low, record.unit),
            "high": _quantity(record.ref_high, record.unit),
            "text": record.ref_text,
        }
        effective = (
            record.effective_at.isoformat()
            if record.effective_at is not None
            else record.effective.isoformat()
        )
        res = {
            "resourceType": "Observation",
            "status": record.status,
            "category": category,
            "code": _codeable(_obs_codings(record), record.analyte),
            "subject": subject,
            "effectiveDateTime": effective,
            "performer": [{"display": record.performer}] if record.performer else None,
            "valueQuantity": _value_quantity(record),
            "valueString": record.value_text
            if record.value_num is None and not _CENSORED.match(record.value_text or "")
            else None,
            "interpretation": [{"coding": [{"system": INTERPRETATION, "code": record.flag}]}]
            if record.flag in FLAGS
            else None,
            "referenceRange": [ref],
            "component": [_component(c) for c in record.components] or None,
            "note": _notes(record.note),
        }
    elif isinstance(record, DiagnosticReport):
        res = {
            "resourceType": "DiagnosticReport",
            "status": record.status,
            "code": {"text": record.title},
            "subject": subject,
            "effectiveDateTime": _d(record.effective),
            "issued": f"{record.issued.isoformat()}T00:00:00Z" if record.issued else None,
            "performer": [{"display": record.lab}] if record.lab else None,
            "result": [
                {"reference": _urn(oid)} for oid, rid in report_of.items() if rid == record.id
            ],
        }
    elif isinstance(record, Document):
        res = {
            "resourceType": "DocumentReference",
            "status": "current",
            "identifier": [{"system": SHA256_SYSTEM, "value": record.sha256}],
            "subject": subject,
            "date": _ts(record.created_at),
            "description": record.description,
            "content": [{"attachment": attachment(record)}],
            "context": {"related": [{"reference": _urn(report_of[record.id])}]}
            if record.id in report_of
            else None,
        }
    elif isinstance(record, MedicationStatement):
        res = {
            "resourceType": "MedicationStatement",
            "status": record.status if record.status in _MED_STATUSES else "unknown",
            "medicationCodeableConcept": _codeable(record.codings, record.name),
            "subject": subject,
            "effectivePeriod": {"start": _d(record.start), "end": _d(record.end)},
            "dosage": [{"text": record.dosage}] if record.dosage else None,
            "note": _notes(record.note),
        }
    elif isinstance(record, Condition):
        codings = [dict(c) for c in record.codings]
        if not codings and record.code:
            code_sys = ICD10 if _ICD10.match(record.code) else SNOMED
            codings = [{"system": code_sys, "code": record.code}]
        if not codings and record.no_known:
            codings = [{"system": SNOMED, "code": "160245001", "display": record.name}]
        # FHIR: no clinical status on a record entered in error; none when not known.
        clinical = record.clinical_status if record.clinical_status in _CONDITION_CLINICAL else None
        res = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": clinical}]}
            if clinical
            else None,
            "verificationStatus": {
                "coding": [{"system": CONDITION_VERIFICATION, "code": record.verification_status}]
            }
            if record.verification_status
            else None,
            "code": _codeable(codings, record.name),
            "subject": subject,
            "onsetDateTime": _d(record.onset),
            "abatementDateTime": _d(record.abatement),
            "note": _notes(record.note),
        }
    elif isinstance(record, AllergyIntolerance):
        codings = [dict(c) for c in record.codings]
        if not codings and record.no_known:
            codings = [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}]
        clinical = record.clinical_status or (
            "inactive" if record.verification_status == "refuted" else "active"
        )
        res = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": clinical}]},
            "verificationStatus": {
                "coding": [{"system": ALLERGY_VERIFICATION, "code": record.verification_status}]
            }
            if record.verification_status
            else None,
            "code": _codeable(codings, record.substance),
            "patient": subject,
            "criticality": record.criticality,
            "recordedDate": _d(record.recorded),
            "reaction": [{"manifestation": [{"text": record.reaction}]}]
            if record.reaction
            else None,
            "note": _notes(record.note),
        }
    elif isinstance(record, Immunization):
        not_done = record.status == "not-done"
        res = {
            "resourceType": "Immunization",
            "status": "not-done" if not_done else "completed",
            "statusReason": {"text": record.status_reason}
            if not_done and record.status_reason
            else None,
            "vaccineCode": _codeable(record.codings, record.vaccine),
            "patient": subject,
            "occurrenceDateTime": record.occurrence.isoformat(),
            "lotNumber": record.lot_number,
            "performer": [{"actor": {"display": record.performer}}] if record.performer else None,
            "note": _notes(record.note),
        }
    else:
        raise BadInput("This record type is not shared in FHIR.")
    return _clean({**res, **base} | {"resourceType": res["resourceType"]})


def to_bundle(
    profile: Profile,
    records: Iterable[Record],
    *,
    attachment: AttachmentFn,
    bundle_id: str,
    timestamp: datetime,
) -> dict[str, Any]:
    """A FHIR R4 `Bundle` (type collection): the Patient, then one entry per record."""
    records = [r for r in records if not r.deleted]
    # Observation → report, and document → report, from the report side of the link.
    report_of: dict[str, str] = {}
    for r in records:
        if isinstance(r, Observation) and r.report_id:
            report_of[r.id] = r.report_id
        if isinstance(r, DiagnosticReport) and r.document_id:
            report_of[r.document_id] = r.id
    subject = {"reference": _urn(profile.id)}
    entries = [{"fullUrl": _urn(profile.id), "resource": patient_resource(profile)}]
    for r in records:
        entries.append(
            {"fullUrl": _urn(r.id), "resource": record_resource(r, subject, attachment, report_of)}
        )
    bundle = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": _ts(timestamp)},
        "type": "collection",
        "timestamp": _ts(timestamp),
        "entry": entries,
    }
    # Every export is checked with fhir.resources: a receiver (our own importer included)
    # refuses a bundle that does not validate, so an invalid one is never written.
    from ohvault.fhir.validate import FhirInvalid, validate_bundle

    try:
        validate_bundle(bundle)
    except FhirInvalid as exc:
        raise BadInput(
            f"The export would not be valid FHIR: {exc.message}",
            hint="Nothing was written. Please report this as a bug.",
        ) from None
    return bundle
