"""Export → import keeps every new field (the signed-bundle path reads our own FHIR back by id)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ohvault.fhir.codes import CVX, IPS_ABSENT, RXNORM, SNOMED
from ohvault.fhir.mapping import from_bundle, to_bundle
from ohvault.fhir.plain import read_fhir_file
from ohvault.fhir.validate import validate_bundle
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    Immunization,
    MedicationStatement,
    Profile,
    Provenance,
    Record,
)
from ohvault.vitals import KINDS, make_vital

from .conftest import write

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
_META = {"created_at", "updated_at", "provenance", "profile_id", "source_id"}


def _records(pid: str) -> list[Record]:
    common: dict[str, Any] = {"profile_id": pid, "updated_at": NOW}
    bp = make_vital(
        pid, KINDS["bp"], systolic=121, diastolic=79,
        when=datetime(2024, 5, 2, 7, 30, tzinfo=timezone(timedelta(hours=2))),
    )  # fmt: skip
    bp.updated_at = NOW
    return [
        bp,
        MedicationStatement(
            **common, name="Metformin 500 MG Oral Tablet", status="stopped", start=date(2020, 1, 1),
            codings=[{"system": RXNORM, "code": "861007", "display": "Metformin 500 MG Oral Tablet"}],
        ),
        MedicationStatement(
            **common, name="No known medications", no_known=True,
            codings=[{"system": IPS_ABSENT, "code": "no-known-medications"}],
        ),
        Condition(
            **common, name="Asthma", clinical_status="inactive", verification_status="refuted",
            codings=[{"system": SNOMED, "code": "195967001"}], code="195967001",
        ),
        AllergyIntolerance(
            **common, substance="No known allergies", no_known=True, clinical_status="active",
            codings=[{"system": SNOMED, "code": "716186003", "display": "No known allergy"}],
        ),
        Immunization(
            **common, vaccine="Influenza", occurrence=date(2023, 10, 1), status="not-done",
            status_reason="Patient objection", codings=[{"system": CVX, "code": "140"}],
        ),
    ]  # fmt: skip


def _fields(r: Record) -> dict[str, Any]:
    return {f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name not in _META}


def test_own_export_reads_back_field_for_field() -> None:
    profile = Profile(name="Test Person", birth_date=date(1980, 1, 2))
    records = _records(profile.id)
    data = to_bundle(profile, records, attachment=lambda d: {}, bundle_id="b", timestamp=NOW)
    validate_bundle(data)
    content = from_bundle(data, keep_ids=True, provenance=Provenance.BUNDLE)
    back = {r.id: r for r in content.records}
    for original in records:
        got = _fields(back[original.id])
        want = _fields(original)
        # Export adds the LOINC display the code carries; everything else is as stored.
        if "codings" in want and original.TYPE.value == "observation":
            assert [c["code"] for c in got.pop("codings")] == [
                c["code"] for c in want.pop("codings")
            ]
            for c_got, c_want in zip(got.pop("components"), want.pop("components"), strict=True):
                assert (c_got["code"], c_got["value"], c_got["unit"]) == (
                    c_want["code"], c_want["value"], c_want["unit"],
                )  # fmt: skip
        assert got == want, original.TYPE.value


def test_document_url_is_listed_not_fetched(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "d1",
                    "status": "current",
                    "content": [
                        {
                            "attachment": {
                                "contentType": "application/pdf",
                                "url": "https://portal.example/doc/1",
                            }
                        }
                    ],
                }
            }
        ],
    }
    content = read_fhir_file(write(tmp_path, "doc.json", bundle))
    assert [(p.resource_type, p.reason) for p in content.problems] == [
        ("DocumentReference", "the attachment is a URL; it was not fetched")
    ]
    assert any("names no Patient" in n for n in content.notes)


def test_an_export_that_would_not_validate_is_refused() -> None:
    import pytest

    from ohvault.errors import BadInput
    from ohvault.model import Observation

    profile = Profile(name="Test Person")
    broken = Observation(profile_id=profile.id, analyte="Glucose", effective=date(2024, 1, 1))
    broken.status = ""  # an empty required code: FHIR has no such status
    with pytest.raises(BadInput, match=r"would not be valid FHIR: .*status"):
        to_bundle(profile, [broken], attachment=lambda d: {}, bundle_id="b", timestamp=NOW)
