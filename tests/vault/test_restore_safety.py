"""Restore checks whose backup it is, keeps the replaced vault until the next unlock, audits
itself in every path, and the CLI reads stdin once (scripts with --yes)."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode, OtherVaultBackup, WrongKey
from ohvault.keys.keychain import Keychain
from ohvault.model import Observation
from ohvault.vault import Credentials, Vault, VaultFiles
from ohvault.vault.backup import create_backup, inspect_backup, restore_backup

PASSPHRASE = "correct horse battery"


def _obs(vault: Vault, value: float) -> None:
    pid = vault.repo.profiles()[0].id
    vault.repo.add(
        Observation(
            profile_id=pid, analyte="Ferritin", value_num=value, unit="ug/L", effective=date.today()
        )
    )


def _values(home: Path, creds: Credentials | None = None) -> list[float]:
    with Vault.open(home, creds, auto_backup=False) as v:
        return sorted(r[0] for r in v.db.execute("SELECT value_num FROM observations"))


def _copy_aside(files: VaultFiles, where: Path) -> Path:
    """The safety copy, copied out so that opening it does not touch it."""
    where.mkdir()
    for name in ("vault.db", "vault.header.json"):
        (where / name).write_bytes((files.safety_copy / name).read_bytes())
    return where


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    cli_io.reset_stdin()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(args))


def test_inspect_shows_id_date_and_counts_only_when_it_unlocks(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, recovery_text = make_vault(passphrase=PASSPHRASE)
    _obs(vault, 1)
    _obs(vault, 2)
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    assert inspect_backup(backup, home=vault.files.home).counts is None  # nothing unlocked
    details = inspect_backup(backup, Credentials(), home=vault.files.home)  # the keychain
    assert details.vault_id == vault.vault_id and details.same_vault is True
    assert details.counts is not None and details.counts["observation"] == 2
    assert details.counts["profiles"] == 1 and details.created_at[:4].isdigit()
    locked = inspect_backup(backup, Credentials(passphrase="wrong one!", use_keychain=False))
    assert locked.counts is None and locked.unlock_error and "passphrase" in locked.unlock_error
    by_recovery = inspect_backup(
        backup, Credentials(recovery_key=recovery_text, use_keychain=False)
    )
    assert by_recovery.counts == details.counts
    assert not list(vault.files.home.glob("*.restoring"))


def test_backup_of_another_vault_is_refused_unless_allowed(
    make_vault: MakeVault, tmp_path: Path, keychain: Keychain
) -> None:
    mine, _ = make_vault()
    _obs(mine, 1)
    home = mine.files.home
    mine.lock()
    other, _ = make_vault(home=tmp_path / "other")
    _obs(other, 99)
    backup = create_backup(other, tmp_path / "other.ohvbackup").path
    other_id = other.vault_id
    other.lock()

    details = inspect_backup(backup, home=home)
    assert details.same_vault is False and details.vault_id == other_id
    with pytest.raises(OtherVaultBackup, match="another vault"):
        restore_backup(home, backup, Credentials())
    assert _values(home) == [1]  # untouched

    restore_backup(home, backup, Credentials(), allow_other_vault=True)
    assert (home / "replaced-by-restore" / "vault.db").exists()
    with Vault.open(home, auto_backup=False) as v:
        assert v.vault_id == other_id
        restore = v.audit.entries(action="restore")
        assert restore and "other_vault=1" in (restore[0].detail or "")
        assert v.audit.verify().ok
    assert _values(home) == [99]


def test_replaced_vault_is_kept_until_the_next_unlock_and_restore_is_audited(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    files = VaultFiles(home)
    _obs(vault, 10)
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    _obs(vault, 20)
    vault.lock()

    restore_backup(home, backup, Credentials())
    # The replaced vault (with 20) is aside and opens on its own.
    assert (files.safety_copy / "vault.db").exists()
    assert (files.safety_copy / "vault.header.json").exists()
    assert _values(_copy_aside(files, tmp_path / "aside1")) == [10, 20]
    # A second restore before any unlock keeps the original, not the never-opened restore.
    restore_backup(home, backup, Credentials())
    assert _values(_copy_aside(files, tmp_path / "aside2")) == [10, 20]

    with Vault.open(home, auto_backup=False) as v:  # the next successful unlock
        assert [e.action for e in v.audit.entries(action="restore")] == ["restore"]
        assert v.audit.verify().ok
    assert not files.safety_copy.exists()
    assert _values(home) == [10]


def test_failed_restore_keeps_no_safety_copy_and_changes_nothing(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, _ = make_vault(passphrase=PASSPHRASE)
    home = vault.files.home
    _obs(vault, 5)
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    vault.lock()
    with pytest.raises(WrongKey):
        restore_backup(home, backup, Credentials(passphrase="not it at all", use_keychain=False))
    assert not VaultFiles(home).safety_copy.exists()
    assert _values(home) == [5]


def test_cli_restore_reads_stdin_once_and_needs_yes_and_other_vault(
    make_vault: MakeVault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vault, recovery_text = make_vault(passphrase=PASSPHRASE)
    home = vault.files.home
    monkeypatch.setenv("OHVAULT_HOME", str(home))
    _obs(vault, 1)
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    _obs(vault, 2)
    vault.lock()
    other, _ = make_vault(home=tmp_path / "other")
    foreign = create_backup(other, tmp_path / "other.ohvbackup").path
    other.lock()
    capsys.readouterr()

    # Off a terminal without --yes: refused, nothing read or changed.
    assert _cli(monkeypatch, "restore", str(backup)) == ExitCode.BAD_INPUT
    assert "--yes" in capsys.readouterr().err
    # Before the fix this read stdin twice and exited 2 after the swap.
    code = _cli(
        monkeypatch,
        "restore",
        str(backup),
        "--yes",
        "--no-keychain",
        "--passphrase-stdin",
        "--json",
        stdin=PASSPHRASE + "\n",
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["vault_id"] == vault.vault_id
    assert _values(home) == [1]
    code = _cli(
        monkeypatch,
        "restore",
        str(backup),
        "--yes",
        "--no-keychain",
        "--recovery-key-stdin",
        stdin=recovery_text + "\n",
    )
    assert code == 0, capsys.readouterr().err

    # Another vault's backup: exit 2 without --other-vault, restored with it.
    assert _cli(monkeypatch, "restore", "--yes", str(foreign)) == ExitCode.BAD_INPUT
    assert "--other-vault" in capsys.readouterr().err
    assert _values(home) == [1]
    assert _cli(monkeypatch, "restore", "--yes", "--other-vault", str(foreign)) == 0
    with Vault.open(home, auto_backup=False) as v:
        assert v.vault_id == other.vault_id
