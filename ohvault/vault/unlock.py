"""Unlocking: which key opens the vault, tried keychain → passphrase → recovery key.

The data key is wrapped once per credential in the header (`keys/header.py`); during a key
rotation each wrap exists for two generations and each key wraps the other. `unlock_database`
opens the SQLCipher file with the first key that works, checks the header's MAC and reports
why earlier methods failed. Shared by `Vault.open` and restore (`vault/backup.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ohvault.errors import KeychainUnavailable, VaultCorrupt, VaultLocked, WrongKey
from ohvault.keys import recovery
from ohvault.keys.header import KeySlots, VaultHeader
from ohvault.keys.keychain import KeyStore
from ohvault.keys.secret import SecretKey
from ohvault.keys.wrap import (
    WrappedKey,
    new_salt,
    passphrase_kek,
    recovery_kek,
    unwrap,
    wrap,
)
from ohvault.storage import db as dbmod
from ohvault.storage.db import Database


class UnlockMethod(StrEnum):
    KEYCHAIN = "keychain"
    PASSPHRASE = "passphrase"  # noqa: S105 - a method name, not a secret
    RECOVERY_KEY = "recovery_key"


@dataclass
class Credentials:
    """What the user offered to unlock with, tried in the order keychain → passphrase → recovery."""

    passphrase: str | None = None
    recovery_key: str | None = None
    use_keychain: bool = True


@dataclass
class UnlockReport:
    method: UnlockMethod
    reasons: list[str] = field(default_factory=list)  # why earlier methods did not work
    migrated: list[int] = field(default_factory=list)
    finished_rotation: bool = False


def _slot_aad(header: VaultHeader, purpose: str, generation: int) -> bytes:
    return header.aad(purpose, generation)


def wrap_for_passphrase(
    header: VaultHeader, key: SecretKey, passphrase: str, generation: int
) -> WrappedKey:
    salt = new_salt()
    kek = passphrase_kek(passphrase, salt, header.kdf)
    return wrap(key, kek, salt=salt, aad=_slot_aad(header, "passphrase", generation))


def wrap_for_recovery(
    header: VaultHeader, key: SecretKey, recovery_text: str, generation: int
) -> WrappedKey:
    salt = new_salt()
    kek = recovery_kek(recovery.parse(recovery_text), salt)
    return wrap(key, kek, salt=salt, aad=_slot_aad(header, "recovery", generation))


def chain_aad(header: VaultHeader, generation: int) -> bytes:
    return _slot_aad(header, "chain", generation)


@dataclass
class UnlockedDatabase:
    header: VaultHeader
    db: Database
    db_key: SecretKey  # the key the database opened with
    opened_with_next: bool  # True when a rotation had swapped the database before a crash
    report: UnlockReport
    keychain_slot: str | None = None  # which keychain entry opened it, if any


@dataclass
class _Candidate:
    key: SecretKey
    generation: int
    method: UnlockMethod
    keychain_slot: str | None = None


def _credential_keys(
    header: VaultHeader, credentials: Credentials, keychain: KeyStore, reasons: list[str]
) -> Iterator[_Candidate]:
    gens = [header.slots] + ([header.pending.slots] if header.pending else [])
    if credentials.use_keychain:
        # "next" holds the key of a rotation in progress; after a crash late in a rotation
        # it can hold the key of the header's current generation (see Vault._tidy_keychain).
        next_generation = (
            header.pending.slots.generation if header.pending else header.slots.generation
        )
        try:
            found = False
            for slot_name, generation in (
                ("current", header.slots.generation),
                ("next", next_generation),
            ):
                key = keychain.get(header.vault_id, slot=slot_name)
                if key is not None:
                    found = True
                    yield _Candidate(key, generation, UnlockMethod.KEYCHAIN, slot_name)
            if not found:
                reasons.append("the OS keychain holds no key for this vault")
        except KeychainUnavailable as exc:
            reasons.append(exc.message)
    if credentials.passphrase is not None:
        passphrase = credentials.passphrase
        found = False
        for cand in _slot_candidates(
            header,
            gens,
            "passphrase",
            lambda wrapped: passphrase_kek(passphrase, wrapped.salt, header.kdf),
            UnlockMethod.PASSPHRASE,
        ):
            found = True
            yield cand
        if not found:
            has_slot = any(g.passphrase is not None for g in gens)
            reasons.append(
                "the passphrase is wrong" if has_slot else "this vault has no passphrase"
            )
    if credentials.recovery_key is not None:
        data = recovery.parse(credentials.recovery_key)
        found = False
        for cand in _slot_candidates(
            header,
            gens,
            "recovery",
            lambda wrapped: recovery_kek(data, wrapped.salt),
            UnlockMethod.RECOVERY_KEY,
        ):
            found = True
            yield cand
        if not found:
            reasons.append("the recovery key does not belong to this vault")


def _slot_candidates(
    header: VaultHeader,
    gens: list[KeySlots],
    purpose: str,
    make_kek: Callable[[WrappedKey], bytes],
    method: UnlockMethod,
) -> Iterator[_Candidate]:
    """The data key from the first generation whose `purpose` slot this secret unwraps."""
    what = "passphrase" if purpose == "passphrase" else "recovery key"
    for slots in gens:
        wrapped: WrappedKey | None = getattr(slots, purpose)
        if wrapped is None:
            continue
        try:
            key = unwrap(
                wrapped, make_kek(wrapped), aad=header.aad(purpose, slots.generation), what=what
            )
        except WrongKey:
            continue
        yield _Candidate(key, slots.generation, method)
        return


def _other_key(header: VaultHeader, candidate: _Candidate) -> SecretKey | None:
    """During a rotation, the key of the other generation, derived from this one."""
    pending = header.pending
    if pending is None:
        return None
    next_gen = pending.slots.generation
    try:
        if candidate.generation == next_gen:
            return unwrap(
                pending.current_by_next,
                candidate.key.raw(),
                aad=chain_aad(header, next_gen - 1),
                what="key",
            )
        return unwrap(
            pending.next_by_current,
            candidate.key.raw(),
            aad=chain_aad(header, next_gen),
            what="key",
        )
    except WrongKey:
        return None


def unlock_database(
    db_path: Path, header: VaultHeader, credentials: Credentials, keychain: KeyStore
) -> UnlockedDatabase:
    """Open the database with the first key the credentials yield, and check the header."""
    reasons: list[str] = []
    if not db_path.exists():
        raise VaultCorrupt(
            "The vault database file is missing.",
            hint="Restore it from a backup (`ohvault restore`).",
        )
    next_gen = header.pending.slots.generation if header.pending else None
    for cand in _credential_keys(header, credentials, keychain, reasons):
        keys_by_gen = {cand.generation: cand.key}
        other = _other_key(header, cand)
        if other is not None and next_gen is not None:
            keys_by_gen[next_gen - 1 if cand.generation == next_gen else next_gen] = other
        for generation, key in keys_by_gen.items():
            try:
                conn = dbmod.connect(db_path, key)
            except WrongKey:
                continue
            # The header MAC is always made with the current generation's key.
            mac_key = keys_by_gen.get(header.slots.generation)
            if mac_key is None or not header.verify(mac_key):
                conn.close()
                raise VaultCorrupt(
                    "The vault header has been modified and fails its integrity check.",
                    hint="Nothing was changed. Restore the header from a backup (`ohvault restore`).",
                )
            return UnlockedDatabase(
                header=header,
                db=Database(conn, db_path),
                db_key=key,
                opened_with_next=generation == next_gen,
                report=UnlockReport(method=cand.method, reasons=reasons),
                keychain_slot=cand.keychain_slot,
            )
        reasons.append(
            f"the key from the {cand.method.value.replace('_', ' ')} does not open the database"
        )
    if not credentials.passphrase and not credentials.recovery_key:
        raise VaultLocked(
            "The vault could not be unlocked from the OS keychain: " + "; ".join(reasons) + ".",
            hint="Unlock with your passphrase (--passphrase-stdin) or recovery key (--recovery-key-stdin).",
        )
    raise WrongKey("The vault could not be unlocked: " + "; ".join(reasons) + ".")
