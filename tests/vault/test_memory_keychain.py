"""The in-memory KeyStore behaves as the OS keychain does for the vault, without D-Bus.

Tests that are not about the keychain may use it (the `memory_keychain` fixture); the
tests about the keychain, and the `keychain` fixture, use the real Secret Service.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FAST_KDF
from ohvault.errors import KeychainUnavailable, VaultLocked
from ohvault.keys.keychain import MemoryKeychain
from ohvault.keys.secret import SecretKey
from ohvault.vault import Credentials, UnlockMethod, Vault


def test_a_vault_unlocks_from_the_memory_keychain_and_only_from_its_own(
    vault_home: Path, memory_keychain: MemoryKeychain
) -> None:
    vault, recovery_key = Vault.create(vault_home, kdf=FAST_KDF, keychain=memory_keychain)
    vault_id = vault.vault_id
    vault.lock()
    with Vault.open(vault_home, Credentials(), keychain=memory_keychain) as again:
        assert again.unlock_report.method is UnlockMethod.KEYCHAIN
        assert again.vault_id == vault_id
    # Another (empty) store has no key for it: the vault asks for the recovery key instead.
    with pytest.raises(VaultLocked):
        Vault.open(vault_home, Credentials(), keychain=MemoryKeychain())
    with Vault.open(
        vault_home, Credentials(recovery_key=recovery_key), keychain=MemoryKeychain()
    ) as by_recovery:
        assert by_recovery.unlock_report.method is UnlockMethod.RECOVERY_KEY
    Vault.destroy(vault_home, keychain=memory_keychain, with_backups=True)
    assert memory_keychain.get(vault_id) is None  # destroying the vault forgets its key


def test_without_a_keychain_the_vault_needs_a_passphrase(vault_home: Path) -> None:
    none = MemoryKeychain(available=False)
    assert not none.status().available
    with pytest.raises(KeychainUnavailable, match="passphrase"):
        Vault.create(vault_home, kdf=FAST_KDF, keychain=none)
    vault, _ = Vault.create(
        vault_home, kdf=FAST_KDF, keychain=none, passphrase="correct horse battery"
    )
    assert vault.unlock_report.method is not UnlockMethod.KEYCHAIN
    vault.lock()
    Vault.destroy(vault_home, keychain=none, with_backups=True)


def test_get_hands_out_a_copy_the_caller_may_wipe() -> None:
    store = MemoryKeychain()
    key = SecretKey.generate()
    store.set("v1", key)
    first = store.get("v1")
    assert first == key
    assert first is not None
    first.wipe()
    assert store.get("v1") == key  # the stored key is untouched
    assert store.get("v1", slot="next") is None
    store.delete("v1")
    store.delete("v1")  # already gone: nothing to do
    assert store.get("v1") is None
    with pytest.raises(KeychainUnavailable):
        MemoryKeychain(available=False).get("v1")
