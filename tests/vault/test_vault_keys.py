"""Creating, unlocking and re-keying a vault with the real keychain and real SQLCipher files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import FAST_KDF, MakeVault
from ohvault.errors import (
    BadInput,
    KeychainUnavailable,
    SchemaTooNew,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    WrongKey,
)
from ohvault.keys.keychain import Keychain
from ohvault.model import Observation
from ohvault.vault import Credentials, UnlockMethod, Vault

NO_KEYCHAIN = Credentials(use_keychain=False)


def snapshot(home: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.iterdir())
        if p.is_file()
    }


def test_new_vault_unlocks_from_keychain_with_raw_key(
    make_vault: MakeVault, keychain: Keychain
) -> None:
    vault, _ = make_vault()
    vault_id = vault.vault_id
    stored = keychain.get(vault_id)
    assert stored is not None and len(stored.raw()) == 32
    home = vault.files.home
    vault.lock()
    assert vault.locked
    with Vault.open(home) as again:
        assert again.unlock_report.method is UnlockMethod.KEYCHAIN
        assert again.repo.profiles()[0].name == "Test Person"


def test_header_holds_no_phi_and_wraps(make_vault: MakeVault) -> None:
    vault, _ = make_vault(profile_name="Zelda Canaryname", passphrase="correct horse battery")
    raw = vault.files.header.read_text()
    assert "Zelda" not in raw
    data = json.loads(raw)
    assert data["kdf"]["algorithm"] == "argon2id"
    assert data["slots"]["passphrase"] and data["slots"]["recovery"]


def test_passphrase_and_recovery_unlock_without_keychain(make_vault: MakeVault) -> None:
    vault, recovery_text = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.lock()
    with Vault.open(home, Credentials(passphrase="correct horse battery", use_keychain=False)) as v:
        assert v.unlock_report.method is UnlockMethod.PASSPHRASE
    with Vault.open(home, Credentials(recovery_key=recovery_text, use_keychain=False)) as v:
        assert v.unlock_report.method is UnlockMethod.RECOVERY_KEY


def test_wrong_passphrase_and_recovery_key_change_nothing(make_vault: MakeVault) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.lock()
    before = snapshot(home)
    with pytest.raises(WrongKey, match="passphrase is wrong"):
        Vault.open(home, Credentials(passphrase="wrong horse battery", use_keychain=False))
    other = "0000-0000-0000-0000-0000-0000-0000-0000-" + "0000"
    from ohvault.keys import recovery

    other = recovery.format_key(bytes(20))
    with pytest.raises(WrongKey, match="recovery key"):
        Vault.open(home, Credentials(recovery_key=other, use_keychain=False))
    with pytest.raises(BadInput, match="typo"):
        Vault.open(
            home,
            Credentials(
                recovery_key=other[:-1] + ("Z" if other[-1] != "Z" else "Y"), use_keychain=False
            ),
        )
    assert snapshot(home) == before


def test_no_credentials_explains_why(make_vault: MakeVault, keychain: Keychain) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    keychain.delete(vault.vault_id)
    vault.lock()
    with pytest.raises(VaultLocked, match="holds no key") as info:
        Vault.open(home)
    assert "--passphrase-stdin" in (info.value.hint or "")


def test_keychain_unavailable_falls_back_to_passphrase(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.lock()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    keyring.core.init_backend()
    try:
        with pytest.raises(VaultLocked, match="keychain cannot be used"):
            Vault.open(home)
        with Vault.open(home, Credentials(passphrase="correct horse battery")) as v:
            assert v.unlock_report.method is UnlockMethod.PASSPHRASE
            assert any("keychain cannot be used" in r for r in v.unlock_report.reasons)
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keyring.core.init_backend()


@pytest.mark.parametrize(
    "backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"]
)
def test_untrusted_backends_count_as_no_keychain(
    backend: str, vault_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    import keyring.core

    keyring.core.init_backend()
    try:
        assert not Keychain().status().available
        with pytest.raises(KeychainUnavailable, match="passphrase"):
            Vault.create(vault_home, kdf=FAST_KDF)
        vault, _ = Vault.create(vault_home, kdf=FAST_KDF, passphrase="correct horse battery")
        assert vault.unlock_report.method is not UnlockMethod.KEYCHAIN
        vault.lock()
        Vault.destroy(vault_home)
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keyring.core.init_backend()


def test_create_refuses_existing_vault_and_short_passphrase(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, _ = make_vault()
    with pytest.raises(VaultExists):
        Vault.create(vault.files.home, kdf=FAST_KDF)
    with pytest.raises(BadInput, match="at least 8"):
        Vault.create(tmp_path / "other", kdf=FAST_KDF, passphrase="short")


def test_truncated_and_empty_database_is_reported_not_migrated(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    db = home / "vault.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 100])
    with pytest.raises(VaultCorrupt, match="truncated or damaged"):
        Vault.open(home)
    db.write_bytes(b"")
    with pytest.raises(VaultCorrupt, match="empty"):
        Vault.open(home)
    assert db.read_bytes() == b""  # nothing was created in its place


def test_tampered_header_is_detected(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    header = json.loads(vault.files.header.read_text())
    header["kind"] = "clinician"
    vault.files.header.write_text(json.dumps(header))
    before = snapshot(home)
    with pytest.raises(VaultCorrupt, match="modified"):
        Vault.open(home)
    vault.files.header.write_text("{not json")
    with pytest.raises(VaultCorrupt, match="damaged"):
        Vault.open(home)
    assert snapshot(home)["vault.db"] == before["vault.db"]


def test_newer_schema_is_refused(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    vault.db.execute("PRAGMA user_version = 999")
    home = vault.files.home
    vault.lock()
    with pytest.raises(SchemaTooNew, match="newer"):
        Vault.open(home)


def test_change_passphrase_and_recovery_key(make_vault: MakeVault) -> None:
    vault, old_recovery = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.change_passphrase("a new passphrase!")
    new_recovery = vault.new_recovery_key()
    vault.lock()
    with pytest.raises(WrongKey):
        Vault.open(home, Credentials(passphrase="correct horse battery", use_keychain=False))
    with pytest.raises(WrongKey):
        Vault.open(home, Credentials(recovery_key=old_recovery, use_keychain=False))
    Vault.open(home, Credentials(passphrase="a new passphrase!", use_keychain=False)).lock()
    Vault.open(home, Credentials(recovery_key=new_recovery, use_keychain=False)).lock()


def test_rotate_key_changes_database_key_and_keeps_data(
    make_vault: MakeVault, keychain: Keychain
) -> None:
    vault, old_recovery = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    profile = vault.repo.profiles()[0]
    vault.repo.add(
        Observation(
            profile_id=profile.id,
            analyte="Glucose",
            value_num=5.1,
            unit="mmol/L",
            effective=__import__("datetime").date(2026, 1, 2),
        )
    )
    old_key_hex = keychain.get(vault.vault_id).hex()  # type: ignore[union-attr]
    with pytest.raises(WrongKey):
        vault.rotate_key("not the passphrase")
    new_recovery = vault.rotate_key("correct horse battery")
    assert keychain.get(vault.vault_id).hex() != old_key_hex  # type: ignore[union-attr]
    assert vault.audit.verify().ok
    vault.lock()
    from ohvault.keys.secret import SecretKey
    from ohvault.storage.db import key_opens

    assert not key_opens(home / "vault.db", SecretKey.from_hex(old_key_hex))
    with pytest.raises(WrongKey):
        Vault.open(home, Credentials(recovery_key=old_recovery, use_keychain=False))
    for creds in (
        Credentials(),
        Credentials(passphrase="correct horse battery", use_keychain=False),
        Credentials(recovery_key=new_recovery, use_keychain=False),
    ):
        with Vault.open(home, creds) as v:
            assert len(v.repo.observations(profile.id)) == 1
            assert v.audit.verify().ok


@pytest.mark.parametrize("crash_after", ["header", "copy", "swap"])
@pytest.mark.parametrize("unlock", ["keychain", "passphrase", "recovery"])
def test_rotation_interrupted_at_any_point_still_opens(
    make_vault: MakeVault, crash_after: str, unlock: str
) -> None:
    from ohvault.vault import CrashForTesting

    vault, recovery_text = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    profile = vault.repo.profiles()[0]
    vault.repo.add(
        Observation(
            profile_id=profile.id,
            analyte="Sodium",
            value_num=140,
            unit="mmol/L",
            effective=__import__("datetime").date(2026, 1, 2),
        )
    )
    with pytest.raises(CrashForTesting):
        vault.rotate_key("correct horse battery", _crash_after=crash_after)
    vault.db.close()  # the "process" died; its connection and its vault lock go with it
    vault._vault_lock.release()
    creds = {
        "keychain": Credentials(),
        "passphrase": Credentials(passphrase="correct horse battery", use_keychain=False),
        "recovery": Credentials(recovery_key=recovery_text, use_keychain=False),
    }[unlock]
    with Vault.open(home, creds) as v:
        assert [o.analyte for o in v.repo.observations(profile.id)] == ["Sodium"]
        assert v.header.pending is None
        assert v.audit.verify().ok
        assert v.header.recovery_unconfirmed == (crash_after == "swap")
    # And once more, from the keychain, after the rotation settled.
    Vault.open(home).lock()


def test_lock_wipes_key_and_closes_database(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    key = vault.data_key()
    vault.lock()
    assert key.wiped
    with pytest.raises(VaultLocked):
        vault.data_key()
    with pytest.raises(Exception, match="closed"):
        vault.db.execute("SELECT 1")


def test_destroy_removes_database_header_and_keychain_entry(
    make_vault: MakeVault, keychain: Keychain
) -> None:
    vault, _ = make_vault()
    home, vault_id = vault.files.home, vault.vault_id
    vault.lock()
    Vault.destroy(home, keychain=keychain)
    assert not (home / "vault.db").exists() and not (home / "vault.header.json").exists()
    assert keychain.get(vault_id) is None


def test_crash_between_header_and_keychain_update_is_repaired(
    make_vault: MakeVault, keychain: Keychain
) -> None:
    """The header and database moved to the new key, the keychain's current entry did not."""
    vault, _ = make_vault()
    home, vault_id = vault.files.home, vault.vault_id
    old = keychain.get(vault_id)
    vault.rotate_key()
    new = keychain.get(vault_id)
    assert old is not None and new is not None and old != new
    vault.lock()
    keychain.set(vault_id, old)  # as if the process died before updating "current"
    keychain.set(vault_id, new, slot="next")
    with Vault.open(home, auto_backup=False) as v:
        assert v.unlock_report.method is UnlockMethod.KEYCHAIN
    assert keychain.get(vault_id) == new
    assert keychain.get(vault_id, slot="next") is None


def test_keychain_call_retries_one_hiccup_then_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Secret Service daemon may answer one call with a D-Bus error (seen in CI)."""
    from ohvault.errors import KeychainUnavailable
    from ohvault.keys import keychain as keychain_module

    monkeypatch.setattr(keychain_module, "_RETRY_DELAY_S", 0)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise LookupError("Object does not exist at path")
        return "ok"

    assert Keychain._call(flaky, "failed") == "ok"
    assert len(calls) == 2

    def broken() -> str:
        raise LookupError("still gone")

    with pytest.raises(KeychainUnavailable, match=r"failed \(LookupError\)"):
        Keychain._call(broken, "failed")
