"""Client-side checks from issue 13: plain HTTP only to loopback, the sync engine's own bugs
reported as such (not as a bad server answer), and conflicts listed with both versions."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ohvault.keys.keychain import Keychain
from ohvault.model import MedicationStatement
from ohvault.sync import SyncAuthRequired, SyncInternalError, SyncRefused
from ohvault.sync import local as sync_local
from ohvault.sync.transport import PLAIN_HTTP_MESSAGE, Transport, check_server_url, is_loopback_host
from ohvault.vault import Vault
from sync.conftest import new_username
from sync.devices import PASSWORD, Device, close_devices, new_device
from sync.server_proc import ServerProc
from sync.test_cli_sync import Run, run_as  # noqa: F401 - the fixture

LOOPBACK = [
    "http://127.0.0.1:8443",
    "http://127.9.8.7/",
    "http://localhost:80",
    "http://LOCALHOST./v1",
    "http://[::1]:8443",
    "https://sync.example.org",
    "https://203.0.113.5:8443",
]
REFUSED = [
    "http://sync.example.org",
    "http://192.168.1.10:8443",
    "http://10.0.0.1",
    "http://localhost.example.org",
    "http://127.0.0.1.nip.io",
    "http://[::2]",
    "http://0.0.0.0:8443",
    "ftp://127.0.0.1",
    "sync.example.org",
    "https://",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_https_anywhere_and_http_to_loopback_are_accepted(url: str) -> None:
    check_server_url(url)
    Transport(url).close()


@pytest.mark.parametrize("url", REFUSED)
def test_plain_http_elsewhere_is_refused_with_the_rule_it_enforces(url: str) -> None:
    with pytest.raises(SyncRefused) as exc:
        Transport(url)
    assert PLAIN_HTTP_MESSAGE in (exc.value.message, exc.value.hint)
    # The message states exactly the rule the check applies.
    assert "localhost, 127.0.0.0/8 or ::1" in PLAIN_HTTP_MESSAGE
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1")
    assert not is_loopback_host("128.0.0.1")


def test_enable_refuses_plain_http_to_another_host_before_sending_anything(
    tmp_path: Path, keychain: Keychain
) -> None:
    d = new_device(tmp_path, "d", keychain, profile="Lee Synthetic")
    try:
        with pytest.raises(SyncRefused, match="only for this computer"):
            d.client.enable("http://sync.example.org", "u", PASSWORD, register=True)
        assert not d.client.store.enabled()
    finally:
        close_devices(d, keychain=keychain)


def _pair(tmp_path: Path, keychain: Keychain, url: str) -> tuple[Device, Device]:
    a = new_device(tmp_path, "laptop", keychain, profile="Ari Synthetic")
    b = new_device(tmp_path, "desktop", keychain)
    user = new_username()
    a.client.enable(url, user, PASSWORD, register=True)
    b.client.join(url, user, PASSWORD, pairing_code=a.client.pairing_code())
    return a, b


def _edit(d: Device, rid: str, **values: Any) -> None:
    pid = d.vault.repo.profiles()[0].id
    m = d.vault.repo.get(MedicationStatement, pid, rid)
    for k, v in values.items():
        setattr(m, k, v)
    d.vault.repo.update_fields(m, set(values))


def test_a_bug_in_local_merge_code_is_an_internal_error_with_a_traceback_in_the_log(
    tmp_path: Path,
    keychain: Keychain,
    sync_server: ServerProc,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = _pair(tmp_path, keychain, sync_server.url)
    try:
        pid = a.vault.repo.profiles()[0].id
        rid = a.vault.repo.add(MedicationStatement(profile_id=pid, name="M", dosage="1")).id
        a.client.sync()
        b.client.sync()
        _edit(a, rid, dosage="2")
        a.client.sync()
        _edit(b, rid, dosage="3")

        def broken(*_a: Any, **_k: Any) -> Any:
            return {}["a bug"]

        monkeypatch.setattr(sync_local, "three_way", broken)
        with caplog.at_level(logging.ERROR), pytest.raises(SyncInternalError) as exc:
            b.client.sync()
        assert "internal error in ohvault (KeyError)" in exc.value.message
        assert "cannot read" not in exc.value.message
        # The traceback goes to the log (in the log's own PHI-free frame format).
        # (The app's log handler may fold it into the message as frames: either form will do.)
        logged = caplog.text
        assert "KeyError" in logged and "broken" in logged and "local.py" in logged
        # Nothing half-merged: b still has its own edit pending and its cursor did not move.
        assert b.client.status().pending_changes == 1
        monkeypatch.undo()
        b.client.sync()
        assert b.client.status().last_error is None
    finally:
        close_devices(a, b, keychain=keychain)


def test_conflicts_json_shows_both_versions(
    tmp_path: Path,
    keychain: Keychain,
    sync_server: ServerProc,
    run_as: Callable[[str], Run],  # noqa: F811
) -> None:
    laptop_cli = run_as("laptop")  # same home as the device below: tmp_path / "laptop"
    a, b = _pair(tmp_path, keychain, sync_server.url)
    pid = a.vault.repo.profiles()[0].id
    rid = a.vault.repo.add(MedicationStatement(profile_id=pid, name="M", dosage="500 mg")).id
    a.client.sync()
    b.client.sync()
    _edit(b, rid, dosage="750 mg")
    b.client.sync()
    _edit(a, rid, dosage="1000 mg", note="with food")
    a.client.sync()  # a's edit is later: it wins, b's 750 mg is the other version
    a.vault.lock()
    b.vault.lock()
    code, out, err = laptop_cli("sync", "conflicts", "--json")
    assert code == 0, err
    [c] = json.loads(out)["conflicts"]
    assert c["record_id"] == rid and c["fields"] == ["dosage"]
    assert c["current"] == {"dosage": "1000 mg"} and c["other"] == {"dosage": "750 mg"}
    code, out, _ = laptop_cli("sync", "conflicts")
    assert "dosage: current '1000 mg', other '750 mg'" in out
    Vault.destroy(b.vault.files.home, keychain=keychain, with_backups=True)


def test_change_password_and_delete_account_from_the_client(
    tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> None:
    url = fresh_server.start().url
    a, b = _pair(tmp_path, keychain, url)
    try:
        with pytest.raises(SyncRefused, match="current password is wrong"):
            a.client.change_password("not my password", "a new passphrase")
        a.client.change_password(PASSWORD, "a new passphrase")
        a.client.sync()  # this session goes on
        with pytest.raises(SyncAuthRequired):
            b.client.sync()  # the other device logs in again, with the new password
        b.client.login("a new passphrase")
        b.client.sync()
        a.client.delete_account("a new passphrase")
        assert not a.client.store.enabled()
        assert a.vault.repo.profiles()  # the records stay
        with pytest.raises(SyncAuthRequired):
            b.client.sync()
    finally:
        close_devices(a, b, keychain=keychain)
