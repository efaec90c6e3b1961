"""FHIR Bundles from other systems: counts, statuses, negations, components, re-import, identity."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ohvault.bundles.export import plan_export
from ohvault.errors import BadInput
from ohvault.fhir import plain
from ohvault.fhir.codes import CVX, IPS_ABSENT, LOINC, RXNORM, SNOMED
from ohvault.fhir.validate import FhirInvalid, validate_bundle
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Profile,
)
from ohvault.vault import Vault

from .conftest import SYNTHEA, patient_of, us_core_bundle, write

# FHIR resource type -> the vault record type it becomes.
KIND = {
    "Observation": "observation",
    "Condition": "condition",
    "MedicationRequest": "medication",
    "MedicationStatement": "medication",
    "Immunization": "immunization",
    "DiagnosticReport": "diagnostic_report",
    "AllergyIntolerance": "allergy",
}


def _profile(vault: Vault, person: Profile) -> str:
    return vault.repo.add_profile(person).id


def _expected_counts(path: Path) -> dict[str, int]:
    data = json.loads(path.read_text())
    out: Counter[str] = Counter()
    for e in data["entry"]:
        kind = KIND.get(e["resource"]["resourceType"])
        if kind:
            out[kind] += 1
    return dict(out)


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda p: p.stem)
def test_synthea_patient_imports_every_record_once(vault: Vault, path: Path) -> None:
    pid = _profile(vault, patient_of(path))
    content = plain.read_fhir_file(path)
    assert content.problems == []
    outcome = plain.store_fhir_import(vault, pid, content)
    assert outcome.added == _expected_counts(path)
    assert outcome.skipped_resources["Encounter"] > 0  # listed as not kept, not silently lost
    counts = vault.repo.counts(pid)
    for kind, n in _expected_counts(path).items():
        assert counts[kind] == n

    data = json.loads(path.read_text())
    # Medications keep their names and RxNorm codes.
    requests = [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    meds = vault.repo.records(MedicationStatement, pid)
    assert sorted(m.name for m in meds) == sorted(
        r["medicationCodeableConcept"]["text"] for r in requests
    )
    assert all(m.codings and m.codings[0]["system"] == RXNORM for m in meds)
    assert sorted(m.status for m in meds) == sorted(r["status"] for r in requests)
    # Blood pressure is one reading with both components, a vital sign with its time of day.
    obs = vault.repo.records(Observation, pid)
    bps = [o for o in obs if o.loinc == "55284-4" or o.loinc == "85354-9"]
    assert bps, "Synthea writes blood pressure as a panel with components"
    for bp in bps:
        assert [c["code"] for c in bp.components] == ["8480-6", "8462-4"]
        assert all(isinstance(c["value"], float) and c["unit"] == "mm[Hg]" for c in bp.components)
        assert bp.category_code == "vital-signs" and bp.effective_at is not None
        assert bp.display_value().count("/") == 1
    assert {o.category_code for o in obs} <= {
        "vital-signs",
        "laboratory",
        "survey",
        "social-history",
    }
    # Immunizations keep their CVX codes.
    assert all(i.codings[0]["system"] == CVX for i in vault.repo.records(Immunization, pid))

    # The same file again changes nothing, for every record type.
    again = plain.store_fhir_import(vault, pid, plain.read_fhir_file(path))
    assert again.added == {} and again.updated == {} and again.duplicates == 0
    assert again.unchanged == _expected_counts(path)
    assert again.imported_before
    assert vault.repo.counts(pid) == counts


def test_changed_resource_updates_in_place(vault: Vault, tmp_path: Path) -> None:
    path = SYNTHEA[0]
    pid = _profile(vault, patient_of(path))
    plain.store_fhir_import(vault, pid, plain.read_fhir_file(path))
    before = vault.repo.counts(pid)
    resolved_before = [
        c for c in vault.repo.records(Condition, pid) if c.clinical_status == "resolved"
    ]
    data = json.loads(path.read_text())
    cond = next(
        e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Condition"
        and e["resource"]["clinicalStatus"]["coding"][0]["code"] == "active"
    )
    cond["clinicalStatus"]["coding"][0]["code"] = "resolved"
    outcome = plain.store_fhir_import(
        vault, pid, plain.read_fhir_file(write(tmp_path, "newer.json", data))
    )
    assert outcome.updated == {"condition": 1} and outcome.added == {}
    assert vault.repo.counts(pid) == before
    stored = [c for c in vault.repo.records(Condition, pid) if c.clinical_status == "resolved"]
    assert len(stored) == len(resolved_before) + 1


def test_us_core_examples_keep_their_meaning(vault: Vault, tmp_path: Path) -> None:
    pid = vault.repo.profiles()[0].id
    content = plain.read_fhir_file(write(tmp_path, "us-core.json", us_core_bundle()))
    # The CBC report lacks text.div (a narrative ohvault does not read): left out, report kept.
    assert any("DiagnosticReport: left out text" in n for n in content.notes)
    assert content.skipped == {"CareTeam": 1}
    outcome = plain.store_fhir_import(vault, pid, content)
    assert outcome.added == {
        "allergy": 2, "condition": 2, "diagnostic_report": 2, "document": 1, "immunization": 1,
        "medication": 5, "observation": 9,
    }  # fmt: skip
    meds = {m.name for m in vault.repo.records(MedicationStatement, pid)}
    # Contained and referenced Medications are followed; none is "Unnamed medication".
    assert "Nizatidine 15 MG/ML Oral Solution [Axid]" in meds and "Unnamed medication" not in meds
    conditions = {c.name: c for c in vault.repo.records(Condition, pid)}
    resolved = [c for c in conditions.values() if c.clinical_status == "resolved"]
    assert len(resolved) == 1 and resolved[0].abatement is not None
    [imm] = vault.repo.records(Immunization, pid)
    assert {c["system"] for c in imm.codings} >= {CVX} and imm.status == "completed"
    obs = vault.repo.records(Observation, pid)
    absent = next(o for o in obs if any("absent" in c for c in o.components))
    assert absent.components[0]["value"] == 109.0 and "value" not in absent.components[1]
    assert absent.display_value() == "109/–"
    [allergy] = [
        a
        for a in vault.repo.records(AllergyIntolerance, pid)
        if a.substance.startswith("sulfonamide")
    ]
    assert allergy.clinical_status == "active" and allergy.verification_status == "confirmed"
    assert allergy.codings[0]["system"] == SNOMED
    [doc] = vault.repo.records(Document, pid)
    assert doc.media_type == "text/plain" and vault.repo.document_content(pid, doc.id).startswith(
        b"No activity"
    )
    # Re-import: nothing changes.
    again = plain.store_fhir_import(vault, pid, plain.read_fhir_file(tmp_path / "us-core.json"))
    assert again.added == {} and again.updated == {} and sum(again.unchanged.values()) == 22


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _statuses_bundle() -> dict[str, Any]:
    def uid(n: int) -> str:
        return f"00000000-0000-4000-8000-{n:012d}"

    patient = {
        "resourceType": "Patient",
        "id": uid(0),
        "name": [{"given": ["Test"], "family": "Person"}],
    }
    subject = {"reference": f"urn:uuid:{uid(0)}"}
    glucose = {"coding": [{"system": LOINC, "code": "2345-7"}], "text": "Glucose"}
    resources = [
        patient,
        {"resourceType": "Observation", "id": uid(1), "status": "entered-in-error", "code": glucose,
         "subject": subject, "effectiveDateTime": "2024-01-02", "valueQuantity": {"value": 9.9}},
        {"resourceType": "Observation", "id": uid(2), "status": "final", "code": glucose,
         "subject": subject, "effectiveDateTime": "2024-01-02T08:15:00+01:00",
         "valueQuantity": {"value": 5.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}},
        {"resourceType": "AllergyIntolerance", "id": uid(3), "patient": subject,
         "verificationStatus": {"coding": [{"code": "entered-in-error"}]}, "code": {"text": "Peanut"}},
        {"resourceType": "AllergyIntolerance", "id": uid(4), "patient": subject,
         "code": {"coding": [{"system": IPS_ABSENT, "code": "no-known-food-allergies"}]}},
        {"resourceType": "AllergyIntolerance", "id": uid(5), "patient": subject,
         "code": {"coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}]}},
        {"resourceType": "AllergyIntolerance", "id": uid(6), "patient": subject,
         "clinicalStatus": {"coding": [{"code": "inactive"}]},
         "verificationStatus": {"coding": [{"code": "refuted"}]}, "code": {"text": "Penicillin"}},
        {"resourceType": "AllergyIntolerance", "id": uid(7), "patient": subject,
         "code": {"coding": [{"system": IPS_ABSENT, "code": "no-allergy-info"}]}},
        {"resourceType": "Condition", "id": uid(8), "subject": subject,
         "verificationStatus": {"coding": [{"code": "refuted"}]}, "code": {"text": "Asthma"}},
        {"resourceType": "Condition", "id": uid(9), "subject": subject,
         "code": {"coding": [{"system": IPS_ABSENT, "code": "no-known-problems"}]}},
        {"resourceType": "MedicationStatement", "id": uid(10), "subject": subject, "status": "active",
         "medicationCodeableConcept": {"coding": [{"system": IPS_ABSENT, "code": "no-known-medications"}]}},
        {"resourceType": "Immunization", "id": uid(11), "patient": subject, "status": "not-done",
         "statusReason": {"text": "Patient objection"}, "vaccineCode": {"coding": [{"system": CVX, "code": "140"}], "text": "Influenza"},
         "occurrenceDateTime": "2023-10-01"},
        {"resourceType": "Immunization", "id": uid(12), "patient": subject, "status": "entered-in-error",
         "vaccineCode": {"text": "Tetanus"}, "occurrenceDateTime": "2023-10-01"},
    ]  # fmt: skip
    return {"resourceType": "Bundle", "type": "collection", "entry": [_entry(r) for r in resources]}


def test_statuses_and_negations(vault: Vault, tmp_path: Path) -> None:
    pid = vault.repo.profiles()[0].id  # "Test Person"
    content = plain.read_fhir_file(write(tmp_path, "statuses.json", _statuses_bundle()))
    reasons = {(p.resource_type, p.path): p.reason for p in content.problems}
    assert reasons == {
        ("Observation", "entry[1]"): "entered in error",
        ("AllergyIntolerance", "entry[3]"): "entered in error",
        ("AllergyIntolerance", "entry[7]"): "states that no allergy information is available",
        ("Immunization", "entry[12]"): "entered in error",
    }
    outcome = plain.store_fhir_import(vault, pid, content)
    assert [s.path for s in outcome.skipped] == ["entry[1]", "entry[3]", "entry[7]", "entry[12]"]
    [glucose] = vault.repo.records(Observation, pid)
    assert glucose.value_num == 5.1 and glucose.effective_at is not None
    assert glucose.effective_at.isoformat() == "2024-01-02T08:15:00+01:00"
    allergies = {a.substance: a for a in vault.repo.records(AllergyIntolerance, pid)}
    assert set(allergies) == {"No known food allergies", "No known allergies", "Penicillin"}
    assert (
        allergies["No known food allergies"].no_known and allergies["No known allergies"].no_known
    )
    assert allergies["Penicillin"].verification_status == "refuted"
    assert (
        allergies["Penicillin"].clinical_status == "inactive"
        and not allergies["Penicillin"].no_known
    )
    conditions = {c.name: c for c in vault.repo.records(Condition, pid)}
    assert conditions["Asthma"].verification_status == "refuted"
    assert conditions["No known problems"].no_known
    [med] = vault.repo.records(MedicationStatement, pid)
    assert med.no_known and med.name == "No known medications"
    [imm] = vault.repo.records(Immunization, pid)
    assert (imm.status, imm.status_reason) == ("not-done", "Patient objection")

    # Exported again, the meaning survives and the bundle validates.
    from ohvault.fhir.plain import fhir_json_bytes

    data = json.loads(fhir_json_bytes(vault, plan_export(vault, pid)))
    validate_bundle(data)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in data["entry"]:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    [imm_out] = by_type["Immunization"]
    assert (
        imm_out["status"] == "not-done" and imm_out["statusReason"]["text"] == "Patient objection"
    )
    refuted = next(a for a in by_type["AllergyIntolerance"] if a["code"]["text"] == "Penicillin")
    assert refuted["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert refuted["clinicalStatus"]["coding"][0]["code"] == "inactive"
    nkfa = next(
        a for a in by_type["AllergyIntolerance"] if a["code"]["text"] == "No known food allergies"
    )
    assert nkfa["code"]["coding"] == [{"system": IPS_ABSENT, "code": "no-known-food-allergies"}]
    [obs_out] = by_type["Observation"]
    assert obs_out["effectiveDateTime"] == "2024-01-02T08:15:00+01:00"
    assert obs_out["category"][0]["coding"][0]["code"] == "laboratory"


def test_bundle_for_another_person_stops(vault: Vault) -> None:
    pid = _profile(
        vault, Profile(name="Someone Else", birth_date=patient_of(SYNTHEA[0]).birth_date)
    )
    content = plain.read_fhir_file(SYNTHEA[0])
    with pytest.raises(plain.FhirIdentityMismatch, match="name in the file differs"):
        plain.store_fhir_import(vault, pid, content)
    assert vault.repo.counts(pid)["observation"] == 0
    outcome = plain.store_fhir_import(vault, pid, content, confirm_identity=True)
    assert outcome.identity_confirmed and outcome.added["observation"] == 32


def test_two_patients_same_person_accepted_different_people_refused(
    vault: Vault, tmp_path: Path
) -> None:
    data = json.loads(SYNTHEA[0].read_text())
    patient = next(e for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
    twin = copy.deepcopy(patient)
    twin["resource"]["id"] = "payer-id-2"
    twin["fullUrl"] = "urn:uuid:payer-id-2"
    data["entry"].append(twin)
    content = plain.read_fhir_file(write(tmp_path, "two-ids.json", data))
    assert any("2 Patient entries describe the same person" in n for n in content.notes)
    pid = _profile(vault, patient_of(SYNTHEA[0]))
    assert plain.store_fhir_import(vault, pid, content).added["observation"] == 32

    # A stub with the name only (as payers send) is the same person too.
    stub = {
        "resource": {"resourceType": "Patient", "id": "stub", "name": patient["resource"]["name"]}
    }
    data["entry"].append(stub)
    content = plain.read_fhir_file(write(tmp_path, "stub.json", data))
    assert any("3 Patient entries describe the same person" in n for n in content.notes)
    assert content.patient is not None and content.patient.birth_date is not None

    other = copy.deepcopy(patient)
    other["resource"]["id"] = "other"
    other["resource"]["birthDate"] = "1950-01-01"
    data["entry"].append(other)
    with pytest.raises(BadInput, match="2 different people"):
        plain.read_fhir_file(write(tmp_path, "two-people.json", data))


def test_one_invalid_resource_is_skipped_and_reported(vault: Vault, tmp_path: Path) -> None:
    data = json.loads(SYNTHEA[1].read_text())
    index = next(
        i for i, e in enumerate(data["entry"]) if e["resource"]["resourceType"] == "Observation"
    )
    data["entry"][index]["resource"]["valueQuantity"]["value"] = "not a number"
    # A C-CDA conversion's Patient.link without its required type: only the link is left out.
    patient = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["link"] = [{"other": {"reference": "Patient/elsewhere"}}]
    content = plain.read_fhir_file(write(tmp_path, "one-bad.json", data))
    [problem] = content.problems
    assert (problem.resource_type, problem.path) == ("Observation", f"entry[{index}]")
    assert problem.reason.startswith("invalid: valueQuantity.value")
    assert any("Patient: left out link" in n for n in content.notes)
    assert content.patient is not None and content.patient.name == patient_of(SYNTHEA[1]).name
    pid = _profile(vault, patient_of(SYNTHEA[1]))
    outcome = plain.store_fhir_import(vault, pid, content)
    assert outcome.added["observation"] == 35 and outcome.to_json()["skipped"] == [
        problem.to_json()
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[1, 2]", "not a FHIR Bundle"),
        (json.dumps({"resourceType": "Patient", "id": "x"}).encode(), "not a FHIR Bundle"),
        (b"\x00\x01 not json", "not JSON"),
        (b"age-encryption.org/v1\n-> X25519 abc\n", "age-encrypted"),
    ],
)
def test_only_a_file_that_is_not_a_bundle_is_refused_whole(
    tmp_path: Path, payload: bytes, message: str
) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(payload)
    with pytest.raises(FhirInvalid, match=message):
        plain.read_fhir_file(path)


def test_one_resource_on_its_own_imports_like_a_bundle_of_one(vault: Vault, tmp_path: Path) -> None:
    """A portal's "download this result" is one resource, not a Bundle: it imports, once."""
    resource = {
        "resourceType": "Observation",
        "id": "single-glucose",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "2345-7", "display": "Glucose"}]},
        "effectiveDateTime": "2024-03-05",
        "valueQuantity": {"value": 97, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                          "code": "mg/dL"},
    }  # fmt: skip
    path = write(tmp_path, "one.json", resource)
    pid = vault.repo.profiles()[0].id
    outcome = plain.store_fhir_import(vault, pid, plain.read_fhir_file(path))
    assert outcome.added == {"observation": 1}
    [obs] = vault.repo.records(Observation, pid)
    assert (obs.loinc, obs.value_num, obs.unit) == ("2345-7", 97.0, "mg/dL")
    again = plain.store_fhir_import(vault, pid, plain.read_fhir_file(path))
    assert again.added == {} and again.imported_before
    assert len(vault.repo.records(Observation, pid)) == 1


