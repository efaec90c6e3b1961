"""Handing the sync secret to another device: a pairing code, or a wrap under the recovery key.

The secret is wrapped and unwrapped in vault steps (see `engine.VaultSteps`), so it
never sits on the thread that talks to the server; only the wraps travel. A pairing
code is one-time and short-lived on the server; the recovery-key slot lets a device
that has the recovery key join, and is retired when the vault's recovery key changes.
"""

from __future__ import annotations

import hashlib
import secrets

from ohvault.errors import BadInput
from ohvault.keys import recovery
from ohvault.keys.wrap import recovery_kek, unwrap
from ohvault.sync.crypto import unwrap_secret, wrap_secret
from ohvault.sync.engine import require_enabled, secret_of, vault_id_of
from ohvault.sync.errors import SyncVerifyFailed
from ohvault.sync.local import LocalStore
from ohvault.vault import Vault

RECOVERY_SLOT = "recovery"
SALT_LEN = 16


def pairing_context(vault_id: str, offer: str) -> str:
    return f"pair|{vault_id}|{offer}"


def recovery_context(vault_id: str) -> str:
    return f"recovery|{vault_id}"


def check_recovery_key(vault: Vault, recovery_key: str) -> None:
    """The recovery key is this vault's (else BadInput or the unwrap's WrongKey)."""
    slot = vault.header.slots.recovery
    if slot is None:
        raise BadInput("This vault has no recovery key.")
    kek = recovery_kek(recovery.parse(recovery_key), slot.salt)
    unwrap(
        slot,
        kek,
        aad=vault.header.aad("recovery", vault.header.slots.generation),
        what="recovery key",
    )


def recovery_fingerprint(vault: Vault) -> str | None:
    """Names the vault's current recovery key (not secret): a changed key retires the slot."""
    slot = vault.header.slots.recovery
    return hashlib.sha256(slot.salt + slot.ciphertext).hexdigest() if slot else None


def wrap_for_pairing(s: LocalStore, offer: str, code_secret: bytes) -> tuple[str, bytes]:
    """(Vault step) The vault id and the sync secret wrapped under a pairing code's secret."""
    require_enabled(s)
    vault_id = vault_id_of(s)
    payload = wrap_secret(
        secret_of(s),
        code_secret,
        salt=secrets.token_bytes(SALT_LEN),
        context=pairing_context(vault_id, offer),
    )
    return vault_id, payload


def wrap_for_recovery(s: LocalStore, recovery_key: str) -> tuple[str, bytes, str | None]:
    """(Vault step) The vault id, the sync secret wrapped under the recovery key, its fingerprint."""
    require_enabled(s)
    check_recovery_key(s.vault, recovery_key)
    vault_id = vault_id_of(s)
    payload = wrap_secret(
        secret_of(s),
        recovery.parse(recovery_key),
        salt=secrets.token_bytes(SALT_LEN),
        context=recovery_context(vault_id),
    )
    return vault_id, payload, recovery_fingerprint(s.vault)


def recovery_slot_is_stale(s: LocalStore) -> bool:
    """(Vault step) A slot stored for a recovery key the vault no longer has."""
    stored = s.get("recovery_slot_fp")
    return stored is not None and stored != recovery_fingerprint(s.vault)


def unwrap_joined(wrapped: bytes, unlock_with: bytes, context: str) -> bytes:
    """The sync secret from a pairing or recovery wrap (run in the vault step that stores it)."""
    secret = unwrap_secret(wrapped, unlock_with, salt_len=SALT_LEN, context=context)
    if secret is None:
        raise SyncVerifyFailed("That code or recovery key does not unlock this vault's sync key.")
    return secret
