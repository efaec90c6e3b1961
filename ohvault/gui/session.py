"""The app's state: the worker, the message bridge, the unlocked vault and the current profile.

The Vault object itself is only touched by ops on the worker thread; the GUI
thread keeps plain copies of what it shows (profile names, counts).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ohvault import paths
from ohvault.gui.bridge import MessageBridge
from ohvault.gui.clipboard import SecretClipboard
from ohvault.gui.tasks import Executor, Job, JobContext
from ohvault.vault.defaults import DEFAULT_INTERVAL_HOURS, DEFAULT_KEEP
from ohvault.wording import plural

# The vault, crypto and model modules load on first use, not before the first window shows.
if TYPE_CHECKING:
    from ohvault.keys.keychain import KeyStore
    from ohvault.keys.wrap import KdfParams
    from ohvault.vault import Credentials, UnlockReport, Vault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileInfo:
    id: str
    name: str
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class UnlockResult:
    profiles: list[ProfileInfo]
    report: UnlockReport
    last_profile: str | None
    settings: dict[str, str]
    passphrase_set: bool
    recovery_unconfirmed: bool
    is_clinician: bool = False
    sync_enabled: bool = False


# Non-PHI settings the GUI keeps in the vault (they only matter while it is unlocked).
VAULT_SETTINGS = {
    "autolock_minutes": "15",
    "lock_on_sleep": "1",
    "backup_interval_hours": str(DEFAULT_INTERVAL_HOURS),
    "backup_keep": str(DEFAULT_KEEP),
    "backup_dir": "",
    "sync_interval_minutes": "15",
}


class Session(QObject):
    unlocked = Signal()
    locked = Signal(str)  # reason: "idle", "sleep", "screen", "user", "restore"
    restored = Signal(object)  # UnlockResult of the restored vault
    profile_changed = Signal()
    profiles_changed = Signal()
    settings_changed = Signal()
    notify = Signal(str)  # a short, PHI-free status-bar message

    def __init__(
        self,
        home: Path | None = None,
        kdf: KdfParams | None = None,
        keychain: KeyStore | None = None,
        *,
        interactive: bool = True,
    ) -> None:
        super().__init__()
        self.home = home or paths.vault_home()
        self.kdf = kdf  # None: the product default; tests pass a cheap one
        self._keychain = keychain
        self.bridge = MessageBridge(interactive=interactive)
        self.executor = Executor(on_error=self.bridge.error)
        self.clipboard = SecretClipboard()
        self.undo = QUndoStack(self)
        self.profiles: list[ProfileInfo] = []
        self.profile_id: str | None = None
        self.is_unlocked = False
        self.settings: dict[str, str] = dict(VAULT_SETTINGS)
        self.unlock_report: UnlockReport | None = None
        self.passphrase_set = False
        self.is_clinician = False
        self.sync_enabled = False
        from ohvault.gui.sync_ui import SyncController

        self.sync = SyncController(self)

    # --- state --------------------------------------------------------------------------

    @property
    def keychain(self) -> KeyStore:
        if self._keychain is None:
            from ohvault.keys.keychain import Keychain

            self._keychain = Keychain()
        return self._keychain

    def vault_exists(self) -> bool:
        return (self.home / paths.HEADER_FILENAME).exists() or (
            self.home / paths.DB_FILENAME
        ).exists()

    @property
    def profile(self) -> ProfileInfo | None:
        return next((p for p in self.profiles if p.id == self.profile_id), None)

    def setting(self, name: str) -> str:
        return self.settings.get(name, VAULT_SETTINGS.get(name, ""))

    # --- unlocking (ops run on the worker) ------------------------------------------------

    def create_op(self, passphrase: str | None, profile_name: str) -> Any:
        home, kdf, keychain = self.home, self.kdf, self.keychain

        def op(ctx: JobContext) -> tuple[UnlockResult, str]:
            from ohvault.vault import Vault

            vault, recovery_text = Vault.create(
                home,
                passphrase=passphrase or None,
                profile_name=profile_name,
                keychain=keychain,
                kdf=kdf,
            )
            ctx.executor.vault = vault
            return _unlock_result(vault), recovery_text

        return op

    def open_op(self, credentials: Credentials | None = None) -> Any:
        """An op opening the vault; None: with the system keychain only (the start-up attempt).

        The credentials for None are made on the worker, so that the window shown at start-up
        has not loaded the vault and key code on the GUI thread first.
        """
        home, keychain = self.home, self.keychain

        def op(ctx: JobContext) -> UnlockResult:
            from ohvault.vault import Credentials, Vault

            creds = Credentials(use_keychain=True) if credentials is None else credentials
            vault = Vault.open(home, creds, keychain=keychain)
            ctx.executor.vault = vault
            return _unlock_result(vault)

        return op

    def adopt(self, result: UnlockResult) -> None:
        """On the GUI thread, after an unlock op succeeded."""
        self.profiles = result.profiles
        self.settings = {**VAULT_SETTINGS, **result.settings}
        self.unlock_report = result.report
        self.passphrase_set = result.passphrase_set
        self.is_clinician = result.is_clinician
        self.sync_enabled = result.sync_enabled
        ids = [p.id for p in self.profiles]
        if self.profile_id not in ids:
            self.profile_id = (
                result.last_profile if result.last_profile in ids else (ids[0] if ids else None)
            )
        from ohvault.logs import register_sensitive

        register_sensitive(*(p.name for p in self.profiles))
        self.is_unlocked = True
        self.unlocked.emit()

    # --- locking ---------------------------------------------------------------------------

    def lock(self, reason: str = "user") -> None:
        """Forget in-flight results, clear the clipboard, close the vault and wipe its key now.

        Locking never waits for a job: a hung parse or a long query must not keep the key in
        memory. Jobs in flight are cancelled (a PDF reader child is killed) and their results
        dropped.
        """
        if not self.is_unlocked:
            return
        self.is_unlocked = False
        self.executor.bump_epoch()
        self.clipboard.clear_if_ours()
        self.undo.clear()
        self.profiles = []
        log.info("locking (%s)", reason)
        vault = self.executor.detach_vault()
        if vault is not None:
            lock_vault_now(vault, quiet=not self.executor.vault_busy)
            db = vault.db

            def close(ctx: JobContext) -> None:
                # A backstop on the worker, after whatever was running: closing is idempotent.
                with contextlib.suppress(Exception):
                    db.close()
                lock_what_outlived_the_lock(vault, db)

            self.executor.run(close, label="Locking", failure=lambda exc: None)
        self.locked.emit(reason)

    # --- restore ---------------------------------------------------------------------------

    def restore(
        self, backup: Path, credentials: Credentials, *, allow_other_vault: bool = False
    ) -> None:
        """Lock, replace the vault with `backup` (core rules), and reopen on the restored vault.

        The restore runs on the worker after the lock op has closed this app's connection and
        released its share of the vault lock, so nothing of the app holds the replaced file.
        If it fails (another process has the vault open, a wrong key), the old vault is
        untouched and the unlock screen stays, with the reason.
        """
        home, keychain = self.home, self.keychain
        self.lock("restore")

        def op(ctx: JobContext) -> UnlockResult:
            from ohvault.vault import Vault
            from ohvault.vault.backup import restore_backup

            restore_backup(
                home, backup, credentials, keychain=keychain, allow_other_vault=allow_other_vault
            )
            # This reopen is part of the restore: the replaced vault stays aside until the
            # person's next unlock, in case the restored one is not what they wanted.
            vault = Vault.open(home, credentials, keychain=keychain, keep_restore_copy=True)
            ctx.executor.vault = vault
            return _unlock_result(vault)

        def failed(exc: BaseException) -> None:
            self.bridge.error("Restoring the backup", exc)
            self.locked.emit("restore-failed")

        self.executor.run(op, success=self.restored.emit, failure=failed, label="Restoring")

    # --- profiles ----------------------------------------------------------------------------

    def set_profile(self, profile_id: str) -> None:
        if profile_id == self.profile_id:
            return
        self.profile_id = profile_id
        self.undo.clear()

        def op(ctx: JobContext) -> None:
            ctx.vault.set_setting("gui_last_profile", profile_id)

        self.executor.run(op, label="Remembering the profile")
        self.profile_changed.emit()

    def add_profile(self, name: str, birth_date: Any = None) -> None:
        def op(ctx: JobContext) -> list[ProfileInfo]:
            from ohvault.model import Profile

            profile = ctx.apply(
                ctx.vault.repo.add_profile, Profile(name=name.strip(), birth_date=birth_date)
            )
            ctx.vault.set_setting("gui_last_profile", profile.id)
            return _profiles(ctx.vault)

        def done(profiles: list[ProfileInfo]) -> None:
            new = [p for p in profiles if p.id not in {q.id for q in self.profiles}]
            self.profiles = profiles
            self.profiles_changed.emit()
            if new:
                self.set_profile(new[0].id)

        self.executor.run(op, success=done, label="Adding a profile")

    def edit_profile(
        self,
        profile_id: str,
        *,
        name: str,
        birth_date: date | None,
        sex: str | None,
        failure: Callable[[BaseException], None] | None = None,
    ) -> Job:
        """Rename a profile or change its birth date or sex (the core checks the values)."""

        def op(ctx: JobContext) -> None:
            ctx.apply(
                ctx.vault.repo.edit_profile,
                profile_id,
                name=name,
                birth_date=birth_date,
                sex=sex,
            )

        return self.executor.run(
            op,
            success=lambda _: self.reload_profiles(),
            failure=failure,
            label="Saving the profile",
        )

    def delete_profile(
        self,
        profile_id: str,
        typed_name: str,
        failure: Callable[[BaseException], None] | None = None,
    ) -> Job:
        """Delete a profile and all it holds; `typed_name` is what the person typed to confirm."""

        def op(ctx: JobContext) -> dict[str, int]:
            return ctx.apply(ctx.vault.repo.delete_profile, profile_id, confirm_name=typed_name)

        def done(removed: dict[str, int]) -> None:
            self.undo.clear()
            self.notify.emit(f"Profile deleted with {plural(sum(removed.values()), 'record')}.")
            self.reload_profiles()

        return self.executor.run(op, success=done, failure=failure, label="Deleting the profile")

    def reload_profiles(self, select: str | None = None) -> None:
        """Re-read the profile list (after a bundle import made or renamed a patient)."""

        def op(ctx: JobContext) -> list[ProfileInfo]:
            return _profiles(ctx.vault)

        def done(profiles: list[ProfileInfo]) -> None:
            from ohvault.logs import register_sensitive

            register_sensitive(*(p.name for p in profiles))
            self.profiles = profiles
            self.profiles_changed.emit()
            if select is not None and select != self.profile_id:
                self.set_profile(select)
            elif self.profile_id not in {p.id for p in profiles} and profiles:
                self.set_profile(profiles[0].id)

        self.executor.run(op, success=done, label="Reading profiles")

    def save_settings(self, values: dict[str, str]) -> None:
        self.settings.update(values)
        self.settings_changed.emit()

        def op(ctx: JobContext) -> None:
            for key, value in values.items():
                ctx.apply(ctx.vault.set_setting, key, value)

        self.executor.run(op, label="Saving settings")

    def shutdown(self) -> None:
        if self.is_unlocked:
            self.lock("quit")
        else:
            # A vault opened but not adopted yet (the wizard's recovery-key page) is closed
            # too: it holds the vault lock, and its key must not outlive the window.
            def close(ctx: JobContext) -> None:
                vault, ctx.executor.vault = ctx.executor.vault, None
                if vault is not None:
                    vault.lock()

            self.executor.run(close, label="Closing", failure=lambda exc: None)
        self.executor.wait_for_done()


def lock_vault_now(vault: Vault, *, quiet: bool) -> None:
    """Close the database and wipe the keys on the calling thread, whatever else uses them.

    `quiet`: nothing runs on the vault worker (the only thread that uses the connection; a
    sync waiting on the network holds nothing), so the ordinary lock (with its audit entry)
    is safe here. Otherwise a job is using the connection: its statement is interrupted
    and the connection closed as soon as the current call into it returns (the guard in
    ohvault.storage.guarded; SQLite rolls back an open transaction, so the job's writes are all
    or nothing), and only then are the keys wiped, so nothing is written with a half-wiped key.
    The job fails on the closed database; its result is dropped.
    """
    from ohvault.storage.guarded import GuardedConnection

    if quiet:
        vault.lock()
        return
    log.info("locking while the vault is in use: closing its database under the running job")
    conn = vault.db.conn
    if isinstance(conn, GuardedConnection):
        conn.close_now()
    else:  # not yet guarded (a job is opening it): stop its statement; the job closes nothing
        with contextlib.suppress(Exception):
            conn.interrupt()
    if not vault.locked:
        vault.data_key().wipe()
    vault.audit.wipe()
    # Vault.lock() would also release the vault's inter-process lock (where the vault has one);
    # it is not called here because its audit entry waits for the running job's transaction.
    release = getattr(getattr(vault, "_vault_lock", None), "release", None)
    if callable(release):
        with contextlib.suppress(Exception):
            release()


def lock_what_outlived_the_lock(vault: Vault, closed: Any) -> None:
    """(Vault worker, after the job a lock interrupted) Lock again what that job reopened.

    A job past the point of no return when the lock came (a key rotation that had swapped
    the database) goes on to open the new database and take the new key; nothing else runs
    on the worker now, so the ordinary lock is safe: it closes that database, wipes that key
    and writes the lock's audit entry under it.
    """
    if not vault.locked:
        log.info("a job took a new key after the lock: locking again")
        with contextlib.suppress(Exception):
            vault.lock()
    if vault.db is not closed:
        with contextlib.suppress(Exception):
            vault.db.close()


def _profiles(vault: Vault) -> list[ProfileInfo]:
    return [ProfileInfo(p.id, p.name, p.birth_date, p.sex) for p in vault.repo.profiles()]


def _unlock_result(vault: Vault) -> UnlockResult:
    settings = {k: v for k in VAULT_SETTINGS if (v := vault.get_setting(k)) is not None}
    return UnlockResult(
        profiles=_profiles(vault),
        report=vault.unlock_report,
        last_profile=vault.get_setting("gui_last_profile"),
        settings=settings,
        passphrase_set=vault.header.slots.passphrase is not None,
        recovery_unconfirmed=vault.header.recovery_unconfirmed,
        is_clinician=vault.is_clinician,
        sync_enabled=_sync_enabled(vault),
    )


def _sync_enabled(vault: Vault) -> bool:
    try:
        from ohvault.sync.local import LocalStore
    except ImportError:  # a build without sync
        return False
    return LocalStore(vault).enabled()
