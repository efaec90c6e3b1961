"""Backups and restore.

A backup is one file (`*.ohvbackup`): a zip (stored, not compressed) holding a
consistent copy of the encrypted database made with SQLite's online backup
API, the vault header that unlocks it, and a manifest with the database's
SHA-256. Nothing in it is readable without the vault's key, passphrase or
recovery key.

Restore verifies a backup completely (hash, key, SQLCipher and SQLite
integrity checks, schema version) before touching the live vault, then swaps
the files under a journal: a crash at any point leaves the old vault or the
restored one, and the next open rolls an unfinished swap back. It refuses a
backup of another vault unless told explicitly, needs the vault lock
exclusively (no other process may have the vault open), writes the `restore`
audit entry into the restored database, and keeps the replaced vault aside
until the next successful unlock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ohvault import paths
from ohvault.atomic import atomic_write_bytes, fsync_dir
from ohvault.changes import Change, changes
from ohvault.errors import BackupError, BadInput, OhvaultError, OtherVaultBackup, VaultLocked
from ohvault.keys.header import VaultHeader
from ohvault.keys.keychain import Keychain, KeyStore
from ohvault.storage import db as dbmod
from ohvault.storage.migrations import check_not_newer, current_version
from ohvault.vault.defaults import DEFAULT_INTERVAL_HOURS, DEFAULT_KEEP
from ohvault.vault.files import VaultFiles
from ohvault.vault.unlock import Credentials, unlock_database

if TYPE_CHECKING:
    from ohvault.vault.lifecycle import Vault

BACKUP_FORMAT = "ohvault-backup"
BACKUP_VERSION = 1
SUFFIX = ".ohvbackup"
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    vault_id: str
    created_at: str
    schema_version: int
    size: int


def _disk_error(exc: OSError, where: Path) -> BackupError:
    if exc.errno in _NO_SPACE:
        return BackupError(
            f"Not enough disk space to write the backup in {where} (the disk is full or the write was refused).",
            hint="Free some space or choose another location; the vault was not changed.",
        )
    return BackupError(f"The backup could not be written in {where}: {exc.strerror}.")


def default_backup_path(vault: Vault) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return vault.files.backups / f"ohvault-{stamp}{SUFFIX}"


@changes(Change.SETTINGS)
def create_backup(
    vault: Vault, dest: Path | None = None, *, now: datetime | None = None
) -> BackupInfo:
    """Write a consistent encrypted copy of the open vault to `dest` (a file or a directory)."""
    dest = dest or default_backup_path(vault)
    if dest.is_dir():
        dest = dest / default_backup_path(vault).name
    if dest.suffix != SUFFIX:
        dest = dest.with_name(dest.name + SUFFIX)
    paths.ensure_private_dir(dest.parent)
    scratch_db = dest.with_name(f".{dest.name}.db.partial")
    scratch_zip = dest.with_name(f".{dest.name}.partial")
    try:
        scratch_db.unlink(missing_ok=True)
        target = dbmod.connect(scratch_db, vault.data_key(), create=True)
        try:
            vault.db.conn.backup(target)
            version = current_version(dbmod.Database(target, scratch_db))
        finally:
            target.close()
        digest = _sha256_file(scratch_db)
        created_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        manifest = {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "vault_id": vault.vault_id,
            "created_at": created_at,
            "schema_version": version,
            "db_sha256": digest,
        }
        fd = os.open(scratch_zip, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=2))
            zf.writestr("vault.header.json", vault.header.to_bytes())
            zf.write(scratch_db, "vault.db")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(scratch_zip, dest)
        fsync_dir(dest.parent)
    except OSError as exc:
        raise _disk_error(exc, dest.parent) from None
    except dbmod.DatabaseError as exc:
        # SQLite reports a failed write as SQLITE_FULL, or as a generic I/O error when the
        # OS refuses the write (quota, file size limit): both mean the copy could not be stored.
        text = str(exc).lower()
        if "disk is full" in text or "disk i/o error" in text:
            raise _disk_error(OSError(errno.ENOSPC, "disk full"), dest.parent) from None
        raise BackupError("The database could not be copied for backup.") from exc
    finally:
        scratch_db.unlink(missing_ok=True)
        scratch_zip.unlink(missing_ok=True)
    vault.set_setting("last_backup", created_at)
    vault.audit.append("backup", detail=f"schema={version}")
    return BackupInfo(
        dest, vault.vault_id, str(manifest["created_at"]), version, dest.stat().st_size
    )


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(path: Path) -> dict[str, object]:
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            names = set(zf.namelist())
    except FileNotFoundError:
        raise BadInput(f"No backup file at {path}.") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise BackupError(
            f"{path.name} is not a readable ohvault backup (damaged or truncated)."
        ) from None
    if manifest.get("format") != BACKUP_FORMAT or {"vault.db", "vault.header.json"} - names:
        raise BackupError(f"{path.name} is not an ohvault backup.")
    if int(manifest.get("version", 0)) > BACKUP_VERSION:
        raise BackupError("This backup was written by a newer ohvault; upgrade to restore it.")
    return dict(manifest)


@dataclass(frozen=True)
class BackupDetails:
    """What a person needs to decide on a restore; `counts` only once the backup unlocked."""

    path: Path
    vault_id: str
    kind: str
    created_at: str
    schema_version: int
    size: int
    same_vault: bool | None  # None: there is no readable vault at home to compare with
    counts: dict[str, int] | None = None
    unlock_error: str | None = None


def check_restore_target(
    files: VaultFiles, backup: Path, backup_vault_id: str, *, allow_other_vault: bool
) -> str | None:
    """The id of the vault a restore would replace; OtherVaultBackup if the backup is another
    vault's and that was not explicitly allowed. The one place this rule lives."""
    here = current_vault_id(files)
    if here is not None and here != backup_vault_id and not allow_other_vault:
        raise OtherVaultBackup(
            f"{backup.name} is a backup of another vault (id {backup_vault_id}), "
            f"not of this one (id {here}).",
            hint="Nothing was changed. To replace this vault with the other one, "
            "confirm it explicitly (`ohvault restore --other-vault`, or the tick in the app).",
        )
    return here


