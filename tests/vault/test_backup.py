"""Backups are consistent and encrypted; restore verifies before replacing anything."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.errors import BackupError, WrongKey
from ohvault.model import Observation
from ohvault.vault import Credentials, Vault, VaultFiles
from ohvault.vault.backup import (
    create_backup,
    list_backups,
    recover_interrupted_restore,
    restore_backup,
    run_scheduled_backup,
)


def _obs(vault: Vault, value: float) -> Observation:
    pid = vault.repo.profiles()[0].id
    return vault.repo.add(
        Observation(
            profile_id=pid,
            analyte="Ferritin",
            value_num=value,
            unit="ug/L",
            effective=date(2026, 2, 2),
        )
    )


def _values(vault: Vault) -> list[float | None]:
    pid = vault.repo.profiles()[0].id
    return sorted(o.value_num for o in vault.repo.observations(pid))  # type: ignore[type-var]


def test_backup_then_restore_round_trip(make_vault: MakeVault, tmp_path: Path) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    _obs(vault, 10)
    info = create_backup(vault, tmp_path / "b1")
    assert info.path.name == "b1.ohvbackup" and oct(info.path.stat().st_mode)[-3:] == "600"
    _obs(vault, 20)
    vault.lock()
    restore_backup(home, info.path, Credentials())
    with Vault.open(home, auto_backup=False) as restored:
        assert _values(restored) == [10]
        assert restored.audit.verify().ok
    assert not list(home.glob("*.pre-restore")) and not list(home.glob("*.restoring"))


def test_restore_with_recovery_key_on_a_fresh_machine(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, recovery_text = make_vault()
    _obs(vault, 33)
    info = create_backup(vault, tmp_path / "b.ohvbackup")
    vault.lock()
    fresh = tmp_path / "fresh-home"
    restore_backup(fresh, info.path, Credentials(recovery_key=recovery_text, use_keychain=False))
    with Vault.open(
        fresh, Credentials(recovery_key=recovery_text, use_keychain=False), auto_backup=False
    ) as v:
        assert _values(v) == [33]


@pytest.mark.parametrize("where", ["db", "manifest", "truncate"])
def test_damaged_backup_is_refused_and_vault_untouched(
    make_vault: MakeVault, tmp_path: Path, where: str
) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    _obs(vault, 1)
    info = create_backup(vault, tmp_path / "b.ohvbackup")
    _obs(vault, 2)
    vault.lock()
    data = bytearray(info.path.read_bytes())
    if where == "db":
        with zipfile.ZipFile(info.path) as zf:
            member = zf.getinfo("vault.db")
        offset = member.header_offset + 30 + len(member.filename) + 5000
        data[offset] ^= 0x01
    elif where == "manifest":
        data = bytearray(data.replace(b'"ohvault-backup"', b'"something-else"'))
    else:
        data = data[: len(data) // 2]
    info.path.write_bytes(bytes(data))
    before = hashlib.sha256((home / "vault.db").read_bytes()).hexdigest()
    with pytest.raises(BackupError):
        restore_backup(home, info.path, Credentials())
    assert hashlib.sha256((home / "vault.db").read_bytes()).hexdigest() == before
    with Vault.open(home, auto_backup=False) as v:
        assert _values(v) == [1, 2]


def test_restore_with_wrong_credentials_changes_nothing(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    info = create_backup(vault, tmp_path / "b.ohvbackup")
    home = vault.files.home
    vault.lock()
    before = hashlib.sha256((home / "vault.db").read_bytes()).hexdigest()
    with pytest.raises(WrongKey):
        restore_backup(
            home, info.path, Credentials(passphrase="not the passphrase", use_keychain=False)
        )
    assert hashlib.sha256((home / "vault.db").read_bytes()).hexdigest() == before


def test_interrupted_restore_rolls_back_to_old_vault(make_vault: MakeVault, tmp_path: Path) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    _obs(vault, 5)
    vault.lock()
    files = VaultFiles(home)
    # Simulate a crash right after the old files were moved aside and the journal written.
    files.restore_journal.write_text('{"had_old": true}')
    os.replace(files.db, files.scratch("pre-restore"))
    os.replace(files.header, home / "vault.header.json.pre-restore")
    recover_interrupted_restore(files)
    with Vault.open(home, auto_backup=False) as v:
        assert _values(v) == [5]


def test_disk_full_during_backup_is_a_clear_error(make_vault: MakeVault, tmp_path: Path) -> None:
    """A real write failure from the OS (file size limit), in a child process."""
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    vault.repo.add_many(
        [
            Observation(
                profile_id=pid,
                analyte="Ferritin",
                value_num=i,
                unit="ug/L",
                effective=date(2026, 2, 2),
            )
            for i in range(300)
        ]
    )
    home = vault.files.home
    vault.lock()
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        from ohvault.errors import BackupError
        from ohvault.vault.backup import create_backup
        from ohvault.vault import Vault
        from pathlib import Path
        v = Vault.open(Path({str(home)!r}), auto_backup=False)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            create_backup(v, Path({str(tmp_path / "full")!r}) / 'x.ohvbackup')
        except BackupError as e:
            print("ERR", e.message)
            sys.exit(0)
        sys.exit(3)
        """
    )
    (tmp_path / "full").mkdir()
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    assert "Not enough disk space" in out.stdout
    assert list((tmp_path / "full").iterdir()) == []  # no partial files left behind
    with Vault.open(home, auto_backup=False) as v:
        assert len(_values(v)) == 300


def test_scheduled_backups_respect_interval_and_retention(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    vault.set_setting("backup_keep", "3")
    now = datetime.now(UTC)
    made = [run_scheduled_backup(vault, now=now + timedelta(days=i)) for i in range(5)]
    assert all(m is not None for m in made)
    assert run_scheduled_backup(vault, now=now + timedelta(days=4, hours=1)) is None
    scheduled = [p for p in list_backups(vault.files.backups) if p.name.startswith("ohvault-")]
    assert len(scheduled) == 3


def test_open_takes_daily_backup_automatically(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    Vault.open(home).lock()
    Vault.open(home).lock()
    assert len(list_backups(home / "backups")) == 1
