"""Two devices, one vault, through a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ohvault.errors import BadInput
from ohvault.keys.keychain import Keychain
from ohvault.model import Document, MedicationStatement, Note, Observation, RecordType
from ohvault.sync import SyncVerifyFailed
from ohvault.sync.errors import SyncRefused
from sync.conftest import new_username
from sync.devices import PASSWORD, Device, close_devices, new_device
from sync.server_proc import ServerProc


@pytest.fixture
def pair(
    tmp_path: Path, keychain: Keychain, sync_server: ServerProc
) -> Iterator[tuple[Device, Device]]:
    laptop = new_device(tmp_path, "laptop", keychain, profile="Alex Example")
    desktop = new_device(tmp_path, "desktop", keychain)
    user = new_username()
    laptop.client.enable(sync_server.url, user, PASSWORD, register=True, device_name="laptop")
    code = laptop.client.pairing_code()
    desktop.client.join(sync_server.url, user, PASSWORD, pairing_code=code, device_name="desktop")
    yield laptop, desktop
    close_devices(laptop, desktop, keychain=keychain)


def obs(profile_id: str, value: float, analyte: str = "Glucose") -> Observation:
    return Observation(
        profile_id=profile_id,
        analyte=analyte,
        value_num=value,
        unit="mg/dL",
        effective=date(2024, 3, 1),
    )


def test_second_device_gets_everything_and_edits_flow_both_ways(
    pair: tuple[Device, Device],
) -> None:
    laptop, desktop = pair
    pid = laptop.vault.repo.profiles()[0].id
    o = laptop.vault.repo.add(obs(pid, 99.0))
    content = b"%PDF-1.4 synthetic report"
    doc = Document(
        profile_id=pid,
        filename="r.pdf",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
    laptop.vault.repo.add_document(doc, content)
    laptop.client.sync()
    report = desktop.client.sync()
    assert report.pulled_records >= 3
    assert desktop.vault.repo.observations(pid)[0].value_num == 99.0
    assert desktop.vault.repo.document_content(pid, doc.id) == content
    # Desktop edits; laptop deletes a different record; both converge.
    n = laptop.vault.repo.add(Note(profile_id=pid, text="synthetic note"))
    laptop.client.sync()
    desktop.client.sync()
    o2 = desktop.vault.repo.get(Observation, pid, o.id)
    o2.value_num = 101.0
    desktop.vault.repo.update(o2)
    laptop.vault.repo.delete(RecordType.NOTE, pid, n.id)
    desktop.client.sync()
    laptop.client.sync()
    desktop.client.sync()
    assert laptop.vault.repo.get(Observation, pid, o.id).value_num == 101.0
    assert desktop.vault.repo.records(Note, pid) == []
    assert laptop.state() == desktop.state()
    assert laptop.client.status().pending_changes == 0
    assert laptop.client.conflicts() == []


def test_edits_to_different_fields_merge_and_same_field_conflicts(
    pair: tuple[Device, Device],
) -> None:
    laptop, desktop = pair
    pid = laptop.vault.repo.profiles()[0].id
    med = laptop.vault.repo.add(
        MedicationStatement(profile_id=pid, name="Metformin", dosage="500 mg")
    )
    laptop.client.sync()
    desktop.client.sync()
    # Different fields of the same record, offline on both: both edits survive.
    a = laptop.vault.repo.get(MedicationStatement, pid, med.id)
    a.dosage = "1000 mg"
    laptop.vault.repo.update(a)
    b = desktop.vault.repo.get(MedicationStatement, pid, med.id)
    b.note = "with food"
    desktop.vault.repo.update(b)
    laptop.client.sync()
    desktop.client.sync()
    laptop.client.sync()
    for d in pair:
        m = d.vault.repo.get(MedicationStatement, pid, med.id)
        assert (m.dosage, m.note) == ("1000 mg", "with food")
        assert d.client.conflicts() == []
    # The same field on both: the later edit wins, the other is kept as a conflict on both devices.
    a = laptop.vault.repo.get(MedicationStatement, pid, med.id)
    a.dosage = "750 mg"
    laptop.vault.repo.update(a)
    b = desktop.vault.repo.get(MedicationStatement, pid, med.id)
    b.dosage = "850 mg"
    desktop.vault.repo.update(b)  # later clock: wins
    laptop.client.sync()
    desktop.client.sync()
    laptop.client.sync()
    assert laptop.state() == desktop.state()
    assert laptop.vault.repo.get(MedicationStatement, pid, med.id).dosage == "850 mg"
    [conflict] = laptop.client.conflicts()
    assert conflict.fields == ["dosage"] and conflict.other["dosage"] == "750 mg"
    assert [c.id for c in desktop.client.conflicts()] == [conflict.id]
    # Resolving on one device (keep the other version) resolves it everywhere.
    desktop.client.resolve(conflict.id, "other")
    desktop.client.sync()
    laptop.client.sync()
    assert laptop.vault.repo.get(MedicationStatement, pid, med.id).dosage == "750 mg"
    assert laptop.client.conflicts() == [] and desktop.client.conflicts() == []
    assert laptop.state() == desktop.state()


def test_delete_against_edit_is_a_conflict_not_a_silent_loss(pair: tuple[Device, Device]) -> None:
    laptop, desktop = pair
    pid = laptop.vault.repo.profiles()[0].id
    o = laptop.vault.repo.add(obs(pid, 5.0))
    laptop.client.sync()
    desktop.client.sync()
    edited = desktop.vault.repo.get(Observation, pid, o.id)
    edited.note = "recheck"
    desktop.vault.repo.update(edited)
    laptop.vault.repo.delete(RecordType.OBSERVATION, pid, o.id)  # later: the delete wins
    desktop.client.sync()
    laptop.client.sync()
    desktop.client.sync()
    assert laptop.state() == desktop.state()
    assert desktop.vault.repo.observations(pid) == []
    [c] = desktop.client.conflicts()
    assert c.other["note"] == "recheck" and "deleted" in c.fields


def test_server_holds_no_plaintext(pair: tuple[Device, Device], sync_server: ServerProc) -> None:
    laptop, desktop = pair
    pid = laptop.vault.repo.profiles()[0].id
    canary = "CANARY-7f3a9-synthetic"
    laptop.vault.repo.add(Note(profile_id=pid, text=canary))
    laptop.vault.repo.add(obs(pid, 42.0, analyte=canary + "-analyte"))
    laptop.client.sync()
    desktop.client.sync(snapshot=True)
    assert desktop.vault.repo.records(Note, pid)[0].text == canary
    server_files = list(sync_server.workdir.rglob("*"))
    assert any(p.name.startswith("server.db") for p in server_files)
    for path in server_files:
        if path.is_file():
            data = path.read_bytes()
            for needle in (canary, "Alex Example", "synthetic"):
                assert needle.encode() not in data, f"{needle} found in {path.name}"
                assert needle.encode("utf-16-le") not in data


def test_wrong_pairing_code_and_reuse_are_refused(
    pair: tuple[Device, Device], tmp_path: Path, keychain: Keychain
) -> None:
    laptop, _ = pair
    third = new_device(tmp_path, "third", keychain)
    try:
        code = laptop.client.pairing_code()
        url = laptop.client.status().server_url
        user = laptop.client.status().username
        assert url and user
        # Same offer id, different secret: the unwrap fails, nothing is enabled.
        tampered = code[:12] + ("0" if code[12] != "0" else "1") + code[13:]
        with pytest.raises((SyncVerifyFailed, BadInput)):
            third.client.join(url, user, PASSWORD, pairing_code=tampered)
        assert not third.client.status().enabled
        with pytest.raises(SyncRefused):  # the offer was consumed by the failed attempt
            third.client.join(url, user, PASSWORD, pairing_code=code)
    finally:
        close_devices(third, keychain=keychain)


def test_join_with_recovery_key(
    tmp_path: Path, keychain: Keychain, sync_server: ServerProc
) -> None:
    laptop = new_device(tmp_path, "laptop", keychain, profile="Sam Synthetic")
    desktop = new_device(tmp_path, "desktop", keychain)
    try:
        user = new_username()
        with pytest.raises(Exception, match="recovery key"):
            laptop.client.enable(
                sync_server.url, user, PASSWORD, register=True, recovery_key=desktop.recovery_key
            )
        laptop.client.enable(
            sync_server.url, user, PASSWORD, register=True, recovery_key=laptop.recovery_key
        )
        laptop.client.sync()
        desktop.client.join(sync_server.url, user, PASSWORD, recovery_key=laptop.recovery_key)
        desktop.client.sync()
        assert [p.name for p in desktop.vault.repo.profiles()] == ["Sam Synthetic"]
        # A new recovery key retires the old one's power to join.
        laptop.vault.new_recovery_key()
        laptop.client.sync()
        third = new_device(tmp_path, "third", keychain)
        try:
            with pytest.raises(SyncRefused):
                third.client.join(sync_server.url, user, PASSWORD, recovery_key=laptop.recovery_key)
        finally:
            close_devices(third, keychain=keychain)
    finally:
        close_devices(laptop, desktop, keychain=keychain)


def test_sync_survives_key_rotation(pair: tuple[Device, Device]) -> None:
    laptop, desktop = pair
    pid = laptop.vault.repo.profiles()[0].id
    laptop.vault.rotate_key()
    laptop.vault.repo.add(obs(pid, 7.0))
    laptop.client.sync()
    desktop.client.sync()
    assert [o.value_num for o in desktop.vault.repo.observations(pid)] == [7.0]
