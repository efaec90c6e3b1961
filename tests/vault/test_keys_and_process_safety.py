"""Keys and memory: no core dumps, bounded Argon2 parameters, a private log after rollover,
an audit chain whose removed tail stays visible, and what a pre-rotation backup opens with."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.errors import VaultCorrupt, WrongKey
from ohvault.logs import PrivateRotatingFileHandler
from ohvault.vault import Credentials, Vault
from ohvault.vault.backup import create_backup, restore_backup

PROBE = """
import sys
from ohvault.cli.main import main
main(sys.argv[1:])
import ctypes
print("DUMPABLE", ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
print("LIMITS", open("/proc/self/limits").read())
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and prctl are Linux")


def _core_limit(limits: str) -> str:
    line = next(li for li in limits.splitlines() if li.startswith("Max core file size"))
    return " ".join(line.split()[4:6])


def test_cli_process_cannot_dump_core(vault_home: Path) -> None:
    # `ohvault status` in a real process (no vault: exits 4), then its own /proc entries.
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROBE), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OHVAULT_HOME": str(vault_home)},
    )
    assert "LIMITS" in result.stdout, result.stderr
    assert _core_limit(result.stdout.split("LIMITS", 1)[1]) == "0 0"
    assert "DUMPABLE 0" in result.stdout


def test_gui_process_cannot_dump_core(vault_home: Path, tmp_path: Path) -> None:
    """The app started as a person starts it (`ohvault`): /proc/PID/limits and owner of /proc/PID."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ohvault.cli.main"],
        env={
            **os.environ,
            "OHVAULT_HOME": str(vault_home),
            "QT_QPA_PLATFORM": "offscreen",
            "OHVAULT_CONFIG_DIR": str(tmp_path / "config"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        limits = ""
        while time.monotonic() < deadline:
            limits = Path(f"/proc/{proc.pid}/limits").read_text()
            if _core_limit(limits) == "0 0":
                break
            time.sleep(0.1)
        assert _core_limit(limits) == "0 0"
        if os.getuid() != 0:
            # PR_SET_DUMPABLE 0: the kernel hands /proc/PID's files to root, so other
            # processes of the same user cannot read its memory. (Run as root, every
            # /proc entry is root's and this says nothing; the CLI test reads the flag.)
            assert os.stat(f"/proc/{proc.pid}/mem").st_uid == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _damage_kdf(home: Path, **kdf: int) -> None:
    header = home / "vault.header.json"
    data = json.loads(header.read_text())
    data["kdf"].update(kdf)
    header.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "kdf",
    [
        {"memory_kib": 2**40},
        {"iterations": 2**31},
        {"parallelism": 2**24},
        {"memory_kib": 0},
        {"iterations": True},
    ],
)
def test_absurd_argon2_parameters_are_a_damaged_header_not_a_hang(
    make_vault: MakeVault, kdf: dict[str, int]
) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.lock()
    _damage_kdf(home, **kdf)
    started = time.monotonic()
    with pytest.raises(VaultCorrupt, match="Argon2"):
        Vault.open(home, Credentials(passphrase="correct horse battery", use_keychain=False))
    assert time.monotonic() - started < 5


def test_log_stays_private_after_rollover(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "ohvault.log"
        handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2)
        logger = logging.getLogger("ohvault.test-rollover")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            for i in range(40):
                logger.warning("line %d of the rollover test", i)
        finally:
            logger.removeHandler(handler)
            handler.close()
    finally:
        os.umask(old)
    assert (tmp_path / "ohvault.log.1").exists()  # it did roll over
    for item in tmp_path.glob("ohvault.log*"):
        assert oct(item.stat().st_mode)[-3:] == "600", item.name


def test_setup_logging_makes_older_rolled_logs_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ohvault import logs

    (tmp_path / "ohvault.log.2").write_text("left 0644 by an older version\n")
    (tmp_path / "ohvault.log.2").chmod(0o644)
    monkeypatch.setattr(logs, "_configured", False)
    root = logging.getLogger("ohvault")
    saved = list(root.handlers)
    try:
        path = logs.setup_logging(directory=tmp_path)
        assert oct(path.stat().st_mode)[-3:] == "600"
        assert oct((tmp_path / "ohvault.log.2").stat().st_mode)[-3:] == "600"
    finally:
        for h in list(root.handlers):
            if h not in saved:
                root.removeHandler(h)
                h.close()


def _add(vault: Vault, n: int = 3) -> None:
    for _ in range(n):
        vault.audit.append("read", record_type="observation")


def test_deleting_the_tail_and_the_head_pointer_is_reported(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    _add(vault)
    vault.lock()  # records the chain's head in the header (under its MAC)
    vault = Vault.open(home, auto_backup=False)
    last = vault.db.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    # Plain SQL, as someone with the database open would do it: the tail and the pointer.
    vault.db.execute("DELETE FROM audit_log WHERE seq >= ?", (last - 3,))
    vault.db.execute("DELETE FROM meta WHERE key = 'audit_head'")
    report = vault.audit.verify()
    assert not report.ok and "header records entry" in report.reason
    # The app goes on appending: the chain regrows past the recorded entry, still reported.
    _add(vault, 10)
    report = vault.audit.verify()
    assert not report.ok and "replaced" in report.reason
    vault.lock()
    with Vault.open(home, auto_backup=False) as again:  # locking did not paper over it
        assert not again.audit.verify().ok


def test_recorded_head_survives_rotation_and_backup(make_vault: MakeVault, tmp_path: Path) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    _add(vault)
    vault.lock()
    vault = Vault.open(home, auto_backup=False)
    vault.rotate_key()
    assert vault.audit.verify().ok
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    vault.lock()
    restore_backup(home, backup, Credentials())
    with Vault.open(home, auto_backup=False) as v:
        assert v.audit.verify().ok
        assert "audit_head" in v.header.extra


def test_backup_from_before_a_rotation_opens_with_the_recovery_key_of_its_time(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    """What docs/security.md says: rotation does not reach into backups already written."""
    vault, old_recovery = make_vault()
    home = vault.files.home
    backup = create_backup(vault, tmp_path / "before.ohvbackup").path
    new_recovery = vault.rotate_key()
    vault.lock()
    with pytest.raises(WrongKey):
        restore_backup(home, backup, Credentials(recovery_key=new_recovery, use_keychain=False))
    restore_backup(home, backup, Credentials(recovery_key=old_recovery, use_keychain=False))
    with Vault.open(home, Credentials(recovery_key=old_recovery, use_keychain=False)) as v:
        assert v.audit.verify().ok


def test_backup_keeps_the_keys_of_its_time_after_a_new_recovery_key_and_passphrase(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, old_recovery = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    backup = create_backup(vault, tmp_path / "before.ohvbackup").path
    vault.new_recovery_key()
    vault.change_passphrase("a different passphrase")
    vault.lock()
    for creds in (
        Credentials(recovery_key=old_recovery, use_keychain=False),
        Credentials(passphrase="correct horse battery", use_keychain=False),
    ):
        restore_backup(home, backup, creds)
    with pytest.raises(WrongKey):
        restore_backup(
            home, backup, Credentials(passphrase="a different passphrase", use_keychain=False)
        )
