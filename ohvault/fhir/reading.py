"""FHIR R4 Bundle → vault records, keeping meaning: statuses, negations, codings, components.

Two callers. Plain FHIR files from other systems (`read_bundle`): each resource is
validated on its own, so one invalid resource is skipped with its path and reason
while the rest imports; an invalid element that ohvault does not read (a Patient's
`link`, a narrative `text`) is dropped with a note instead of losing the resource.
Signed ohvault bundles (`from_bundle(keep_ids=True)`): validated whole beforehand,
record ids are the resource ids.

Every record remembers where it came from (`ImportKey`: the source system and
resource id, and its identifiers) so that `plain.store_fhir_import` can update in
place on a re-import instead of adding a copy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ohvault.errors import BadInput
from ohvault.fhir import codes
from ohvault.fhir.codes import (
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    ICD10,
    ICD10CM,
    INTERPRETATION,
    LOINC,
    OBS_CATEGORY,
    SHA256_SYSTEM,
    SNOMED,
    UCUM,
    code_in,
    codings_of,
)
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

FLAGS = {"N", "H", "L", "HH", "LL", "A"}
# Resource types that become records (Medication is read to name a medication).
KEPT = {
    "Patient",
    "Observation",
    "DiagnosticReport",
    "DocumentReference",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationDispense",
    "Medication",
    "Condition",
    "AllergyIntolerance",
    "Immunization",
}
# Kinds that become a record on their own, so a file holding just one is worth importing.
SINGLE_RECORD_KINDS = KEPT - {"Patient", "Medication"}
# Elements each kind is read from: an invalid one of these skips the resource; an
# invalid element outside this list is dropped and the resource kept.
READS: dict[str, set[str]] = {
    "Patient": {"name", "birthDate", "gender", "id", "identifier"},
    "Observation": {
        "status", "category", "code", "effectiveDateTime", "effectivePeriod", "effectiveInstant",
        "issued", "valueQuantity", "valueString", "valueCodeableConcept", "valueBoolean",
        "valueInteger", "valueDateTime", "valueTime", "valuePeriod", "valueRange", "valueRatio",
        "referenceRange", "interpretation", "component", "hasMember",
        "performer", "note", "id", "identifier",
    },
    "DiagnosticReport": {"status", "code", "effectiveDateTime", "issued", "result", "performer"},
    "DocumentReference": {"status", "content", "type", "description", "date", "identifier"},
    "MedicationStatement": {
        "status", "medicationCodeableConcept", "medicationReference", "effectivePeriod",
        "effectiveDateTime", "dosage", "note", "contained",
    },
    "MedicationRequest": {
        "status", "medicationCodeableConcept", "medicationReference", "authoredOn",
        "dosageInstruction", "note", "contained", "doNotPerform",
    },
    "MedicationDispense": {
        "status", "medicationCodeableConcept", "medicationReference", "whenHandedOver",
        "whenPrepared", "dosageInstruction", "note", "contained",
    },
    "Medication": {"code"},
    "Condition": {
        "clinicalStatus", "verificationStatus", "code", "onsetDateTime", "onsetPeriod",
        "abatementDateTime", "abatementPeriod", "recordedDate", "note",
    },
    "AllergyIntolerance": {
        "clinicalStatus", "verificationStatus", "code", "reaction", "criticality",
        "recordedDate", "onsetDateTime", "note",
    },
    "Immunization": {
        "status", "statusReason", "vaccineCode", "occurrenceDateTime", "occurrenceString",
        "lotNumber", "performer", "note",
    },
}  # fmt: skip
_COMPONENT_ORDER = {"8480-6": 0, "8462-4": 1}
_NAMESPACE = uuid.UUID("5a0f3e1c-6b1e-4b7a-9a43-0f7d1b9c2e11")


@dataclass
class Skipped:
    """A resource that was not imported, and why (no PHI: type, position, reason)."""

    resource_type: str
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"resource_type": self.resource_type, "path": self.path, "reason": self.reason}


@dataclass
class ImportKey:
    """Where a record came from: keys (source + type/id, identifiers) and the resource's hash."""

    keys: list[str]
    resource_hash: str

    @property
    def primary(self) -> str:
        return self.keys[0]


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
    problems: list[Skipped] = field(default_factory=list)  # resources skipped, with reasons
    notes: list[str] = field(default_factory=list)  # what was adjusted on the way in
    keys: dict[str, ImportKey] = field(default_factory=dict)  # record id -> where it came from
    panels: int = 0  # panels (hasMember) kept as a group on their members

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in [*self.records, *(d.record for d in self.documents)]:
            out[r.TYPE.value] = out.get(r.TYPE.value, 0) + 1
        return out


