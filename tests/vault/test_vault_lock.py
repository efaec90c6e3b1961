"""The inter-process vault lock: rotation, restore and delete-vault never pull a vault from under
another ohvault process; run against a real concurrent writer process, nothing committed is lost."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode, VaultBusy
from ohvault.keys.keychain import Keychain
from ohvault.storage.vault_lock import VaultLock
from ohvault.vault import Credentials, Vault
from ohvault.vault.backup import create_backup, restore_backup

# Each loop stops after SUCCESSES operations got through between the writer's transactions,
# or after ATTEMPTS tries (most are refused while the writer has the vault open).
SUCCESSES = 8
ATTEMPTS = 150

HOLDER = """
import sys
from pathlib import Path
from ohvault.vault import Vault
v = Vault.open(Path(sys.argv[1]), auto_backup=False)
print("open", flush=True)
sys.stdin.readline()
v.lock()
"""

# Adds one observation per unlock, forever, until the stop file appears. Each committed
# record goes to `commits` beside the vault with the monotonic time taken *before* its
# unlock (a system-wide clock), so the test can tell what was written after a restore.
WRITER = """
import sys, time
from datetime import date
from pathlib import Path
from ohvault.model import Observation
from ohvault.vault import Vault
home, stop = Path(sys.argv[1]), Path(sys.argv[2])
i = 0
print("start", flush=True)
while not stop.exists():
    began = time.monotonic()
    with Vault.open(home, auto_backup=False) as v:
        pid = v.repo.profiles()[0].id
        o = v.repo.add(Observation(profile_id=pid, analyte="Sodium", value_num=float(i),
                                   unit="mmol/L", effective=date(2026, 1, 1)))
    with open(home.parent / "commits", "a") as log:
        print(o.id, began, file=log)
    i += 1
    time.sleep(0.015)
