"""Change capture (schema v4, triggers only while sync is on since v10) and the three-way
merge, without a server."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.keys.secret import SecretKey
from ohvault.model import Observation
from ohvault.storage import capture
from ohvault.storage import db as dbmod
from ohvault.storage.migrations import LATEST_VERSION, migrate
from ohvault.sync.local import LocalStore
from ohvault.sync.merge import three_way


def test_capture_is_off_until_enabled_then_keeps_the_base(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    assert vault.schema_version() == LATEST_VERSION >= 4
    pid = vault.repo.profiles()[0].id
    o = vault.repo.add(
        Observation(profile_id=pid, analyte="Glucose", value_num=5.5, effective=date(2024, 1, 1))
    )
    store = LocalStore(vault)
    assert store.pending_count() == 0, "sync is off: nothing is recorded"
    store.enable(b"\1" * 32, node="n1")
    assert store.pending_count() == 2  # the profile and the observation, queued once
    vault.db.execute("DELETE FROM sync_changes")  # as if pushed
    o.value_num = 6.1
    vault.repo.update(o)
    o.value_num = 6.2
    vault.repo.update(o)
    rows = vault.db.execute("SELECT tbl, record_id, hlc FROM sync_changes").fetchall()
    assert [(t, r) for t, r, _ in rows] == [("observations", o.id)]
    base = json.loads(vault.db.execute("SELECT data FROM sync_shadow").fetchone()[0])
    assert base["value_num"] == 5.5, "the base is the version before the first unsynced edit"
    # Stamps are monotonic, fixed-width strings.
    o.note = "x"
    vault.repo.update(o)
    later = vault.db.execute("SELECT hlc FROM sync_changes").fetchone()[0]
    assert later > rows[0][2] and len(later) == len(rows[0][2])


def test_capture_triggers_exist_only_while_sync_is_on(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    assert capture.installed(vault.db) == [], "a vault that never synced carries no triggers"
    store = LocalStore(vault)
    store.enable(b"\1" * 32, node="n1")
    assert capture.installed(vault.db) == capture.trigger_names()
    store.disable()
    assert capture.installed(vault.db) == []
    vault.repo.add_many(
        [Observation(profile_id=pid, analyte="Glucose", value_num=5.0, effective=date(2024, 1, 1))]
    )
    assert store.pending_count() == 0, "sync is off again: nothing is recorded"
    store.enable(b"\2" * 32, node="n2")
    assert store.pending_count() == 2  # what is in the vault is queued once, as on first enable
    vault.db.execute("DELETE FROM sync_changes")
    vault.repo.add(
        Observation(profile_id=pid, analyte="Sodium", value_num=140, effective=date(2024, 1, 2))
    )
    assert store.pending_count() == 1, "turned on again, the triggers record new rows"


@pytest.mark.parametrize("syncing", [False, True])
def test_v10_keeps_capture_triggers_only_for_a_vault_that_syncs(
    tmp_path: Path, syncing: bool
) -> None:
    path = tmp_path / "vault.db"
    db = dbmod.Database(dbmod.connect(path, SecretKey.generate(), create=True), path)
    try:
        migrate(db, target=9)
        assert capture.installed(db) == capture.trigger_names(), "before v10 they always exist"
        db.execute(
            "INSERT INTO profiles (id, name, created_at, updated_at) VALUES "
            "('p1', 'Old Timer', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')"
        )
        if syncing:
            db.execute("UPDATE sync_clock SET enabled = 1, node = 'n1' WHERE id = 1")
        db.execute("DELETE FROM sync_changes")
        assert 10 in migrate(db)
        assert capture.installed(db) == (capture.trigger_names() if syncing else [])
        db.execute("UPDATE profiles SET name = 'Renamed' WHERE id = 'p1'")
        pending = db.execute("SELECT count(*) FROM sync_changes").fetchone()[0]
        assert pending == (1 if syncing else 0)
    finally:
        db.close()


def test_three_way_merge() -> None:
    base = {"id": "r", "a": 1, "b": 1, "deleted": 0, "updated_at": "t0"}
    ours = {**base, "a": 2, "updated_at": "t1"}
    theirs = {**base, "b": 3, "updated_at": "t2"}
    r = three_way(base, ours, theirs, our_hlc="1", their_hlc="2")
    assert r.merged == {"id": "r", "a": 2, "b": 3, "deleted": 0, "updated_at": "t2"}
    assert r.conflict_fields == [] and r.local_pending
    clash = three_way(base, {**base, "a": 5}, {**base, "a": 6}, our_hlc="9", their_hlc="2")
    assert clash.conflict_fields == ["a"] and clash.merged["a"] == 5 and clash.local_wins
    gone = three_way(base, {**base, "deleted": 1}, {**base, "b": 7}, our_hlc="1", their_hlc="2")
    assert set(gone.conflict_fields) == {"b", "deleted"} and gone.merged["deleted"] == 0
    # Floats printed by SQLite's json_object with 15 digits still compare equal.
    assert (
        three_way(
            {**base, "a": 0.1 + 0.2},
            {**base, "a": 0.3},
            base | {"a": 0.1 + 0.2},
            our_hlc="1",
            their_hlc="2",
        ).conflict_fields
        == []
    )