class _Skip(Exception):
    """This resource is not imported; the message says why."""


# --- small readers ------------------------------------------------------------------------


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
        raise _Skip("a date is malformed") from None


def _parse_ts(text: Any) -> datetime | None:
    """A dateTime that carries a time of day; None for a bare date."""
    if not isinstance(text, str) or "T" not in text:
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
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"])
    return None


def _notes(res: dict[str, Any]) -> str | None:
    notes = [str(n["text"]) for n in res.get("note") or [] if isinstance(n, dict) and n.get("text")]
    return "\n".join(notes) if notes else None


def _qty(q: Any) -> tuple[float | None, str | None, str | None]:
    """(value, unit (UCUM code where given), comparator)."""
    if not isinstance(q, dict) or q.get("value") is None:
        return None, None, None
    unit = q.get("code") if q.get("system") == UCUM and q.get("code") else q.get("unit")
    return float(q["value"]), unit, q.get("comparator")


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _status(concept: Any, system: str) -> str | None:
    return code_in(codings_of(concept), system) or (
        str(concept["coding"][0]["code"])
        if isinstance(concept, dict) and concept.get("coding") and concept["coding"][0].get("code")
        else None
    )


def _performer(res: dict[str, Any]) -> str | None:
    for p in res.get("performer") or []:
        if not isinstance(p, dict):
            continue
        display = p.get("display") or (p.get("actor") or {}).get("display")
        if display:
            return str(display)
    return None


def _name_key(name: str) -> frozenset[str]:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return frozenset(t for t in "".join(c if c.isalnum() else " " for c in plain).split() if t)


def _patient_name(p: dict[str, Any]) -> str:
    names = [n for n in p.get("name") or [] if isinstance(n, dict)]
    # The official name first, as a person's other names (maiden, nickname) may differ.
    names.sort(key=lambda n: n.get("use") != "official")
    if not names:
        return ""
    n = names[0]
    return str(n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip())


# --- validation ---------------------------------------------------------------------------