def test_export_validates_and_round_trips(vault: Vault, tmp_path: Path) -> None:
    pid = vault.repo.profiles()[0].id
    plain.store_fhir_import(
        vault, pid, plain.read_fhir_file(write(tmp_path, "us.json", us_core_bundle()))
    )
    synthea = _profile(vault, patient_of(SYNTHEA[2]))
    plain.store_fhir_import(vault, synthea, plain.read_fhir_file(SYNTHEA[2]))
    for profile_id in (pid, synthea):
        data = json.loads(plain.fhir_json_bytes(vault, plan_export(vault, profile_id)))
        validate_bundle(data)  # fhir.resources, every resource
        observations = [
            e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"
        ]
        for o in observations:
            for q in [
                o.get("valueQuantity"),
                *(c.get("valueQuantity") for c in o.get("component", [])),
            ]:
                if q and "system" in q:
                    assert q["code"] != "mmHg", "mmHg is not UCUM; mm[Hg] is"
            loinc = [c for c in o["code"]["coding"] if c["system"] == LOINC]
            assert loinc and all(c.get("display") for c in loinc)
        bp = next(o for o in observations if o.get("component"))
        assert bp["category"][0]["coding"][0]["code"] == "vital-signs"
        assert [c["code"]["coding"][0]["code"] for c in bp["component"]][:2] == ["8480-6", "8462-4"]
        assert "valueQuantity" not in bp
        allergies = [
            e["resource"]
            for e in data["entry"]
            if e["resource"]["resourceType"] == "AllergyIntolerance"
        ]
        assert all(a["clinicalStatus"]["coding"][0]["code"] for a in allergies)
    # The exported file imports elsewhere with the same records.
    path = write(
        tmp_path, "out.json", json.loads(plain.fhir_json_bytes(vault, plan_export(vault, synthea)))
    )
    twin = _profile(vault, patient_of(SYNTHEA[2]))
    again = plain.store_fhir_import(vault, twin, plain.read_fhir_file(path))
    assert again.added == {
        k: v for k, v in vault.repo.counts(synthea).items() if v and k != "profiles"
    }
    twin_obs = {
        (o.loinc, o.effective, o.display_value()) for o in vault.repo.records(Observation, twin)
    }
    assert twin_obs == {
        (o.loinc, o.effective, o.display_value()) for o in vault.repo.records(Observation, synthea)
    }


