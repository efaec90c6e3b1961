"""Records ↔ FHIR R4 resources.

Export writes each record as one resource whose `id` is the record id and whose
`meta.lastUpdated` is the record's `updated_at`, so that a receiver can merge by
id and keep the newer version. References use `urn:uuid:` full URLs (our ids
are UUIDs). Import accepts the same shapes, plus the common variants other
personal health record apps write (`Patient/123` references, partial dates,
valueCodeableConcept, comparators).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ohvault.errors import BadInput
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

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SHA256_SYSTEM = "urn:ohvault:sha256"
FLAGS = {"N", "H", "L", "HH", "LL", "A"}
_CENSORED = re.compile(r"^(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)$")
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

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
        q.update(unit=unit, system=UCUM, code=unit)
    return q


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
        coding = [{"system": LOINC, "code": record.loinc, "display": record.analyte}]
        category = [
            {"coding": [{"system": OBS_CATEGORY, "code": "laboratory"}]},
            {"text": record.category},
        ]
        ref = {
            "low": _quantity(record.ref_low, record.unit),
            "high": _quantity(record.ref_high, record.unit),
            "text": record.ref_text,
        }
        res = {
            "resourceType": "Observation",
            "status": record.status,
            "category": category,
            "code": {"coding": coding if record.loinc else [], "text": record.analyte},
            "subject": subject,
            "effectiveDateTime": record.effective.isoformat(),
            "performer": [{"display": record.performer}] if record.performer else None,
            "valueQuantity": _value_quantity(record),
            "valueString": record.value_text
            if record.value_num is None and not _CENSORED.match(record.value_text or "")
            else None,
            "interpretation": [{"coding": [{"system": INTERPRETATION, "code": record.flag}]}]
            if record.flag in FLAGS
            else None,
            "referenceRange": [ref],
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
            "status": record.status,
            "medicationCodeableConcept": {"text": record.name},
            "subject": subject,
            "effectivePeriod": {"start": _d(record.start), "end": _d(record.end)},
            "dosage": [{"text": record.dosage}] if record.dosage else None,
            "note": _notes(record.note),
        }
    elif isinstance(record, Condition):
        code_sys = ICD10 if record.code and _ICD10.match(record.code) else SNOMED
        res = {
            "resourceType": "Condition",
            "clinicalStatus": {
                "coding": [{"system": CONDITION_CLINICAL, "code": record.clinical_status}]
            },
            "code": {
                "coding": [{"system": code_sys, "code": record.code}] if record.code else [],
                "text": record.name,
            },
            "subject": subject,
            "onsetDateTime": _d(record.onset),
            "abatementDateTime": _d(record.abatement),
            "note": _notes(record.note),
        }
    elif isinstance(record, AllergyIntolerance):
        res = {
            "resourceType": "AllergyIntolerance",
            "code": {"text": record.substance},
            "patient": subject,
            "criticality": record.criticality,
            "recordedDate": _d(record.recorded),
            "reaction": [{"manifestation": [{"text": record.reaction}]}]
            if record.reaction
            else None,
            "note": _notes(record.note),
        }
    elif isinstance(record, Immunization):
        res = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"text": record.vaccine},
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
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": _ts(timestamp)},
        "type": "collection",
        "timestamp": _ts(timestamp),
        "entry": entries,
    }


# --- import -----------------------------------------------------------------------------


@dataclass
class PendingDocument:
    record: Document
    inline: bytes | None = None  # from attachment.data (plain FHIR)
    url: str | None = None  # from attachment.url (bundle entry path)


@dataclass
class FhirContent:
    """What a FHIR Bundle holds, as vault records (profile_id is a placeholder until stored)."""

    patient: Profile | None
    records: list[Record] = field(default_factory=list)
    documents: list[PendingDocument] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # resource types we do not keep

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in [*self.records, *(d.record for d in self.documents)]:
            out[r.TYPE.value] = out.get(r.TYPE.value, 0) + 1
        return out


def _parse_date(text: Any) -> date | None:
    if not isinstance(text, str) or not text:
        return None
    part = text[:10]
    try:
        if len(part) == 4:
            return date(int(part), 1, 1)
        if len(part) == 7:
            return date(int(part[:4]), int(part[5:7]), 1)
        return date.fromisoformat(part)
    except ValueError:
        raise BadInput("A FHIR date is malformed.") from None


def _parse_ts(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    return None


def _code(concept: Any, systems: tuple[str, ...]) -> str | None:
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if coding.get("system") in systems and coding.get("code"):
            return str(coding["code"])
    return None


def _first_note(res: dict[str, Any]) -> str | None:
    notes = [n.get("text") for n in res.get("note") or [] if n.get("text")]
    return "\n".join(notes) if notes else None


def _qty(q: Any) -> tuple[float | None, str | None, str | None]:
    """(value, UCUM unit, comparator)."""
    if not isinstance(q, dict) or q.get("value") is None:
        return None, None, None
    unit = q.get("code") if q.get("system") == UCUM and q.get("code") else q.get("unit")
    return float(q["value"]), unit, q.get("comparator")


def _observation(res: dict[str, Any], base: dict[str, Any]) -> Observation:
    code = res.get("code") or {}
    value_num, unit, comparator = _qty(res.get("valueQuantity"))
    value_text = None
    if comparator and value_num is not None:
        value_text, value_num = f"{comparator}{_num(value_num)}", None
    elif res.get("valueString") is not None:
        value_text = str(res["valueString"])
    elif res.get("valueCodeableConcept"):
        value_text = _text(res["valueCodeableConcept"])
    elif res.get("valueBoolean") is not None:
        value_text = "true" if res["valueBoolean"] else "false"
    elif res.get("valueInteger") is not None:
        value_num = float(res["valueInteger"])
    ref = (res.get("referenceRange") or [{}])[0]
    ref_low, low_unit, _ = _qty(ref.get("low"))
    ref_high, high_unit, _ = _qty(ref.get("high"))
    flag = None
    for interp in res.get("interpretation") or []:
        flag = _code(interp, (INTERPRETATION,)) or flag
    category = None
    for cat in res.get("category") or []:
        if not any(c.get("system") == OBS_CATEGORY for c in cat.get("coding") or []):
            category = cat.get("text") or category
    effective = _parse_date(res.get("effectiveDateTime")) or _parse_date(
        (res.get("effectivePeriod") or {}).get("start")
    )
    if effective is None:
        effective = _parse_date(res.get("issued"))
    if effective is None:
        raise BadInput("An Observation has no date (effectiveDateTime); nothing was imported.")
    performers = [p.get("display") for p in res.get("performer") or [] if p.get("display")]
    return Observation(
        **base,
        analyte=_text(code) or "Unnamed observation",
        loinc=_code(code, (LOINC,)),
        value_num=value_num,
        value_text=value_text,
        unit=unit or low_unit or high_unit,
        ref_low=ref_low,
        ref_high=ref_high,
        ref_text=ref.get("text"),
        flag=flag if flag in FLAGS else None,
        effective=effective,
        performer=performers[0] if performers else None,
        status=res.get("status", "final"),
        category=category,
        note=_first_note(res),
    )


def from_bundle(data: dict[str, Any], *, keep_ids: bool, provenance: Provenance) -> FhirContent:
    """Records from a validated FHIR Bundle. `keep_ids`: use resource ids as record ids (bundles)."""
    import uuid

    entries = [e for e in data.get("entry") or [] if isinstance(e.get("resource"), dict)]
    # Resolve references written as fullUrl, "Type/id" or "urn:uuid:id" to local record ids.
    local: dict[str, str] = {}
    for e in entries:
        res = e["resource"]
        rid = res.get("id")
        if keep_ids:
            try:
                new = str(uuid.UUID(str(rid)))
            except ValueError:
                raise BadInput(
                    "A bundle resource id is not a UUID; nothing was imported."
                ) from None
        else:
            new = str(uuid.uuid4())
        for key in (e.get("fullUrl"), f"{res['resourceType']}/{rid}", f"urn:uuid:{rid}"):
            if key:
                local[key] = new
        e["_local"] = new

    def ref(obj: Any) -> str | None:
        if isinstance(obj, dict) and obj.get("reference"):
            return local.get(str(obj["reference"]))
        return None

    patients = [e for e in entries if e["resource"]["resourceType"] == "Patient"]
    if len(patients) > 1:
        raise BadInput("The FHIR Bundle holds more than one Patient; import one person at a time.")
    patient = None
    if patients:
        p = patients[0]["resource"]
        names = p.get("name") or [{}]
        name = (
            names[0].get("text")
            or " ".join([*(names[0].get("given") or []), names[0].get("family") or ""]).strip()
        )
        patient = Profile(
            id=patients[0]["_local"],
            name=name or "Unnamed patient",
            birth_date=_parse_date(p.get("birthDate")),
            sex=p.get("gender"),
        )
    content = FhirContent(patient=patient)
    report_of_obs: dict[str, str] = {}
    report_of_doc: dict[str, str] = {}
    now = datetime.now(UTC)
    for e in entries:
        res = e["resource"]
        kind = res["resourceType"]
        updated = _parse_ts((res.get("meta") or {}).get("lastUpdated")) or now
        base: dict[str, Any] = {
            "id": e["_local"],
            "profile_id": patient.id if patient else "",
            "updated_at": updated,
            "provenance": provenance,
        }
        if kind == "Patient":
            continue
        if kind == "Observation":
            content.records.append(_observation(res, base))
        elif kind == "DiagnosticReport":
            for r in res.get("result") or []:
                target = ref(r)
                if target:
                    report_of_obs[target] = e["_local"]
            performers = [p.get("display") for p in res.get("performer") or [] if p.get("display")]
            content.records.append(
                DiagnosticReport(
                    **base,
                    title=_text(res.get("code")) or "Report",
                    lab=performers[0] if performers else None,
                    effective=_parse_date(res.get("effectiveDateTime")),
                    issued=_parse_date(res.get("issued")),
                    status=res.get("status", "final"),
                )
            )
        elif kind == "DocumentReference":
            content.documents.append(_document(res, base))
            for related in (res.get("context") or {}).get("related") or []:
                target = ref(related)
                if target:
                    report_of_doc[target] = e["_local"]
        elif kind == "MedicationStatement":
            period = res.get("effectivePeriod") or {}
            dosage = [d.get("text") for d in res.get("dosage") or [] if d.get("text")]
            content.records.append(
                MedicationStatement(
                    **base,
                    name=_text(res.get("medicationCodeableConcept")) or "Unnamed medication",
                    dosage=dosage[0] if dosage else None,
                    status=res.get("status", "active"),
                    start=_parse_date(period.get("start") or res.get("effectiveDateTime")),
                    end=_parse_date(period.get("end")),
                    note=_first_note(res),
                )
            )
        elif kind == "Condition":
            content.records.append(
                Condition(
                    **base,
                    name=_text(res.get("code")) or "Unnamed condition",
                    code=_code(
                        res.get("code"), (SNOMED, ICD10, "http://hl7.org/fhir/sid/icd-10-cm")
                    ),
                    clinical_status=_code(res.get("clinicalStatus"), (CONDITION_CLINICAL,))
                    or "active",
                    onset=_parse_date(res.get("onsetDateTime")),
                    abatement=_parse_date(res.get("abatementDateTime")),
                    note=_first_note(res),
                )
            )
        elif kind == "AllergyIntolerance":
            manifestations = [
                _text(m) for r in res.get("reaction") or [] for m in r.get("manifestation") or []
            ]
            content.records.append(
                AllergyIntolerance(
                    **base,
                    substance=_text(res.get("code")) or "Unnamed substance",
                    reaction=", ".join(m for m in manifestations if m) or None,
                    criticality=res.get("criticality"),
                    recorded=_parse_date(res.get("recordedDate")),
                    note=_first_note(res),
                )
            )
        elif kind == "Immunization":
            occurrence = _parse_date(res.get("occurrenceDateTime"))
            if occurrence is None:
                raise BadInput("An Immunization has no date; nothing was imported.")
            performers = [
                (p.get("actor") or {}).get("display")
                for p in res.get("performer") or []
                if (p.get("actor") or {}).get("display")
            ]
            content.records.append(
                Immunization(
                    **base,
                    vaccine=_text(res.get("vaccineCode")) or "Unnamed vaccine",
                    occurrence=occurrence,
                    lot_number=res.get("lotNumber"),
                    performer=performers[0] if performers else None,
                    note=_first_note(res),
                )
            )
        else:
            content.skipped[kind] = content.skipped.get(kind, 0) + 1
    for r in content.records:
        if isinstance(r, Observation):
            r.report_id = report_of_obs.get(r.id)
        if isinstance(r, DiagnosticReport):
            r.document_id = report_of_doc.get(r.id)
    return content


def _document(res: dict[str, Any], base: dict[str, Any]) -> PendingDocument:
    contents = res.get("content") or []
    att = contents[0].get("attachment", {}) if contents else {}
    sha = None
    for ident in res.get("identifier") or []:
        if ident.get("system") == SHA256_SYSTEM:
            sha = ident.get("value")
    inline = None
    if att.get("data") is not None:
        try:
            inline = base64.b64decode(att["data"], validate=True)
        except ValueError:
            raise BadInput("A document attachment is not valid base64.") from None
    import hashlib

    if inline is not None:
        sha = hashlib.sha256(inline).hexdigest()
    created = _parse_ts(res.get("date"))
    extra: dict[str, Any] = {"created_at": created} if created else {}
    record = Document(
        **base,
        **extra,
        filename=str(att.get("title") or "document"),
        media_type=str(att.get("contentType") or "application/octet-stream"),
        sha256=str(sha or ""),
        size=len(inline) if inline is not None else int(att.get("size") or 0),
        description=res.get("description"),
    )
    return PendingDocument(record=record, inline=inline, url=att.get("url"))
