"""A hostile or broken server cannot roll records back, and a lost answer plus compaction
cannot undo a later correction. Every test runs a real server on 127.0.0.1 and plays the
malicious server by changing its own database, exactly as a compromised operator could."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ohvault.keys.keychain import Keychain
from ohvault.model import MedicationStatement
from ohvault.sync import SyncRefused, SyncVerifyFailed
from ohvault.sync.hlc import Hlc
from sync.conftest import new_username
from sync.devices import PASSWORD, Device, close_devices, new_device
from sync.server_proc import ServerProc
from sync.tcp_proxy import Proxy

pytestmark = pytest.mark.slow


@pytest.fixture
def trio(
    tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> Iterator[tuple[ServerProc, Device, Device]]:
    fresh_server.start()
    a = new_device(tmp_path, "a", keychain, profile="Robin Synthetic")
    b = new_device(tmp_path, "b", keychain)
    user = new_username()
    a.client.enable(fresh_server.url, user, PASSWORD, register=True)
    b.client.join(fresh_server.url, user, PASSWORD, pairing_code=a.client.pairing_code())
    yield fresh_server, a, b
    close_devices(a, b, keychain=keychain)


def server_db(server: ServerProc) -> sqlite3.Connection:
    return sqlite3.connect(server.database_url.removeprefix("sqlite:///"), isolation_level=None)


def dosage(d: Device, rid: str) -> str | None:
    row = d.vault.db.execute("SELECT dosage FROM medications WHERE id = ?", (rid,)).fetchone()
    return None if row is None else str(row[0])


def add_med(d: Device, value: str) -> str:
    pid = d.vault.repo.profiles()[0].id
    return d.vault.repo.add(MedicationStatement(profile_id=pid, name="Med", dosage=value)).id


def set_dosage(d: Device, rid: str, value: str) -> None:
    pid = d.vault.repo.profiles()[0].id
    m = d.vault.repo.get(MedicationStatement, pid, rid)
    m.dosage = value
    d.vault.repo.update_fields(m, {"dosage"})


def reserve(server: ServerProc, seq: int) -> int:
    """The server appends a copy of the bundle at `seq` to the end of its log."""
    with server_db(server) as conn:
        vault_id, head = conn.execute("SELECT id, head FROM vaults").fetchone()
        row = conn.execute(
            "SELECT bundle_id, device_id, created_at, size, payload FROM bundles "
            "WHERE vault_id = ? AND seq = ?",
            (vault_id, seq),
        ).fetchone()
        # The log's unique (vault, bundle id) would refuse a plain copy; a hostile server
        # has no such scruples, so drop the original first (as compaction would).
        conn.execute("DELETE FROM bundles WHERE vault_id = ? AND seq = ?", (vault_id, seq))
        conn.execute(
            "INSERT INTO bundles (vault_id, seq, bundle_id, device_id, created_at, size, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (vault_id, head + 1, *row),
        )
        conn.execute("UPDATE vaults SET head = ? WHERE id = ?", (head + 1, vault_id))
    return int(head + 1)


def test_old_bundle_served_again_is_refused_and_changes_nothing(
    trio: tuple[ServerProc, Device, Device],
) -> None:
    server, a, b = trio
    rid = add_med(a, "10 mg")
    a.client.sync()  # seq 1: profile + medication
    set_dosage(a, rid, "20 mg")
    a.client.sync()  # seq 2: the correction
    b.client.sync()
    assert dosage(b, rid) == "20 mg"
    at = reserve(server, 1)
    with pytest.raises(SyncRefused, match=r"sent bundle .* again") as exc:
        b.client.sync()
    assert f"now offered at {at}" in exc.value.message
    assert dosage(b, rid) == "20 mg"
    assert b.client.store.cursor == 2
    assert b.client.status().state == "error"


def test_bundle_moved_to_another_place_in_the_log_fails_verification(
    trio: tuple[ServerProc, Device, Device],
) -> None:
    server, a, b = trio
    rid = add_med(a, "10 mg")
    a.client.sync()
    set_dosage(a, rid, "20 mg")
    a.client.sync()
    # b has merged nothing yet: the server swaps the two bundles' places (ids stay with
    # their payloads), so the old value would be applied last.
    with server_db(server) as conn:
        conn.execute("UPDATE bundles SET seq = -seq")
        conn.execute("UPDATE bundles SET seq = CASE seq WHEN -1 THEN 2 ELSE 1 END")
    with pytest.raises(SyncVerifyFailed, match="another place in the log"):
        b.client.sync()
    assert dosage(b, rid) is None and b.client.store.cursor == 0


def test_server_skipping_part_of_the_log_is_refused(
    trio: tuple[ServerProc, Device, Device],
) -> None:
    server, a, b = trio
    add_med(a, "10 mg")
    a.client.sync()
    add_med(a, "5 mg")
    a.client.sync()
    with server_db(server) as conn:
        conn.execute("DELETE FROM bundles WHERE seq = 1")
    with pytest.raises(SyncRefused, match="skipped part of its log"):
        b.client.sync()


def test_an_older_change_never_overwrites_a_newer_one(
    trio: tuple[ServerProc, Device, Device],
) -> None:
    _, a, b = trio
    rid = add_med(a, "10 mg")
    a.client.sync()
    b.client.sync()
    held = b.vault.db.execute(
        "SELECT hlc FROM sync_versions WHERE tbl = 'medications' AND record_id = ?", (rid,)
    ).fetchone()[0]
    older = Hlc.parse(held)
    older_stamp = str(Hlc(older.wall - 1, 0, older.node))
    row = dict(
        zip(
            b.client.store.columns("medications"),
            b.vault.db.execute("SELECT * FROM medications WHERE id = ?", (rid,)).fetchone(),
            strict=True,
        )
    )
    stats = b.client.store.apply(
        [{"t": "medications", "id": rid, "h": older_stamp, "d": {**row, "dosage": "1 mg"}}],
        seq=None,
    )
    assert stats.stale == 1 and stats.records == 0
    assert dosage(b, rid) == "10 mg"


def test_lost_push_answer_then_compaction_does_not_undo_a_later_correction(
    tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> None:
    """The issue's first silent loss, step by step, through a real proxy that drops an answer."""
    fresh_server.start()
    proxy = Proxy(fresh_server.port)
    a = new_device(tmp_path, "a", keychain, profile="Sam Synthetic")
    b = new_device(tmp_path, "b", keychain)
    try:
        user = new_username()
        a.client.enable(proxy.url, user, PASSWORD, register=True)
        b.client.join(fresh_server.url, user, PASSWORD, pairing_code=a.client.pairing_code())
        rid = add_med(a, "10 mg")
        a.client.sync()
        b.client.sync()
        set_dosage(a, rid, "100 mg")  # a typo
        proxy.drop_next_push_response = True
        a.client._max_attempts = 1  # the device dies before it hears back
        with pytest.raises(Exception):  # noqa: B017 - offline or refused: either way, no answer
            a.client.sync(snapshot=False)
        assert a.client.store.outbox() is not None, "the push stays unconfirmed on a"
        b.client.sync(snapshot=False)
        assert dosage(b, rid) == "100 mg"
        set_dosage(b, rid, "10 mg")  # b corrects it back to what it was
        b.client.sync(snapshot=True)  # and the log is compacted past a's push
        a.client._max_attempts = 3
        report = a.client.sync(snapshot=False)
        assert report.loaded_snapshot
        b.client.sync(snapshot=False)
        assert dosage(a, rid) == dosage(b, rid) == "10 mg"
        assert a.client.status().pending_changes == 0
        assert a.client.conflicts() == []
    finally:
        proxy.close()
        close_devices(a, b, keychain=keychain)
