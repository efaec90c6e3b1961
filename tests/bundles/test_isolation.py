"""A clinician's patients are isolated: no public query for one patient sees another's rows."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from ohvault import identity
from ohvault.bundles import patients as patients_mod
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import ImportResult, import_bundle
from ohvault.errors import OhvaultError, RecordNotFound
from ohvault.model import RECORD_CLASSES, Document, Observation, Profile, Record
from ohvault.storage.repository import Repository

from .conftest import Pair, fill

# Every Repository method that takes a profile id, and how this test exercises it.
COVERED = {
    "get", "records", "observations", "latest_observations", "find_duplicate_observation",
    "document_content", "find_document_by_hash", "counts", "update", "delete",
    "restore_deleted", "profile", "update_profile", "_require_profile", "_current",
    "document_reports", "edit_profile", "rename_profile", "delete_profile",
    "audit_document_reads", "document_pieces", "_document_blob",
}  # fmt: skip


def _two_patients(pair: Pair) -> tuple[ImportResult, ImportResult]:
    second = pair.patient.repo.add_profile(Profile(name="Bea Example", birth_date=date(1990, 1, 1)))
    fill(pair.patient, pair.profile.id)
    fill(pair.patient, second.id)
    key = identity.load_or_create(pair.clinician).age_recipient
    results = []
    for profile_id, name in ((pair.profile.id, "a"), (second.id, "b")):
        out = pair.tmp / f"{name}.ohvbundle"
        write_bundle(pair.patient, plan_export(pair.patient, profile_id), out, recipients=[key])
        results.append(import_bundle(pair.clinician, out))
    return results[0], results[1]


def test_every_profile_scoped_query_is_covered() -> None:
    scoped = {
        name
        for name, fn in inspect.getmembers(Repository, inspect.isfunction)
        if "profile_id" in inspect.signature(fn).parameters
    }
    assert scoped <= COVERED, f"add these to the isolation test: {scoped - COVERED}"


def test_no_query_reads_across_patients(pair: Pair) -> None:
    a, b = _two_patients(pair)
    assert a.profile_id != b.profile_id
    repo = pair.clinician.repo
    listed = patients_mod.patients(pair.clinician)
    assert {p.profile_id for p in listed} == {a.profile_id, b.profile_id}
    for cls in RECORD_CLASSES.values():
        a_rows: list[Record] = repo.records(cls, a.profile_id, include_deleted=True)
        b_ids = {r.id for r in repo.records(cls, b.profile_id, include_deleted=True)}
        assert not b_ids & {r.id for r in a_rows}
        for row in a_rows:
            assert row.profile_id == a.profile_id
            # Reading, changing or deleting A's record through B's id finds nothing.
            with pytest.raises(RecordNotFound):
                repo.get(cls, b.profile_id, row.id, include_deleted=True)
            with pytest.raises(RecordNotFound):
                repo.delete(cls.TYPE, b.profile_id, row.id)
            with pytest.raises(RecordNotFound):
                repo.restore_deleted(cls.TYPE, b.profile_id, row.id)
            moved = type(row)(**{**row.__dict__, "profile_id": b.profile_id})
            with pytest.raises(RecordNotFound):
                repo.update(moved)
            with pytest.raises(RecordNotFound):
                patients_mod.record_provenance(pair.clinician, b.profile_id, row)
            assert patients_mod.record_provenance(pair.clinician, a.profile_id, row).bundle_id
    a_obs = repo.observations(a.profile_id)
    b_obs = repo.observations(b.profile_id)
    assert a_obs and b_obs and not {o.id for o in a_obs} & {o.id for o in b_obs}
    assert {o.profile_id for o in repo.latest_observations(b.profile_id)} == {b.profile_id}
    for obs in a_obs:
        dup = repo.find_duplicate_observation(b.profile_id, obs)
        assert dup is None or dup.profile_id == b.profile_id
    for doc in repo.records(Document, a.profile_id):
        with pytest.raises(RecordNotFound):
            repo.document_content(b.profile_id, doc.id)
        with pytest.raises(RecordNotFound):
            next(repo.document_pieces(b.profile_id, doc.id, 1 << 20))
        assert b"".join(repo.document_pieces(a.profile_id, doc.id, 7)) == repo.document_content(
            a.profile_id, doc.id
        )
        before = len(pair.clinician.audit.entries())
        with pytest.raises(RecordNotFound):
            repo.audit_document_reads(b.profile_id, [doc.id])
        assert len(pair.clinician.audit.entries()) == before
        found = repo.find_document_by_hash(b.profile_id, doc.sha256)
        assert found is None or found.profile_id == b.profile_id
    assert repo.counts(b.profile_id)["observation"] == len(b_obs)
    history = patients_mod.import_history(pair.clinician, b.profile_id)
    assert [h.bundle_id for h in history] == [b.bundle_id]
    assert repo.profile(b.profile_id).name == "Bea Example"
    reports = repo.document_reports(b.profile_id)
    assert all(r.profile_id == b.profile_id for r in reports.values())


def test_editing_or_deleting_one_patient_leaves_the_other(pair: Pair) -> None:
    a, b = _two_patients(pair)
    repo = pair.clinician.repo
    a_profile = repo.profile(a.profile_id)
    a_counts = {k: v for k, v in repo.counts(a.profile_id).items() if k != "profiles"}
    repo.rename_profile(b.profile_id, "Bea Renamed")
    repo.edit_profile(b.profile_id, sex="female")
    repo.delete_profile(b.profile_id, confirm_name="Bea Renamed")
    after = repo.profile(a.profile_id)
    assert (after.name, after.birth_date, after.sex) == (
        a_profile.name,
        a_profile.birth_date,
        a_profile.sex,
    )
    assert {k: v for k, v in repo.counts(a.profile_id).items() if k != "profiles"} == a_counts
    with pytest.raises(RecordNotFound):
        repo.profile(b.profile_id)


def test_a_bundle_cannot_write_into_another_patients_records(pair: Pair) -> None:
    """Bundle B reusing a record id of patient A is refused, and A's record is untouched."""
    import hashlib
    import json

    from .conftest import repack, unpack

    a, b = _two_patients(pair)
    me = identity.load_or_create(pair.clinician)
    a_obs = pair.clinician.repo.observations(a.profile_id)[0]
    second = next(p for p in pair.patient.repo.profiles() if p.name == "Bea Example")
    out = pair.tmp / "b-again.ohvbundle"
    write_bundle(
        pair.patient, plan_export(pair.patient, second.id), out, recipients=[me.age_recipient]
    )
    # B's bundle, validly signed by its sender, but one record carries A's record id.
    entries = unpack(out, me.age_identity)
    fhir = json.loads(entries["fhir/bundle.json"])
    obs = next(e for e in fhir["entry"] if e["resource"]["resourceType"] == "Observation")
    obs["resource"]["id"] = a_obs.id
    obs["fullUrl"] = f"urn:uuid:{a_obs.id}"
    obs["resource"]["meta"]["lastUpdated"] = "2999-01-01T00:00:00Z"
    entries["fhir/bundle.json"] = json.dumps(fhir).encode()
    manifest = json.loads(entries["manifest.json"])
    for e in manifest["entries"]:
        if e["path"] == "fhir/bundle.json":
            e["size"] = len(entries["fhir/bundle.json"])
            e["sha256"] = hashlib.sha256(entries["fhir/bundle.json"]).hexdigest()
    entries["manifest.json"] = json.dumps(manifest).encode()
    entries["manifest.sig"] = (
        identity.load_or_create(pair.patient).sign(entries["manifest.json"]).hex().encode()
    )
    forged = repack(list(entries.items()), me.age_recipient, pair.tmp / "collide.ohvbundle")
    with pytest.raises(OhvaultError) as info:
        import_bundle(pair.clinician, forged)
    assert "another person" in info.value.message
    kept = pair.clinician.repo.get(Observation, a.profile_id, a_obs.id)
    assert (kept.value_num, kept.value_text, kept.updated_at) == (
        a_obs.value_num,
        a_obs.value_text,
        a_obs.updated_at,
    )
    assert len(patients_mod.import_history(pair.clinician, b.profile_id)) == 1
