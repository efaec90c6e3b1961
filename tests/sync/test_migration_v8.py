"""Migration 8 (what a device has merged) from the version before it, and the
Repository's field-wise update that the edit dialog and undo use."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.errors import BadInput
from ohvault.keys.keychain import Keychain
from ohvault.model import MedicationStatement
from ohvault.storage.migrations import MIGRATIONS
from ohvault.storage.repository import ConcurrentEdit
from ohvault.sync.local import LocalStore
from ohvault.vault import Vault
from tests.test_migrations import build_vault_at

V8 = next(i for i, m in enumerate(MIGRATIONS) if m.version == 8)


def test_v8_from_the_version_before_adds_empty_merge_memory_and_sync_still_works(
    vault_home: Path, keychain: Keychain
) -> None:
    build_vault_at(MIGRATIONS[V8 - 1].version, vault_home, keychain)
    with Vault.open(vault_home) as vault:
        assert 8 in vault.unlock_report.migrated
        for table in ("sync_applied", "sync_versions"):
            assert vault.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0  # noqa: S608
        store = LocalStore(vault)
        store.enable(b"\2" * 32, node="n8")
        assert store.applied_seq("nothing") is None
        stats = store.apply(
            [{"t": "notes", "id": "n1", "h": "000000000000001-0000000000-x",
              "d": {"id": "n1", "profile_id": "p1", "created_at": "2024-01-01T00:00:00+00:00",
                    "updated_at": "2024-01-01T00:00:00+00:00", "provenance": "manual",
                    "deleted": 0, "text": "synthetic"}}],
            seq=1, bundle_id="b1",
        )  # fmt: skip
        assert stats.records == 1 and store.applied_seq("b1") == 1
    Vault.destroy(vault_home, keychain=keychain, with_backups=True)


def test_update_fields_writes_only_what_changed_and_refuses_a_concurrent_change(
    make_vault: MakeVault,
) -> None:
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    seen = vault.repo.add(MedicationStatement(profile_id=pid, name="M", dosage="1", note="a"))
    mine = MedicationStatement(**{**seen.__dict__, "dosage": "2", "note": "stale note"})
    # Meanwhile (a sync): the note changed.
    vault.db.execute("UPDATE medications SET note = 'b' WHERE id = ?", (seen.id,))
    vault.repo.update_fields(mine, {"dosage"}, expected=seen)
    now = vault.repo.get(MedicationStatement, pid, seen.id)
    assert (now.dosage, now.note) == ("2", "b")
    # The same field changed meanwhile: nothing is written, the field is named.
    vault.db.execute("UPDATE medications SET dosage = '3' WHERE id = ?", (seen.id,))
    again = MedicationStatement(**{**now.__dict__, "dosage": "4"})
    with pytest.raises(ConcurrentEdit) as exc:
        vault.repo.update_fields(again, {"dosage"}, expected=now)
    assert exc.value.fields == ["dosage"]
    assert vault.repo.get(MedicationStatement, pid, seen.id).dosage == "3"
    # Already the value we want (two devices made the same fix): not a conflict.
    same = MedicationStatement(**{**now.__dict__, "dosage": "3"})
    vault.repo.update_fields(same, {"dosage"}, expected=now)
    for bad, message in ((set(["nope"]), "No such field"), ({"profile_id"}, "cannot be edited")):
        with pytest.raises(BadInput, match=message):
            vault.repo.update_fields(same, bad)
