"""Patient vault → encrypted signed bundle → clinician vault, and re-imports that merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohvault import identity
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import import_bundle
from ohvault.errors import ReadOnlyRecord
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Provenance,
    RecordType,
)

from .conftest import TEST_LOG_N, Pair, fill


def _obs_key(o: Observation) -> tuple[object, ...]:
    return (
        o.analyte,
        o.loinc,
        o.value_num,
        o.value_text,
        o.unit,
        o.ref_low,
        o.ref_high,
        o.ref_text,
        o.flag,
        o.effective,
        o.performer,
        o.category,
        o.note,
        o.status,
    )


def export_to_clinician(pair: Pair, out: Path, **plan_kw: object) -> str:
    key = identity.load_or_create(pair.clinician).age_recipient
    plan = plan_export(pair.patient, pair.profile.id, **plan_kw)  # type: ignore[arg-type]
    write_bundle(pair.patient, plan, out, recipients=[key])
    return key


def test_round_trip_keeps_values_codes_dates_and_documents(pair: Pair) -> None:
    made = fill(pair.patient, pair.profile.id)
    out = pair.tmp / "alex.ohvbundle"
    export_to_clinician(pair, out)
    result = import_bundle(pair.clinician, out)
    assert result.trust == "new" and result.addressed_to_us
    assert result.sender_fingerprint == identity.load_or_create(pair.patient).signing_fingerprint

    pid = result.profile_id
    patient = pair.clinician.repo.profile(pid)
    assert patient.name == "Alex Example"
    src = sorted(map(_obs_key, pair.patient.repo.observations(pair.profile.id)), key=str)
    got_obs = pair.clinician.repo.observations(pid)
    assert sorted(map(_obs_key, got_obs), key=str) == src
    assert all(
        o.provenance is Provenance.BUNDLE and o.source_id == result.bundle_id for o in got_obs
    )
    # The report links survive: observations → report → document.
    report = pair.clinician.repo.get(DiagnosticReport, pid, made["report"].id)  # type: ignore[attr-defined]
    assert report.document_id == made["doc"].id  # type: ignore[attr-defined]
    assert {o.report_id for o in got_obs if o.loinc != "718-7"} == {report.id}
    doc = pair.clinician.repo.get(Document, pid, made["doc"].id)  # type: ignore[attr-defined]
    assert pair.clinician.repo.document_content(pid, doc.id) == pair.patient.repo.document_content(
        pair.profile.id, doc.id
    )
    for cls, field in [
        (MedicationStatement, "dosage"),
        (Condition, "code"),
        (AllergyIntolerance, "reaction"),
        (Immunization, "lot_number"),
    ]:
        mine = [getattr(r, field) for r in pair.patient.repo.records(cls, pair.profile.id)]
        theirs = [getattr(r, field) for r in pair.clinician.repo.records(cls, pid)]
        assert theirs == mine and theirs
    # Imported data is read-only for the clinician.
    with pytest.raises(ReadOnlyRecord):
        pair.clinician.repo.delete(RecordType.OBSERVATION, pid, got_obs[0].id)
    assert any(e.action == "export.bundle" for e in pair.patient.audit.entries(limit=50))


def test_reimport_merges_updates_and_deletions_without_duplicates(pair: Pair) -> None:
    made = fill(pair.patient, pair.profile.id)
    first = pair.tmp / "first.ohvbundle"
    export_to_clinician(pair, first)
    r1 = import_bundle(pair.clinician, first)
    again = import_bundle(pair.clinician, first)  # same bundle twice: a no-op
    assert again.added == 0 and again.updated == 0 and again.profile_id == r1.profile_id

    glucose: Observation = made["glucose"]  # type: ignore[assignment]
    glucose.value_num = 6.1
    glucose.flag = "H"
    pair.patient.repo.update(glucose)
    pair.patient.repo.delete(RecordType.OBSERVATION, pair.profile.id, made["crp"].id)  # type: ignore[attr-defined]
    pair.patient.repo.delete(RecordType.DOCUMENT, pair.profile.id, made["doc"].id)  # type: ignore[attr-defined]
    second = pair.tmp / "second.ohvbundle"
    export_to_clinician(pair, second)
    r2 = import_bundle(pair.clinician, second)
    assert (r2.updated, r2.deleted, r2.added) == (1, 2, 0)
    pid = r1.profile_id
    obs = {o.id: o for o in pair.clinician.repo.observations(pid)}
    assert obs[glucose.id].value_num == 6.1 and obs[glucose.id].flag == "H"
    assert made["crp"].id not in obs  # type: ignore[attr-defined]
    assert pair.clinician.repo.records(Document, pid) == []
    # An older bundle imported late changes nothing back.
    r3 = import_bundle(pair.clinician, first)
    assert (r3.added, r3.updated) == (0, 0)
    assert {o.id: o.value_num for o in pair.clinician.repo.observations(pid)}[glucose.id] == 6.1
    assert len(pair.clinician.repo.profiles()) == 1


def test_export_scope_types_and_since(pair: Pair) -> None:
    from datetime import date

    fill(pair.patient, pair.profile.id)
    plan = plan_export(
        pair.patient, pair.profile.id, types=[RecordType.OBSERVATION], since=date(2024, 1, 1)
    )
    assert plan.summary()["counts"] == {"observation": 2}
    out = pair.tmp / "scoped.ohvbundle"
    key = identity.load_or_create(pair.clinician).age_recipient
    write_bundle(pair.patient, plan, out, recipients=[key])
    result = import_bundle(pair.clinician, out)
    assert {o.loinc for o in pair.clinician.repo.observations(result.profile_id)} == {
        "2345-7",
        "1988-5",
    }
    assert pair.clinician.repo.records(Document, result.profile_id) == []


def test_passphrase_bundle_round_trip(pair: Pair) -> None:
    fill(pair.patient, pair.profile.id)
    out = pair.tmp / "pass.ohvbundle"
    plan = plan_export(pair.patient, pair.profile.id)
    seen: list[tuple[int, int]] = []
    write_bundle(
        pair.patient,
        plan,
        out,
        passphrase="correct horse battery",
        scrypt_log_n=TEST_LOG_N,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen and seen[-1][0] == seen[-1][1]
    result = import_bundle(pair.clinician, out, passphrase="correct horse battery")
    assert result.addressed_to_us and result.counts["observation"] == 3
    assert len(pair.clinician.repo.observations(result.profile_id)) == 3


def test_cancel_leaves_nothing_behind(pair: Pair) -> None:
    from ohvault.errors import Cancelled

    fill(pair.patient, pair.profile.id)
    out = pair.tmp / "cancelled.ohvbundle"
    key = identity.load_or_create(pair.clinician).age_recipient
    plan = plan_export(pair.patient, pair.profile.id)
    with pytest.raises(Cancelled):
        write_bundle(pair.patient, plan, out, recipients=[key], should_cancel=lambda: True)
    assert list(pair.tmp.glob("*cancelled*")) == []
    write_bundle(pair.patient, plan, out, recipients=[key])
    with pytest.raises(Cancelled):
        import_bundle(pair.clinician, out, should_cancel=lambda: True)
    assert pair.clinician.repo.profiles() == []
