"""The vault: create, unlock, lock, re-key and delete one encrypted health vault.

A vault is a directory holding `vault.db` (SQLCipher, raw 256-bit data key),
`vault.header.json` (the data key wrapped by passphrase and recovery key, no
PHI) and `backups/`. The data key itself lives in the OS keychain.

Unlock order: keychain → passphrase → recovery key (`vault/unlock.py`). Every step that
fails is remembered and reported, so a person learns why the keychain could not help.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ohvault import paths
from ohvault.atomic import fsync_dir
from ohvault.changes import Change, changes
from ohvault.device import device_id
from ohvault.errors import (
    BadInput,
    KeychainUnavailable,
    OhvaultError,
    VaultBusy,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WrongKey,
)
from ohvault.keys import recovery
from ohvault.keys.header import KeySlots, PendingRotation, VaultHeader
from ohvault.keys.keychain import Keychain, KeyStore
from ohvault.keys.secret import SecretKey
from ohvault.keys.wrap import (
    KdfParams,
    passphrase_kek,
    unwrap,
    wrap,
)
from ohvault.model import Profile
from ohvault.storage import db as dbmod
from ohvault.storage.audit import AuditLog
from ohvault.storage.db import Database
from ohvault.storage.migrations import LATEST_VERSION, check_not_newer, current_version, migrate
from ohvault.storage.repository import Repository
from ohvault.storage.vault_lock import SHARED_WAIT_SECONDS, VaultLock, hold_exclusive
from ohvault.vault.defaults import MIN_PASSPHRASE_LENGTH
from ohvault.vault.files import VaultFiles
from ohvault.vault.unlock import (
    Credentials,
    UnlockedDatabase,
    UnlockReport,
    chain_aad,
    unlock_database,
    wrap_for_passphrase,
    wrap_for_recovery,
)

log = logging.getLogger(__name__)


def check_passphrase_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise BadInput(f"A passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters.")


class Vault:
    """An unlocked vault. `lock()` closes the database and wipes the key."""

    def __init__(
        self,
        files: VaultFiles,
        header: VaultHeader,
        key: SecretKey,
        db: Database,
        keychain: KeyStore,
        report: UnlockReport,
        vault_lock: VaultLock | None = None,
    ) -> None:
        self.files = files
        # Held shared while this object is open (see storage/vault_lock.py).
        self._vault_lock = vault_lock or VaultLock(files.home)
        self.header = header
        self._key = key
        self.db = db
        self.keychain = keychain
        self.unlock_report = report
        self.device = device_id()
        self.audit = AuditLog(db, key, self.device)
        self.audit.anchor = self._audit_anchor
        self.repo = Repository(db, self.audit)

    # --- properties ----------------------------------------------------------------

    @property
    def vault_id(self) -> str:
        return self.header.vault_id

    @property
    def kind(self) -> str:
        return self.header.kind

    @property
    def is_clinician(self) -> bool:
        return self.header.kind == "clinician"

    @property
    def locked(self) -> bool:
        return self._key.wiped

    def data_key(self) -> SecretKey:
        """The data key, for derived keys (audit chain, sync, identity). Never log or store it."""
        if self.locked:
            raise VaultLocked("The vault is locked.")
        return self._key

    def schema_version(self) -> int:
        return current_version(self.db)

    # --- creation ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        home: Path | None = None,
        *,
        passphrase: str | None = None,
        profile_name: str | None = None,
        kind: str = "patient",
        keychain: KeyStore | None = None,
        kdf: KdfParams | None = None,
    ) -> tuple[Vault, str]:
        """A new vault and its recovery key (to show once)."""
        files = VaultFiles(home or paths.vault_home())
        keychain = keychain or Keychain()
        if files.exists():
            raise VaultExists(
                f"A vault already exists at {files.home}.",
                hint="Use it, or set OHVAULT_HOME to create another one elsewhere.",
            )
        if kind not in ("patient", "clinician"):
            raise BadInput("A vault is either a patient or a clinician vault.")
        keychain_ok = keychain.status().available
        if not keychain_ok and not passphrase:
            raise KeychainUnavailable(
                "No OS keychain is available to hold the vault key.",
                hint="Set a passphrase (--passphrase-stdin) so that you can unlock the vault.",
            )
        if passphrase is not None:
            check_passphrase_strength(passphrase)
        paths.ensure_private_dir(files.home)
        creating = hold_exclusive(files.home)
        try:
            if files.exists():  # made by another process since the check above
                raise VaultExists(f"A vault already exists at {files.home}.")
            vault_id, recovery_text, key = cls._create_files(
                files, passphrase, profile_name, kind, kdf
            )
        finally:
            creating.release()
        if keychain_ok:
            try:
                keychain.set(vault_id, key)
            except KeychainUnavailable:
                if not passphrase:
                    cls.destroy(files.home, keychain=keychain)
                    raise
                log.warning("keychain refused the key; the vault will unlock by passphrase")
        vault = cls.open(
            files.home,
            Credentials(passphrase=passphrase, recovery_key=recovery_text),
            keychain=keychain,
            auto_backup=False,
        )
        return vault, recovery_text

    @staticmethod
    def _create_files(
        files: VaultFiles,
        passphrase: str | None,
        profile_name: str | None,
        kind: str,
        kdf: KdfParams | None,
    ) -> tuple[str, str, SecretKey]:
        import uuid

        vault_id = str(uuid.uuid4())
        key = SecretKey.generate()
        recovery_text = recovery.generate()
        header = VaultHeader.new(vault_id, kind, kdf or KdfParams(), KeySlots(generation=1))
        slots = KeySlots(
            generation=1,
            passphrase=wrap_for_passphrase(header, key, passphrase, 1) if passphrase else None,
            recovery=wrap_for_recovery(header, key, recovery_text, 1),
        )
        header = replace(header, slots=slots).signed(key)

        scratch = files.scratch("creating")
        scratch.unlink(missing_ok=True)
        conn = dbmod.connect(scratch, key, create=True)
        db = Database(conn, scratch)
        try:
            migrate(db)
            with db.transaction():
                db.execute("INSERT INTO meta(key, value) VALUES ('vault_id', ?)", (vault_id,))
                db.execute("INSERT INTO meta(key, value) VALUES ('kind', ?)", (kind,))
                audit = AuditLog(db, key, device_id())
                audit.append("vault.create", detail=f"kind={kind}")
                if profile_name:
                    Repository(db, audit).add_profile(Profile(name=profile_name))
        finally:
            db.close()
        os.chmod(scratch, 0o600)
        header.save(files.header)
        os.replace(scratch, files.db)
        fsync_dir(files.home)
        return vault_id, recovery_text, key

    # --- unlocking -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        home: Path | None = None,
        credentials: Credentials | None = None,
        *,
        keychain: KeyStore | None = None,
        auto_backup: bool = True,
        keep_restore_copy: bool = False,
    ) -> Vault:
        """Unlock the vault at `home`. An unlock removes the copy a restore kept of the vault
        it replaced, except the reopen that is part of the restore (`keep_restore_copy`)."""
        files = VaultFiles(home or paths.vault_home())
        credentials = credentials or Credentials()
        keychain = keychain or Keychain()
        if not files.exists():
            raise VaultNotFound(
                f"No vault at {files.home}.",
                hint="Create one with `ohvault init` (or set OHVAULT_HOME).",
            )
        from ohvault.vault.backup import recover_interrupted_restore

        vault_lock = VaultLock(files.home)
        try:
            if files.restore_journal.exists():
                # A restore crashed mid-swap: roll it back alone. Several openers may want to
                # at once, so wait for the exclusive lock instead of failing.
                vault_lock.acquire_exclusive(wait=SHARED_WAIT_SECONDS)
                recover_interrupted_restore(files)
                vault_lock.downgrade()
            else:
                vault_lock.acquire_shared()
            header = VaultHeader.load(files.header)
            unlocked = unlock_database(files.db, header, credentials, keychain)
        except BaseException:
            vault_lock.release()
            raise
        vault = cls(
            files,
            unlocked.header,
            unlocked.db_key,
            unlocked.db,
            keychain,
            unlocked.report,
            vault_lock,
        )
        try:
            if vault.header.pending is not None:
                # Settling rewrites the header: only when no other process has the vault open
                # (one that has will have settled it, or the next sole opener will).
                with contextlib.suppress(VaultBusy), vault_lock.exclusive():
                    vault._settle_rotation(unlocked)
            vault._tidy_keychain(unlocked)
            vault._migrate_if_needed()
            vault.audit.append("unlock", detail=f"method={unlocked.report.method.value}")
            if not keep_restore_copy:
                vault._drop_safety_copy()
            if auto_backup:
                from ohvault.vault.backup import run_scheduled_backup

                with contextlib.suppress(OhvaultError, OSError):
                    run_scheduled_backup(vault)
        except BaseException:
            vault.lock()
            raise
        return vault

    def _settle_rotation(self, unlocked: UnlockedDatabase) -> None:
        """Finish or discard a key rotation a crash interrupted."""
        pending = self.header.pending
        if pending is None:
            return
        if unlocked.opened_with_next:
            # The database already runs on the next key; the new recovery key may never
            # have been shown, so the header asks the user to issue a fresh one.
            self.header = replace(
                self.header, slots=pending.slots, pending=None, recovery_unconfirmed=True
            ).signed(self._key)
            self.header.save(self.files.header)
            self.unlock_report.finished_rotation = True
            self._store_in_keychain(self._key)
            self.audit.append("key.rotate.finish")
        else:
            self.header = replace(self.header, pending=None).signed(self._key)
            self.header.save(self.files.header)
        with contextlib.suppress(KeychainUnavailable):
            self.keychain.delete(self.vault_id, slot="next")

    def _tidy_keychain(self, unlocked: UnlockedDatabase) -> None:
        """After a rotation that crashed between header and keychain updates, the working key
        sits in the "next" entry: promote it to the current one."""
        if unlocked.keychain_slot != "next" or self.unlock_report.finished_rotation:
            return
        try:
            self.keychain.set(self.vault_id, self._key)
            self.keychain.delete(self.vault_id, slot="next")
        except KeychainUnavailable:
            log.warning("could not tidy the keychain entries after an interrupted rotation")

    def _migrate_if_needed(self) -> None:
        version = current_version(self.db)
        check_not_newer(version)
        if version < LATEST_VERSION:
            from ohvault.vault.backup import create_backup

            create_backup(
                self, self.files.backups / f"pre-migration-v{version}-{int(time.time())}.ohvbackup"
            )
            applied = migrate(self.db)
            self.unlock_report.migrated = applied
            self.audit.append("schema.migrate", detail=f"from={version} to={LATEST_VERSION}")

    def _store_in_keychain(self, key: SecretKey, slot: str = "current") -> bool:
        try:
            if self.keychain.status().available:
                self.keychain.set(self.vault_id, key, slot=slot)
                return True
        except KeychainUnavailable:
            log.warning("could not update the keychain entry")
        return False

    def _drop_safety_copy(self) -> None:
        """After an unlock, the vault a restore replaced is no longer needed (see backup.py)."""
        from ohvault.vault.backup import drop_safety_copy

        try:
            drop_safety_copy(self.files)
        except OSError:
            log.warning("could not remove the copy kept from before a restore")

    def lock(self) -> None:
        """Close the database and wipe the key. Idempotent."""
        if self.locked:
            return
        with contextlib.suppress(Exception):
            self.audit.append("lock")
        try:
            self._record_audit_head()
        except (OhvaultError, OSError, dbmod.DatabaseError):
            log.warning("could not record the audit chain's head in the header")
        with contextlib.suppress(Exception):
            self.db.close()
        self._key.wipe()
        self.audit.wipe()
        self._vault_lock.release()

    # --- the audit chain's head, bound into the header's MAC -------------------------------

    def _record_audit_head(self) -> None:
        """Write the chain's last entry (seq and digest) into the MAC-covered header.

        A plain SQL delete of trailing entries (and of the head kept in the database) then
        still shows: `audit verify` finds the entry the header names missing or different.
        The header on disk is the base, so another process's header change is kept.
        """
        with self._vault_lock.header_update():
            on_disk = VaultHeader.load(self.files.header)
            if not on_disk.verify(self._key):
                return
            recorded = on_disk.extra.get("audit_head")
            anchor = self._next_anchor(recorded if isinstance(recorded, dict) else None)
            if anchor == recorded:
                return
            self.header = replace(on_disk, extra={**on_disk.extra, "audit_head": anchor}).signed(
                self._key
            )
            self.header.save(self.files.header)

    def _next_anchor(self, recorded: dict[str, Any] | None) -> dict[str, Any] | None:
        return self.audit.next_anchor(recorded)

    def _audit_anchor(self) -> tuple[int, str] | None:
        """The head the header on disk records (VaultCorrupt if the header fails its MAC)."""
        on_disk = VaultHeader.load(self.files.header)
        if on_disk.pending is not None:
            return None  # an unfinished rotation: the header is signed with the other key
        if not on_disk.verify(self._key):
            raise VaultCorrupt("The vault header fails its integrity check.")
        head = on_disk.extra.get("audit_head")
        if not isinstance(head, dict):
            return None
        return int(head["seq"]), str(head["digest"])

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # --- key management --------------------------------------------------------------------

    def verify_passphrase(self, passphrase: str) -> bool:
        slot = self.header.slots.passphrase
        if slot is None:
            return False
        kek = passphrase_kek(passphrase, slot.salt, self.header.kdf)
        try:
            unwrap(
                slot,
                kek,
                aad=self.header.aad("passphrase", self.header.slots.generation),
                what="passphrase",
            )
        except WrongKey:
            return False
        return True

    @changes(Change.SETTINGS)
    def change_passphrase(self, new_passphrase: str | None) -> None:
        """Set, change or (with a keychain) remove the passphrase."""
        if new_passphrase is None:
            if not self.keychain.status().available:
                raise BadInput(
                    "Without an OS keychain the passphrase is how you unlock; it cannot be removed."
                )
            wrapped = None
        else:
            check_passphrase_strength(new_passphrase)
            wrapped = wrap_for_passphrase(
                self.header, self._key, new_passphrase, self.header.slots.generation
            )
        slots = replace(self.header.slots, passphrase=wrapped)
        self._save_header(replace(self.header, slots=slots))
        self.audit.append("key.passphrase", detail="removed" if new_passphrase is None else "set")

    @changes(Change.SETTINGS)
    def new_recovery_key(self) -> str:
        """Issue a new recovery key; the old one stops working."""
        text = recovery.generate()
        wrapped = wrap_for_recovery(self.header, self._key, text, self.header.slots.generation)
        slots = replace(self.header.slots, recovery=wrapped)
        self._save_header(replace(self.header, slots=slots, recovery_unconfirmed=False))
        self.audit.append("key.recovery")
        return text

    def _save_header(self, header: VaultHeader) -> None:
        """Sign and write `header`, carrying the audit chain's head forward (see above).

        Several processes may share the vault: the write is serialised between them, and the
        recorded head is the newer of this header's and the one on disk.
        """
        with self._vault_lock.header_update():
            recorded = header.extra.get("audit_head")
            with contextlib.suppress(OhvaultError, OSError):
                on_disk = VaultHeader.load(self.files.header)
                theirs = on_disk.extra.get("audit_head")
                if (
                    isinstance(theirs, dict)
                    and on_disk.verify(self._key)
                    and (not isinstance(recorded, dict) or theirs["seq"] > recorded["seq"])
                ):
                    recorded = theirs
            anchor = self._next_anchor(recorded if isinstance(recorded, dict) else None)
            extra = {**header.extra, "audit_head": anchor} if anchor else dict(header.extra)
            self.header = replace(header, extra=extra).signed(self._key)
            self.header.save(self.files.header)

    @changes(Change.SETTINGS)
    def rotate_key(self, passphrase: str | None = None, *, _crash_after: str | None = None) -> str:
        """Replace the data key; returns the new recovery key (the old one stops working).

        Crash-safe: the next key's wraps are written to the header first, the
        database is copied under the new key and swapped in with one rename,
        then the header is finalised. Opening after a crash at any point finishes
        or discards the rotation (see _settle_rotation). The swap replaces
        `vault.db`, so no other process may have it open: VaultBusy if one has.
        """
        if self.locked:
            raise VaultLocked("The vault is locked.")
        with self._vault_lock.exclusive():
            return self._rotate_key(passphrase, _crash_after)

    def _rotate_key(self, passphrase: str | None, _crash_after: str | None) -> str:
        old = self.header
        if old.slots.passphrase is not None:
            if passphrase is None:
                raise BadInput(
                    "Rotating the key re-wraps it under your passphrase: enter it (--passphrase-stdin)."
                )
            if not self.verify_passphrase(passphrase):
                raise WrongKey("That passphrase does not unlock this vault.")
        old_key = self._key
        new_key = SecretKey.generate()
        generation = old.slots.generation + 1
        recovery_text = recovery.generate()
        slots = KeySlots(
            generation=generation,
            passphrase=wrap_for_passphrase(old, new_key, passphrase, generation)
            if passphrase
            else None,
            recovery=wrap_for_recovery(old, new_key, recovery_text, generation),
        )
        pending = PendingRotation(
            slots=slots,
            next_by_current=wrap(new_key, old_key.raw(), salt=b"", aad=chain_aad(old, generation)),
            current_by_next=wrap(
                old_key, new_key.raw(), salt=b"", aad=chain_aad(old, generation - 1)
            ),
        )
        self._save_header(replace(old, pending=pending))
        self._store_in_keychain(new_key, slot="next")
        _crash_point(_crash_after, "header")

        scratch = self.files.scratch("rotating")
        scratch.unlink(missing_ok=True)
        target = dbmod.connect(scratch, new_key, create=True)
        try:
            self.db.conn.backup(target)
            copy = Database(target, scratch)
            copy_audit = AuditLog(copy, old_key, self.device)
            copy_audit.rekey(new_key)
            copy_audit.append("key.rotate", detail=f"generation={generation}")
        finally:
            target.close()
        _crash_point(_crash_after, "copy")
        self.db.close()
        os.replace(scratch, self.files.db)
        fsync_dir(self.files.home)
        _crash_point(_crash_after, "swap")

        self.db = Database(dbmod.connect(self.files.db, new_key), self.files.db)
        self._key = new_key
        self.audit.wipe()
        self.audit = AuditLog(self.db, new_key, self.device)
        self.audit.anchor = self._audit_anchor
        self.repo = Repository(self.db, self.audit)
        self._save_header(replace(old, slots=slots, pending=None, recovery_unconfirmed=False))
        self._store_in_keychain(new_key)
        with contextlib.suppress(KeychainUnavailable):
            self.keychain.delete(self.vault_id, slot="next")
        old_key.wipe()
        return recovery_text

    # --- deletion ---------------------------------------------------------------------------

    @classmethod
    def destroy(
        cls, home: Path, *, keychain: KeyStore | None = None, with_backups: bool = False
    ) -> None:
        """Delete the database, header and keychain entries (and backups if asked).

        VaultBusy, and nothing deleted, while another process has the vault open.
        """
        files = VaultFiles(home)
        keychain = keychain or Keychain()
        if not files.home.exists():
            return
        held = hold_exclusive(files.home)
        try:
            vault_id = None
            with contextlib.suppress(OhvaultError):
                vault_id = VaultHeader.load(files.header).vault_id
            for path in files.home.glob(f"{paths.DB_FILENAME}*"):
                path.unlink(missing_ok=True)
            for path in files.home.glob(f"{paths.HEADER_FILENAME}*"):
                path.unlink(missing_ok=True)
            files.restore_journal.unlink(missing_ok=True)
            if files.safety_copy.exists():
                shutil.rmtree(files.safety_copy)
            if with_backups and files.backups.exists():
                shutil.rmtree(files.backups)
            if vault_id:
                with contextlib.suppress(KeychainUnavailable):
                    keychain.delete(vault_id)
                    keychain.delete(vault_id, slot="next")
            held.path.unlink(missing_ok=True)
        finally:
            held.release()
        with contextlib.suppress(OSError):
            files.home.rmdir()

    # --- settings stored in the vault (no PHI) ----------------------------------------------

    def get_setting(self, name: str, default: str | None = None) -> str | None:
        row = self.db.execute(
            "SELECT value FROM meta WHERE key = ?", (f"setting:{name}",)
        ).fetchone()
        return str(row[0]) if row else default

    @changes(Change.SETTINGS)
    def set_setting(self, name: str, value: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (f"setting:{name}", value)
            )

    def status(self) -> dict[str, Any]:
        return {
            "path": str(self.files.home),
            "vault_id": self.vault_id,
            "kind": self.kind,
            "locked": self.locked,
            "schema_version": self.schema_version(),
            "unlocked_with": self.unlock_report.method.value,
            "passphrase_set": self.header.slots.passphrase is not None,
            "recovery_unconfirmed": self.header.recovery_unconfirmed,
            "counts": self.repo.counts(),
        }


class CrashForTesting(BaseException):
    """Raised by rotate_key at a named point so tests can simulate a crash there."""


def _crash_point(wanted: str | None, here: str) -> None:
    if wanted == here:
        raise CrashForTesting(here)
