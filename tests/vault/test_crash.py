"""SIGKILL in the middle of a large write or a key rotation: all or nothing, and the vault opens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.vault import Credentials, Vault

LARGE_WRITE = """
import sys
from datetime import date
from pathlib import Path
from ohvault.model import Observation
from ohvault.vault import Vault
v = Vault.open(Path(sys.argv[1]), auto_backup=False)
pid = v.repo.profiles()[0].id
rows = [Observation(profile_id=pid, analyte=f"A{i % 50}", value_num=float(i), unit="mg/dL", effective=date(2026, 1, 1)) for i in range(60000)]
print("start", flush=True)
v.repo.add_many(rows)
print("done", flush=True)
"""

ROTATE_LOOP = """
import sys
from pathlib import Path
from ohvault.vault import Vault
v = Vault.open(Path(sys.argv[1]), auto_backup=False)
print("start", flush=True)
while True:
    v.rotate_key("correct horse battery")
"""


def _run_and_kill(script: str, home: Path, delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8])
def test_sigkill_during_large_write_is_all_or_nothing(make_vault: MakeVault, delay: float) -> None:
    vault, _ = make_vault()
    home = vault.files.home
    vault.lock()
    _run_and_kill(LARGE_WRITE, home, delay)
    with Vault.open(home, auto_backup=False) as v:
        count = v.db.execute("SELECT count(*) FROM observations").fetchone()[0]
        assert count in (0, 60000)
        assert v.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert v.audit.verify().ok


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.02, 0.1, 0.25, 0.5])
def test_sigkill_during_key_rotation_leaves_a_vault_that_opens(
    make_vault: MakeVault, delay: float
) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    home = vault.files.home
    vault.lock()
    _run_and_kill(ROTATE_LOOP, home, delay)
    for creds in (
        Credentials(),
        Credentials(passphrase="correct horse battery", use_keychain=False),
    ):
        with Vault.open(home, creds, auto_backup=False) as v:
            assert v.repo.profiles()[0].name == "Test Person"
            assert v.audit.verify().ok
            assert v.header.pending is None