def current_vault_id(files: VaultFiles) -> str | None:
    """The id of the vault at `files.home`, from its header (None if absent or unreadable)."""
    try:
        return VaultHeader.load(files.header).vault_id
    except OhvaultError:
        return None


def inspect_backup(
    backup: Path,
    credentials: Credentials | None = None,
    *,
    home: Path | None = None,
    keychain: KeyStore | None = None,
) -> BackupDetails:
    """Vault id, date and (when `credentials` unlock it) record counts of a backup.

    Reads the backup only. With credentials (`Credentials()` tries the keychain) the
    database is unpacked to a private temporary folder, opened, counted and removed;
    if they do not unlock it, `counts` is None and `unlock_error` says why. Without
    credentials only the manifest and header are read.
    """
    from ohvault.storage.repository import Repository

    manifest = read_manifest(backup)
    header = _backup_header(backup, manifest)
    here = current_vault_id(VaultFiles(home)) if home is not None else None
    details = BackupDetails(
        path=backup,
        vault_id=header.vault_id,
        kind=header.kind,
        created_at=str(manifest.get("created_at")),
        schema_version=int(manifest.get("schema_version", 0)),  # type: ignore[call-overload]
        size=backup.stat().st_size,
        same_vault=None if here is None else here == header.vault_id,
    )
    if credentials is None:
        return details
    with tempfile.TemporaryDirectory(prefix="ohvault-inspect-") as tmp:
        staged = Path(tmp) / "vault.db"
        _unpack_db(backup, staged, manifest)
        try:
            unlocked = unlock_database(staged, header, credentials, keychain or Keychain())
        except VaultLocked as exc:
            return replace(details, unlock_error=exc.message)
        try:
            from ohvault.storage.audit import AuditLog

            audit = AuditLog(unlocked.db, unlocked.db_key, "inspect")
            counts = Repository(unlocked.db, audit).counts()
            audit.wipe()
        finally:
            unlocked.db.close()
    return replace(details, counts=counts)