def _validate(res: dict[str, Any], kind: str, path: str, content: FhirContent) -> dict[str, Any]:
    """The resource if it validates, minus invalid elements ohvault does not read; else _Skip."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    from ohvault.fhir.validate import where

    current = dict(res)
    for _ in range(8):
        try:
            get_fhir_model_class(kind).model_validate(current)
            return current
        except ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise _Skip("malformed structure") from None
        tops = {str(e["loc"][0]) for e in errors if e.get("loc")}
        first = dict(errors[0]) if errors else {}
        detail = f"{where(first)} ({first.get('type', 'invalid')})"
        needed = tops & READS.get(kind, set())
        if not tops or needed or "resourceType" in tops:
            raise _Skip(f"invalid: {detail}")
        for top in sorted(tops):
            current.pop(top, None)
        content.notes.append(f"{path} {kind}: left out {', '.join(sorted(tops))} ({detail})")
    raise _Skip("invalid: too many problems")


# --- resources ----------------------------------------------------------------------------


def _observation(res: dict[str, Any], base: dict[str, Any]) -> Observation:
    status = str(res.get("status") or "final")
    if status == "entered-in-error":
        raise _Skip("entered in error")
    if status == "cancelled":
        raise _Skip("cancelled (not performed)")
    code = res.get("code") or {}
    codings = codings_of(code)
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
    elif res.get("valueDateTime") or res.get("valueTime") or res.get("valuePeriod"):
        period = res.get("valuePeriod") or {}
        value_text = str(
            res.get("valueDateTime")
            or res.get("valueTime")
            or f"{period.get('start', '')}–{period.get('end', '')}"
        )
    elif res.get("valueRange") or res.get("valueRatio"):
        # Kept as the text a person reads ("3–5 mg", "1/2"), units included.
        def part(q: Any) -> str:
            v, u, _ = _qty(q)
            return f"{_num(v)} {u or ''}".strip() if v is not None else ""

        if res.get("valueRange"):
            value_text = (
                f"{part(res['valueRange'].get('low'))}–{part(res['valueRange'].get('high'))}"
            )
        else:
            ratio = res["valueRatio"]
            value_text = f"{part(ratio.get('numerator'))}/{part(ratio.get('denominator'))}"
    refs = [r for r in res.get("referenceRange") or [] if isinstance(r, dict)]
    ref = refs[0] if refs else {}
    ref_low, low_unit, _ = _qty(ref.get("low"))
    ref_high, high_unit, _ = _qty(ref.get("high"))
    flag = None
    for interp in res.get("interpretation") or []:
        flag = code_in(codings_of(interp), INTERPRETATION) or flag
    category = category_code = None
    for cat in res.get("category") or []:
        cat_code = code_in(codings_of(cat), OBS_CATEGORY)
        if cat_code:
            category_code = category_code or cat_code
        elif isinstance(cat, dict):
            category = cat.get("text") or category
    when = (
        res.get("effectiveDateTime")
        or (res.get("effectivePeriod") or {}).get("start")
        or res.get("effectiveInstant")
        or res.get("issued")
    )
    effective = _parse_date(when)
    if effective is None:
        raise _Skip("no date (effective[x] or issued)")
    components: list[dict[str, Any]] = []
    for comp in res.get("component") or []:
        if not isinstance(comp, dict):
            continue
        c_codings = codings_of(comp.get("code"))
        c_value, c_unit, c_cmp = _qty(comp.get("valueQuantity"))
        item: dict[str, Any] = {
            "code": code_in(c_codings, LOINC) or (c_codings[0]["code"] if c_codings else None),
            "name": _text(comp.get("code")),
            "codings": c_codings,
            "value": c_value if not c_cmp else None,
            "value_text": f"{c_cmp}{_num(c_value)}" if c_cmp and c_value is not None else None,
            "unit": c_unit,
            "absent": _text(comp.get("dataAbsentReason")),
        }
        if item["value_text"] is None and comp.get("valueCodeableConcept"):
            item["value_text"] = _text(comp["valueCodeableConcept"])
        if item["value_text"] is None and comp.get("valueString") is not None:
            item["value_text"] = str(comp["valueString"])
        components.append({k: v for k, v in item.items() if v not in (None, [], "")})
    # Systolic before diastolic whatever order the sender used, so a reading reads 120/80.
    components.sort(key=lambda c: _COMPONENT_ORDER.get(str(c.get("code")), 2))
    return Observation(
        **base,
        analyte=_text(code) or "Unnamed observation",
        loinc=code_in(codings, LOINC),
        codings=codings,
        value_num=value_num,
        value_text=value_text,
        unit=unit or low_unit or high_unit or (components[0].get("unit") if components else None),
        ref_low=ref_low,
        ref_high=ref_high,
        ref_text=ref.get("text"),
        flag=flag if flag in FLAGS else None,
        effective=effective,
        effective_at=_parse_ts(when),
        performer=_performer(res),
        status=status,
        category=category,
        category_code=category_code,
        components=components,
        note=_notes(res),
    )


_MED_STATUS = {
    # MedicationRequest / MedicationDispense status -> MedicationStatement status
    "draft": "intended",
    "cancelled": "stopped",
    "declined": "not-taken",
    "preparation": "intended",
    "in-progress": "active",
    "unknown": "unknown",
}


def _dosage_text(dosages: Any) -> str | None:
    texts: list[str] = []
    for d in dosages or []:
        if not isinstance(d, dict):
            continue
        if d.get("text"):
            texts.append(str(d["text"]))
            continue
        parts: list[str] = []
        for dr in d.get("doseAndRate") or []:
            value, unit, _ = _qty((dr or {}).get("doseQuantity"))
            if value is not None:
                parts.append(f"{_num(value)} {unit or ''}".strip())
        repeat = ((d.get("timing") or {}).get("repeat")) or {}
        if repeat.get("frequency") and repeat.get("period"):
            parts.append(
                f"{repeat['frequency']} times every {_num(float(repeat['period']))} "
                f"{repeat.get('periodUnit', '')}".strip()
            )
        if d.get("asNeededBoolean"):
            parts.append("as needed")
        if parts:
            texts.append(", ".join(parts))
    return "; ".join(texts) or None


def _medication(
    res: dict[str, Any], kind: str, base: dict[str, Any], medications: dict[str, dict[str, Any]]
) -> MedicationStatement:
    status = str(res.get("status") or "active")
    if status == "entered-in-error":
        raise _Skip("entered in error")
    concept = res.get("medicationCodeableConcept")
    if concept is None and isinstance(res.get("medicationReference"), dict):
        ref = res["medicationReference"]
        target = str(ref.get("reference") or "")
        found: dict[str, Any] | None = None
        if target.startswith("#"):
            for c in res.get("contained") or []:
                if isinstance(c, dict) and c.get("id") == target[1:]:
                    found = c
        elif target:
            found = medications.get(target)
        if found is not None and isinstance(found.get("code"), dict):
            concept = found["code"]
        elif ref.get("display"):
            concept = {"text": ref["display"]}
        else:
            raise _Skip("the Medication it names is not in the file")
    codings = codings_of(concept)
    if codes.no_info(codings):
        raise _Skip("states that no medication information is available")
    statement = codes.no_known(codings, "medication")
    note = _notes(res)
    if kind == "MedicationRequest":
        period = (
            ((res.get("dosageInstruction") or [{}])[0] or {}).get("timing", {}).get("repeat", {})
        ).get("boundsPeriod") or {}
        start = _parse_date(period.get("start") or res.get("authoredOn"))
        end = _parse_date(period.get("end"))
        dosage = _dosage_text(res.get("dosageInstruction"))
        status = _MED_STATUS.get(status, status)
        if res.get("doNotPerform"):
            status = "not-taken"
            note = "\n".join(filter(None, ["Prescribed not to take (doNotPerform).", note]))
    elif kind == "MedicationDispense":
        start = _parse_date(res.get("whenHandedOver") or res.get("whenPrepared"))
        end = None
        dosage = _dosage_text(res.get("dosageInstruction"))
        status = {"completed": "completed"}.get(status, _MED_STATUS.get(status, status))
    else:
        period = res.get("effectivePeriod") or {}
        start = _parse_date(period.get("start") or res.get("effectiveDateTime"))
        end = _parse_date(period.get("end"))
        dosage = _dosage_text(res.get("dosage"))
    return MedicationStatement(
        **base,
        name=statement or _text(concept) or "Unnamed medication",
        codings=codings,
        no_known=statement is not None,
        dosage=dosage,
        status=status,
        start=start,
        end=end,
        note=note,
    )


def _condition(res: dict[str, Any], base: dict[str, Any]) -> Condition:
    verification = _status(res.get("verificationStatus"), CONDITION_VERIFICATION)
    if verification == "entered-in-error":
        raise _Skip("entered in error")
    codings = codings_of(res.get("code"))
    if codes.no_info(codings):
        raise _Skip("states that no problem information is available")
    statement = codes.no_known(codings, "condition")
    onset = res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start")
    abatement = res.get("abatementDateTime") or (res.get("abatementPeriod") or {}).get("end")
    return Condition(
        **base,
        name=statement or _text(res.get("code")) or "Unnamed condition",
        code=code_in(codings, SNOMED, ICD10, ICD10CM),
        codings=codings,
        no_known=statement is not None,
        clinical_status=_status(res.get("clinicalStatus"), CONDITION_CLINICAL) or "unknown",
        verification_status=verification,
        onset=_parse_date(onset),
        abatement=_parse_date(abatement),
        note=_notes(res),
    )


def _allergy(res: dict[str, Any], base: dict[str, Any]) -> AllergyIntolerance:
    verification = _status(res.get("verificationStatus"), ALLERGY_VERIFICATION)
    if verification == "entered-in-error":
        raise _Skip("entered in error")
    codings = codings_of(res.get("code"))
    if codes.no_info(codings):
        raise _Skip("states that no allergy information is available")
    statement = codes.no_known(codings, "allergy")
    manifestations = [
        _text(m)
        for r in res.get("reaction") or []
        if isinstance(r, dict)
        for m in r.get("manifestation") or []
    ]
    return AllergyIntolerance(
        **base,
        substance=statement or _text(res.get("code")) or "Unnamed substance",
        codings=codings,
        no_known=statement is not None,
        clinical_status=_status(res.get("clinicalStatus"), ALLERGY_CLINICAL),
        verification_status=verification,
        reaction=", ".join(m for m in manifestations if m) or None,
        criticality=res.get("criticality"),
        recorded=_parse_date(res.get("recordedDate") or res.get("onsetDateTime")),
        note=_notes(res),
    )


def _immunization(res: dict[str, Any], base: dict[str, Any]) -> Immunization:
    status = str(res.get("status") or "completed")
    if status == "entered-in-error":
        raise _Skip("entered in error")
    codings = codings_of(res.get("vaccineCode"))
    if codes.no_info(codings):
        raise _Skip("states no known immunizations (not a vaccination)")
    occurrence = _parse_date(res.get("occurrenceDateTime"))
    if occurrence is None:
        raise _Skip("no date (occurrenceDateTime)")
    reason = _text(res.get("statusReason")) if status == "not-done" else None
    return Immunization(
        **base,
        vaccine=_text(res.get("vaccineCode")) or "Unnamed vaccine",
        codings=codings,
        status=status,
        status_reason=reason or ("not given" if status == "not-done" else None),
        occurrence=occurrence,
        lot_number=res.get("lotNumber"),
        performer=_performer(res),
        note=_notes(res),
    )


def _report(res: dict[str, Any], base: dict[str, Any]) -> DiagnosticReport:
    status = str(res.get("status") or "final")
    if status == "entered-in-error":
        raise _Skip("entered in error")
    if status == "cancelled":
        raise _Skip("cancelled")
    return DiagnosticReport(
        **base,
        title=_text(res.get("code")) or "Report",
        lab=_performer(res),
        effective=_parse_date(res.get("effectiveDateTime")),
        issued=_parse_date(res.get("issued")),
        status=status,
    )


_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/xml": ".xml",
}


def _document(res: dict[str, Any], base: dict[str, Any]) -> PendingDocument:
    if res.get("status") == "entered-in-error":
        raise _Skip("entered in error")
    contents = [c for c in res.get("content") or [] if isinstance(c, dict)]
    atts = [c.get("attachment") or {} for c in contents]
    # Prefer an attachment that carries its bytes; a URL alone is listed, not fetched.
    att = next((a for a in atts if a.get("data") is not None), atts[0] if atts else {})
    sha = None
    for ident in res.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") == SHA256_SYSTEM:
            sha = ident.get("value")
    inline = None
    if att.get("data") is not None:
        try:
            inline = base64.b64decode(att["data"], validate=True)
        except ValueError:
            raise _Skip("the attachment is not valid base64") from None
        sha = hashlib.sha256(inline).hexdigest()
    created = _parse_ts(res.get("date")) or _parse_ts(att.get("creation"))
    extra: dict[str, Any] = {"created_at": created} if created else {}
    media = str(att.get("contentType") or "application/octet-stream")
    title = att.get("title") or _text(res.get("type")) or "document"
    filename = str(title)
    if "." not in filename and media in _EXTENSIONS:
        filename += _EXTENSIONS[media]
    record = Document(
        **base,
        **extra,
        filename=filename,
        media_type=media,
        sha256=str(sha or ""),
        size=len(inline) if inline is not None else int(att.get("size") or 0),
        description=res.get("description") or _text(res.get("type")),
    )
    return PendingDocument(record=record, inline=inline, url=att.get("url"))


# --- the bundle ---------------------------------------------------------------------------


def _resource_hash(res: dict[str, Any]) -> str:
    body = {k: v for k, v in res.items() if k not in ("meta", "text") and not k.startswith("_")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _source_of(data: dict[str, Any], entry: dict[str, Any], res: dict[str, Any]) -> str:
    meta_source = (res.get("meta") or {}).get("source") or (data.get("meta") or {}).get("source")
    if meta_source:
        return str(meta_source)
    url = str(entry.get("fullUrl") or "")
    kind, rid = str(res.get("resourceType")), str(res.get("id") or "")
    if url.startswith(("http://", "https://")) and url.endswith(f"/{kind}/{rid}"):
        return url[: -len(f"/{kind}/{rid}")]
    return ""


def _keys(
    data: dict[str, Any], entry: dict[str, Any], res: dict[str, Any], scope: str
) -> ImportKey:
    kind = str(res["resourceType"])
    keys: list[str] = []
    for ident in res.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            keys.append(f"identifier:{kind}|{ident['system']}|{ident['value']}")
    rid = res.get("id")
    if rid:
        source = _source_of(data, entry, res)
        try:
            uuid.UUID(str(rid))
            globally_unique = True
        except ValueError:
            globally_unique = False
        # A bare id such as "1" is unique only within its server; scope it by the
        # server when known, else by the person the file is about.
        keys.append(f"id:{source or ('' if globally_unique else scope)}|{kind}/{rid}")
    if not keys:
        keys.append(f"hash:{kind}|{_resource_hash(res)}")
    return ImportKey(keys, _resource_hash(res))


def derived_id(profile_id: str, key: str) -> str:
    """The record id a FHIR import key gets in a profile: the same on every device."""
    return str(uuid.uuid5(_NAMESPACE, f"{profile_id}\n{key}"))


def _same_person(a: Profile, b: Profile) -> bool:
    """Same name (order, case, accents aside) and birth date; a missing one does not differ."""
    ka, kb = _name_key(a.name), _name_key(b.name)
    names = not ka or not kb or ka == kb
    born = a.birth_date is None or b.birth_date is None or a.birth_date == b.birth_date
    return names and born


def _patients(
    entries: list[tuple[str, dict[str, Any], dict[str, Any]]], content: FhirContent
) -> Profile | None:
    people: list[Profile] = []
    count = 0
    for _path, _entry, res in entries:
        if res["resourceType"] != "Patient":
            continue
        count += 1
        try:
            born = _parse_date(res.get("birthDate"))
        except _Skip:
            born = None
        name = _patient_name(res)
        profile = Profile(
            id=res.get("_local", ""), name=name, birth_date=born, sex=res.get("gender")
        )
        match = next((p for p in people if _same_person(p, profile)), None)
        if match is None:
            people.append(profile)
        else:
            # Keep what either entry knows.
            match.name = match.name or profile.name
            match.birth_date = match.birth_date or profile.birth_date
            match.sex = match.sex or profile.sex
    if len(people) > 1:
        raise BadInput(
            f"The file holds records of {len(people)} different people "
            "(Patient entries with different names or birth dates); nothing was imported.",
            hint="Import a file that holds one person's records.",
        )
    if count > 1:
        content.notes.append(
            f"{count} Patient entries describe the same person (same name and birth date); "
            "their records are imported together."
        )
    if not people:
        return None
    return people[0]  # name "" when no entry names the person: nothing to check it against


def read_bundle(data: Any, *, provenance: Provenance = Provenance.FHIR) -> FhirContent:
    """Records from a FHIR Bundle from another system, resource by resource.

    Only something that is not a FHIR Bundle at all is refused whole (BadInput); an
    invalid or meaningless resource is listed in `content.problems` and the rest kept.
    """
    if isinstance(data, dict) and data.get("resourceType") in SINGLE_RECORD_KINDS:
        # One resource on its own (a portal's "download this result", the US Core examples):
        # read as a bundle of one, by the same rules.
        data = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": data}]}
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        from ohvault.fhir.validate import FhirInvalid

        raise FhirInvalid(
            "The file is not a FHIR Bundle (resourceType must be 'Bundle'), nor one resource "
            "that becomes a record."
        )
    return _read(data, keep_ids=False, provenance=provenance, lenient=True)


def from_bundle(data: dict[str, Any], *, keep_ids: bool, provenance: Provenance) -> FhirContent:
    """Records from a validated FHIR Bundle. `keep_ids`: use resource ids as record ids (bundles)."""
    content = _read(data, keep_ids=keep_ids, provenance=provenance, lenient=False)
    if keep_ids and content.problems:
        first = content.problems[0]
        raise BadInput(
            f"A {first.resource_type} in the bundle cannot be read ({first.reason}); "
            "nothing was imported."
        )
    return content


def _read(
    data: dict[str, Any], *, keep_ids: bool, provenance: Provenance, lenient: bool
) -> FhirContent:
    content = FhirContent(patient=None)
    raw_entries = data.get("entry") or []
    if not isinstance(raw_entries, list):
        raw_entries = []
    entries: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    local: dict[str, str] = {}
    medications: dict[str, dict[str, Any]] = {}
    for i, e in enumerate(raw_entries):
        path = f"entry[{i}]"
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            content.problems.append(Skipped("(none)", path, "the entry holds no resource"))
            continue
        kind = res["resourceType"]
        if kind not in KEPT:
            content.skipped[kind] = content.skipped.get(kind, 0) + 1
            continue
        if lenient:
            try:
                res = _validate(res, kind, path, content)
            except _Skip as why:
                content.problems.append(Skipped(kind, path, str(why)))
                if kind != "Patient":
                    continue
                # Still read for the identity check: an invalid Patient must not let a file
                # about someone else in unchecked.
        res = dict(res)
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
        for key in (e.get("fullUrl"), f"{kind}/{rid}" if rid else None, f"urn:uuid:{rid}"):
            if key:
                local[str(key)] = new
                if kind == "Medication":
                    medications[str(key)] = res
        res["_local"] = new
        entries.append((path, e, res))

    def ref(obj: Any) -> str | None:
        if isinstance(obj, dict) and obj.get("reference"):
            return local.get(str(obj["reference"]))
        return None

    if keep_ids:
        patients = [r for _p, _e, r in entries if r["resourceType"] == "Patient"]
        if len(patients) > 1:
            raise BadInput(
                "The FHIR Bundle holds more than one Patient; import one person at a time."
            )
    patient = _patients(entries, content)
    if keep_ids and patient is not None and not patient.name:
        patient.name = "Unnamed patient"  # a profile needs a name
    content.patient = patient
    if patient is None and lenient and entries:
        content.notes.append(
            "The file names no Patient: its records go into the profile you import into."
        )
    scope = ""
    if patient is not None:
        scope = f"patient:{'|'.join(sorted(_name_key(patient.name)))}|{patient.birth_date}"
    report_of_obs: dict[str, str] = {}
    report_of_doc: dict[str, str] = {}
    panel_of: dict[str, tuple[str, str]] = {}
    now = datetime.now(UTC)
    for path, entry, res in entries:
        kind = res["resourceType"]
        if kind in ("Patient", "Medication"):
            continue
        updated = _parse_ts((res.get("meta") or {}).get("lastUpdated")) or now
        base: dict[str, Any] = {
            "id": res["_local"],
            "profile_id": patient.id if patient else "",
            "updated_at": updated,
            "provenance": provenance,
        }
        try:
            record: Record | None = None
            if kind == "Observation":
                obs = _observation(res, base)
                members = [ref(m) for m in res.get("hasMember") or []]
                members_found = [m for m in members if m]
                if (
                    members
                    and obs.value_num is None
                    and obs.value_text is None
                    and not obs.components
                ):
                    # A panel: kept as the group its members belong to, not as a result.
                    if not members_found:
                        raise _Skip("a panel whose results are not in the file")
                    for m in members_found:
                        panel_of[m] = (res["_local"], obs.analyte)
                    content.panels += 1
                    if not keep_ids:
                        # No record, but a stable id, so that members point at the same group.
                        content.keys[res["_local"]] = _keys(data, entry, res, scope)
                    continue
                record = obs
            elif kind == "DiagnosticReport":
                record = _report(res, base)
                for r in res.get("result") or []:
                    target = ref(r)
                    if target:
                        report_of_obs[target] = res["_local"]
            elif kind == "DocumentReference":
                doc = _document(res, base)
                for related in (res.get("context") or {}).get("related") or []:
                    target = ref(related)
                    if target:
                        report_of_doc[target] = res["_local"]
                content.documents.append(doc)
                if doc.inline is None and lenient:
                    content.problems.append(
                        Skipped(kind, path, "the attachment is a URL; it was not fetched")
                    )
                if not keep_ids:
                    content.keys[doc.record.id] = _keys(data, entry, res, scope)
                continue
            elif kind in ("MedicationStatement", "MedicationRequest", "MedicationDispense"):
                record = _medication(res, kind, base, medications)
            elif kind == "Condition":
                record = _condition(res, base)
            elif kind == "AllergyIntolerance":
                record = _allergy(res, base)
            elif kind == "Immunization":
                record = _immunization(res, base)
        except _Skip as why:
            if not lenient and str(why) not in (
                "entered in error",
                "cancelled",
                "cancelled (not performed)",
            ):
                raise BadInput(
                    f"A {kind} in the bundle cannot be read ({why}); nothing was imported."
                ) from None
            content.problems.append(Skipped(kind, path, str(why)))
            continue
        if record is not None:
            content.records.append(record)
            if not keep_ids:
                content.keys[record.id] = _keys(data, entry, res, scope)
    for r in content.records:
        if isinstance(r, Observation):
            r.report_id = report_of_obs.get(r.id)
            if r.id in panel_of:
                r.panel_id, panel_name = panel_of[r.id]
                r.category = r.category or panel_name
            if r.category is None and r.category_code == codes.VITAL_SIGNS:
                # Vital signs share one category people can filter by.
                r.category = "Vital signs"
        if isinstance(r, DiagnosticReport):
            r.document_id = report_of_doc.get(r.id)
    return content