"""


@pytest.fixture
def holder(vault_home: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with the vault open (like the app, or a long import)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(vault_home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    yield proc
    if proc.poll() is None:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    cli_io.reset_stdin()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(args))


def _commits(path: Path) -> list[tuple[str, str]]:
    """(record id, monotonic time before its unlock) for each record the writer committed."""
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines()]
    return [(parts[0], parts[1]) for parts in lines if len(parts) == 2]


def _ids(home: Path, creds: Credentials | None = None) -> set[str]:
    with Vault.open(home, creds, auto_backup=False) as v:
        return {r[0] for r in v.db.execute("SELECT id FROM observations").fetchall()}


def test_rotate_restore_and_delete_fail_fast_naming_the_other_process(
    make_vault: MakeVault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    backup = create_backup(vault, tmp_path / "b.ohvbackup").path
    vault.db.execute("INSERT INTO meta(key, value) VALUES ('after_backup', '1')")
    generation = vault.header.slots.generation
    vault.lock()
    proc = request.getfixturevalue("holder")

    for args in (
        ("key", "rotate"),
        ("restore", "--yes", str(backup)),
        ("delete-vault", "--yes"),
    ):
        started = time.monotonic()
        assert _cli(monkeypatch, *args) == ExitCode.BUSY == 7
        assert time.monotonic() - started < 5  # fails fast, does not wait for the other
        err = capsys.readouterr().err
        assert f"the vault is open in another ohvault process (pid {proc.pid})" in err.lower()
    # Nothing was rotated, restored or deleted.
    with Vault.open(home, auto_backup=False) as v:
        assert v.get_setting("x") is None and v.header.slots.generation == generation
        assert v.db.execute("SELECT value FROM meta WHERE key = 'after_backup'").fetchone()
    assert not (home / "replaced-by-restore").exists()

    # Ordinary work shares the vault with the other process.
    assert _cli(monkeypatch, "status") == 0
    # In-process callers get the same error.
    with Vault.open(home, auto_backup=False) as v, pytest.raises(VaultBusy):
        v.rotate_key()
    with pytest.raises(VaultBusy):
        restore_backup(home, backup, Credentials())


def test_rotation_and_restore_against_a_concurrent_writer_lose_nothing(
    make_vault: MakeVault, tmp_path: Path, keychain: Keychain
) -> None:
    vault, first_recovery = make_vault()
    home = vault.files.home
    vault.lock()
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(home), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
    recovery_text = first_recovery
    rotated = restored = busy = 0
    backup: Path | None = None
    restore_done = 0.0
    try:
        # Rotations, until several got through between the writer's transactions (bounded).
        for _ in range(ATTEMPTS):
            if rotated >= SUCCESSES:
                break
            try:
                with Vault.open(home, auto_backup=False) as v:
                    recovery_text = v.rotate_key()
                rotated += 1
            except VaultBusy:
                busy += 1
            time.sleep(0.01)
        with Vault.open(home, auto_backup=False) as v:
            # Read first: the writer may add more before the copy, never fewer.
            in_backup = {r[0] for r in v.db.execute("SELECT id FROM observations").fetchall()}
            backup = create_backup(v, tmp_path / "mid.ohvbackup").path
        # Restores of that backup, with its recovery key, against the same writer (bounded).
        for _ in range(ATTEMPTS):
            if restored >= SUCCESSES:
                break
            try:
                restore_backup(
                    home, backup, Credentials(recovery_key=recovery_text, use_keychain=False)
                )
                restore_done = time.monotonic()
                restored += 1
            except VaultBusy:
                busy += 1
            time.sleep(0.01)
        # Let the writer commit after the last restore (polled: the machine may be slow).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            float(began) > restore_done for _, began in _commits(tmp_path / "commits")
        ):
            time.sleep(0.05)
    finally:
        stop.touch()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert rotated >= 1 and restored >= 1, (rotated, restored, busy)
    committed = _commits(tmp_path / "commits")
    assert len(committed) >= 5

    final = _ids(home)  # the keychain key opens it
    # Every record committed after the last restore is there; every record in the
    # restored backup is there; nothing appeared that no one wrote.
    after = {rid for rid, began in committed if float(began) > restore_done}
    assert after and after <= final
    assert in_backup <= final
    assert final <= {rid for rid, _ in committed}
    assert _ids(home, Credentials(recovery_key=recovery_text, use_keychain=False)) == final
    with Vault.open(home, auto_backup=False) as v:
        assert v.audit.verify().ok
        assert v.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        actions = [e.action for e in v.audit.entries(limit=100000)]
    assert actions.count("restore") >= 1


def test_rotations_alone_keep_every_committed_record(make_vault: MakeVault, tmp_path: Path) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(home), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "start"
    rotated, recovery_text = 0, ""
    try:
        for _ in range(ATTEMPTS):
            if rotated >= SUCCESSES:
                break
            try:
                with Vault.open(home, auto_backup=False) as v:
                    recovery_text = v.rotate_key()
                rotated += 1
            except VaultBusy:
                pass
            time.sleep(0.01)
    finally:
        stop.touch()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert rotated >= 1
    committed = {rid for rid, _ in _commits(tmp_path / "commits")}
    assert committed and _ids(home) == committed
    assert _ids(home, Credentials(recovery_key=recovery_text, use_keychain=False)) == committed


def test_a_crashed_holder_does_not_keep_the_vault_busy(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    proc.kill()
    proc.wait(timeout=30)
    assert os.path.exists(home / "vault.lock")
    with Vault.open(home, auto_backup=False) as v:
        v.rotate_key()  # the kernel dropped the dead process's lock


def test_lock_modes_within_one_process(tmp_path: Path) -> None:
    """Open-file-description locks: two holders in one process exclude each other too, and a
    failed conversion to exclusive keeps the shared lock it had."""
    first, second = VaultLock(tmp_path), VaultLock(tmp_path)
    first.acquire_shared()
    second.acquire_shared()
    with pytest.raises(VaultBusy, match=f"pid {os.getpid()}"):
        second.acquire_exclusive()
    assert second.mode == "shared"
    third = VaultLock(tmp_path)
    with pytest.raises(VaultBusy):
        third.acquire_exclusive()  # `second` still holds its shared lock
    first.release()
    with pytest.raises(VaultBusy):
        third.acquire_exclusive()
    with second.exclusive():
        assert second.mode == "exclusive"
        with pytest.raises(VaultBusy):
            third.acquire_shared(wait=0.2)  # shared waits a little, then gives up
    assert second.mode == "shared"
    second.release()
    third.acquire_exclusive()
    assert oct((tmp_path / "vault.lock").stat().st_mode)[-3:] == "600"
    third.release()