def _backup_header(backup: Path, manifest: dict[str, object]) -> VaultHeader:
    try:
        with zipfile.ZipFile(backup) as zf:
            header = VaultHeader.from_bytes(zf.read("vault.header.json"))
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise BackupError(f"{backup.name} could not be read: the file is damaged.") from exc
    if header.vault_id != manifest.get("vault_id"):
        raise BackupError(
            f"{backup.name} is damaged: its header and manifest name different vaults."
        )
    return header


def _unpack_db(backup: Path, staged_db: Path, manifest: dict[str, object]) -> None:
    """Copy the backup's database to `staged_db` (0600) and check it against the manifest."""
    try:
        with zipfile.ZipFile(backup) as zf:
            fd = os.open(staged_db, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out, zf.open("vault.db") as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        staged_db.unlink(missing_ok=True)
        raise BackupError(f"{backup.name} could not be read: the file is damaged.") from exc
    if _sha256_file(staged_db) != manifest.get("db_sha256"):
        staged_db.unlink(missing_ok=True)
        raise BackupError(f"{backup.name} is damaged: its database does not match its checksum.")


def restore_backup(
    home: Path,
    backup: Path,
    credentials: Credentials,
    *,
    keychain: KeyStore | None = None,
    allow_other_vault: bool = False,
) -> BackupInfo:
    """Replace the vault at `home` with `backup`, after verifying the backup completely.

    - A backup of another vault id is refused (OtherVaultBackup) unless `allow_other_vault`.
    - The vault lock is taken exclusively: VaultBusy if any process has the vault open.
    - The `restore` audit entry is written into the restored database before it goes live,
      so every caller (CLI, app, scripts) gets it.
    - The replaced vault is kept in `replaced-by-restore/` until the next successful
      unlock (see drop_safety_copy).
    """
    from ohvault.device import device_id
    from ohvault.storage.audit import AuditLog
    from ohvault.storage.vault_lock import hold_exclusive

    keychain = keychain or Keychain()
    files = VaultFiles(home)
    manifest = read_manifest(backup)
    header = _backup_header(backup, manifest)
    paths.ensure_private_dir(files.home)
    held = hold_exclusive(files.home)
    staged_db = files.scratch("restoring")
    staged_header = files.home / f"{paths.HEADER_FILENAME}.restoring"
    try:
        recover_interrupted_restore(files)
        here = check_restore_target(
            files, backup, header.vault_id, allow_other_vault=allow_other_vault
        )
        _unpack_db(backup, staged_db, manifest)
        unlocked = unlock_database(staged_db, header, credentials, keychain)
        key = unlocked.db_key
        try:
            _check_integrity(unlocked.db)
            check_not_newer(current_version(unlocked.db))
            unlocked.db.execute("SELECT count(*) FROM profiles").fetchone()
            audit = AuditLog(unlocked.db, key, device_id())
            detail = f"backup_created={manifest.get('created_at')}"
            if here is not None and here != header.vault_id:
                detail += " other_vault=1"
            audit.append("restore", detail=detail)
            recorded = header.extra.get("audit_head")
            anchor = audit.next_anchor(recorded if isinstance(recorded, dict) else None)
            audit.wipe()
        finally:
            unlocked.db.close()
        if header.pending is None and anchor is not None:
            # The header's record of the audit chain's head moves with the new entry.
            header = replace(header, extra={**header.extra, "audit_head": anchor}).signed(key)
        atomic_write_bytes(staged_header, header.to_bytes())
        _swap_in(files, staged_db, staged_header)
        # Still under the lock: a process that opens next must find the restored key.
        # (Rewritten only when it differs: each write replaces the keychain item.)
        if keychain.status().available:
            with contextlib.suppress(OhvaultError):
                stored = keychain.get(header.vault_id)
                if stored is None or stored.raw() != key.raw():
                    keychain.set(header.vault_id, key)
    finally:
        staged_db.unlink(missing_ok=True)
        staged_header.unlink(missing_ok=True)
        held.release()
    return BackupInfo(
        backup,
        header.vault_id,
        str(manifest.get("created_at")),
        int(manifest.get("schema_version", 0)),  # type: ignore[call-overload]
        backup.stat().st_size,
    )


def _check_integrity(database: dbmod.Database) -> None:
    cipher = database.execute("PRAGMA cipher_integrity_check").fetchall()
    if cipher:
        raise BackupError("The backup's encrypted pages fail their integrity check.")
    result = database.execute("PRAGMA integrity_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError("The backup's database fails SQLite's integrity check.")


def _swap_in(files: VaultFiles, staged_db: Path, staged_header: Path) -> None:
    """Replace db and header under a journal; the old files survive until the swap completes.

    Afterwards the replaced files move to the safety copy. If a safety copy is already
    there (an earlier restore nobody has unlocked since), that older one is what was in
    use before: it is kept, and the never-unlocked restore is dropped (its backup file
    still exists).
    """
    old_db, old_header = _pre_restore(files)
    had_old = files.db.exists()
    atomic_write_bytes(files.restore_journal, json.dumps({"had_old": had_old}).encode())
    if had_old:
        os.replace(files.db, old_db)
        if files.header.exists():
            os.replace(files.header, old_header)
    os.replace(staged_header, files.header)
    os.replace(staged_db, files.db)
    fsync_dir(files.home)
    files.restore_journal.unlink()
    fsync_dir(files.home)
    if had_old and not files.safety_copy.exists():
        scratch = files.home / f".{files.safety_copy.name}.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        paths.ensure_private_dir(scratch)
        os.replace(old_db, scratch / paths.DB_FILENAME)
        if old_header.exists():
            os.replace(old_header, scratch / paths.HEADER_FILENAME)
        os.replace(scratch, files.safety_copy)
        fsync_dir(files.home)
    old_db.unlink(missing_ok=True)
    old_header.unlink(missing_ok=True)


def _pre_restore(files: VaultFiles) -> tuple[Path, Path]:
    return files.scratch("pre-restore"), files.home / f"{paths.HEADER_FILENAME}.pre-restore"


def recover_interrupted_restore(files: VaultFiles) -> None:
    """Roll back a restore that crashed during its swap: the old vault comes back whole.

    Called with the vault lock held exclusively (by restore, or by an open that found
    the journal), so no restore is running while this looks at the files.
    """
    if not files.restore_journal.exists():
        return
    old_db, old_header = _pre_restore(files)
    if old_db.exists():
        os.replace(old_db, files.db)
        if old_header.exists():
            os.replace(old_header, files.header)
    fsync_dir(files.home)
    files.restore_journal.unlink()
    for leftover in (files.scratch("restoring"), files.home / "vault.header.json.restoring"):
        leftover.unlink(missing_ok=True)


def drop_safety_copy(files: VaultFiles) -> bool:
    """Remove the vault a restore replaced (after a successful unlock). True if one was there.

    Keychain entries are left alone: the replaced vault's id may still live elsewhere (a
    copied folder), and an entry without a vault opens nothing.
    """
    copy = files.safety_copy
    if not copy.exists():
        return False
    shutil.rmtree(copy)
    fsync_dir(files.home)
    return True


def list_backups(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` scheduled backups; pre-migration and manual ones stay."""
    backups = [p for p in list_backups(directory) if p.name.startswith("ohvault-")]
    removed = backups[: max(0, len(backups) - keep)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def last_backup_time(vault: Vault) -> datetime | None:
    value = vault.get_setting("last_backup")
    return datetime.fromisoformat(value) if value else None


def run_scheduled_backup(vault: Vault, *, now: datetime | None = None) -> BackupInfo | None:
    """Back up if the last backup is older than the schedule allows, then apply retention."""
    interval = float(vault.get_setting("backup_interval_hours", str(DEFAULT_INTERVAL_HOURS)) or 0)
    if interval <= 0:
        return None
    now = now or datetime.now(UTC)
    last = last_backup_time(vault)
    if last is not None and now - last < timedelta(hours=interval):
        return None
    directory = Path(vault.get_setting("backup_dir") or vault.files.backups)
    info = create_backup(vault, directory / default_backup_path(vault).name, now=now)
    keep = int(vault.get_setting("backup_keep", str(DEFAULT_KEEP)) or DEFAULT_KEEP)
    prune_backups(directory, keep)
    return info


def backup_age_seconds(vault: Vault) -> float | None:
    last = last_backup_time(vault)
    return None if last is None else time.time() - last.timestamp()