def test_panel_members_are_kept_as_a_group(vault: Vault, tmp_path: Path) -> None:
    def obs(n: int, code: str, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation", "id": f"obs-{n}", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": code}], "text": text},
            "effectiveDateTime": "2024-05-06T07:45:00Z", **extra,
        }  # fmt: skip

    def mmhg(v: float) -> dict[str, Any]:
        return {"value": v, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "http://ehr.example/fhir/Observation/obs-1", "resource": obs(
                1, "85354-9", "Blood pressure panel",
                hasMember=[{"reference": "Observation/obs-2"}, {"reference": "Observation/obs-3"}],
            )},
            {"fullUrl": "http://ehr.example/fhir/Observation/obs-2",
             "resource": obs(2, "8480-6", "Systolic", valueQuantity=mmhg(131))},
            {"fullUrl": "http://ehr.example/fhir/Observation/obs-3",
             "resource": obs(3, "8462-4", "Diastolic", valueQuantity=mmhg(85))},
        ],
    }  # fmt: skip
    pid = vault.repo.profiles()[0].id
    content = plain.read_fhir_file(write(tmp_path, "panel.json", bundle))
    assert content.panels == 1 and content.problems == []
    outcome = plain.store_fhir_import(vault, pid, content)
    assert outcome.added == {"observation": 2} and outcome.panels == 1
    members = vault.repo.records(Observation, pid, order="loinc")
    assert [m.loinc for m in members] == ["8462-4", "8480-6"]
    assert members[0].panel_id == members[1].panel_id is not None
    assert {m.category for m in members} == {"Blood pressure panel"}
    # Bare ids ("obs-2") are scoped by their server, so the same ids from another EHR are new.
    again = plain.store_fhir_import(vault, pid, plain.read_fhir_file(tmp_path / "panel.json"))
    assert again.unchanged == {"observation": 2}
    for e in bundle["entry"]:
        e["fullUrl"] = e["fullUrl"].replace("ehr.example", "other.example")
    other = plain.store_fhir_import(
        vault, pid, plain.read_fhir_file(write(tmp_path, "other.json", bundle))
    )
    # Same test, time and value already stored from another source: not stored twice.
    assert other.added == {} and other.duplicates == 2


def test_invalid_patient_is_reported_and_still_checked(vault: Vault, tmp_path: Path) -> None:
    data = json.loads(SYNTHEA[2].read_text())
    patient = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["birthDate"] = "1993-13-45"
    obs = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    obs.pop("valueQuantity", None)
    obs["valueRange"] = {"low": {"value": 3, "unit": "mg"}, "high": {"value": 5, "unit": "mg"}}
    content = plain.read_fhir_file(write(tmp_path, "bad-patient.json", data))
    assert [p.resource_type for p in content.problems] == ["Patient"]
    assert content.patient is not None and content.patient.name == patient_of(SYNTHEA[2]).name
    pid = _profile(vault, Profile(name="Somebody Different"))
    with pytest.raises(plain.FhirIdentityMismatch):
        plain.store_fhir_import(vault, pid, content)
    ranged = next(r for r in content.records if isinstance(r, Observation) and r.value_text)
    assert ranged.value_text == "3 mg–5 mg"
