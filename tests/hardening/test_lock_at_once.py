"""Locking wipes the key and closes the database at once, whatever job is running.

A real window over a real SQLCipher vault: a job that never ends (in Python, or inside a SQL
statement), then Lock. The key must be zeroed and the connection closed within a moment, and
the job's late result dropped, never painted. PDF reading runs off the vault worker, in a child
process that the lock kills.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ohvault.errors import VaultLocked
from tests.gui.conftest import run_op, wait_idle
from tests.hardening import hostile_pdfs
from tests.hardening.test_sandbox import reader_children

TODAY = date(2026, 1, 5)
PROMPT_S = 2.0  # "at once", with room for a loaded two-core machine


def _zeroed(buf: bytearray) -> bool:
    return not any(buf)


def _closed(conn: Any) -> bool:
    """The SQLCipher connection itself (under the app's guard) is closed."""
    try:
        conn.raw.execute("SELECT 1")
    except Exception as exc:  # sqlite3.ProgrammingError: Cannot operate on a closed database
        return "closed" in str(exc).lower()
    return False


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets the 'never ending' job end after the test, so no thread outlives it."""
    event = threading.Event()
    yield event
    event.set()


def _reopens_intact(session: Any) -> bool:
    """The vault closed under a job opens again with its audit chain whole."""
    from ohvault.vault import Credentials, Vault

    with Vault.open(session.home, Credentials(), keychain=session.keychain) as vault:
        return bool(vault.audit.verify().ok) and len(vault.repo.profiles()) == 1


def _lock_and_time(qtbot: Any, window: Any, key: bytearray, conn: Any) -> float:
    started = time.monotonic()
    window.named_actions["lock"].trigger()
    qtbot.waitUntil(lambda: _zeroed(key) and _closed(conn), timeout=int(PROMPT_S * 1000))
    return time.monotonic() - started


def test_lock_while_a_job_hangs_wipes_the_key_and_drops_the_late_result(
    qtbot: Any, unlocked: Any, release: threading.Event
) -> None:
    window = unlocked
    session = window.session
    vault = session.executor.vault
    key, conn = vault.data_key()._buf, vault.db.conn
    started = threading.Event()
    painted: list[Any] = []
    failed: list[BaseException] = []

    def never_ends(ctx: Any) -> Any:
        profiles = ctx.vault.repo.profiles()  # holds the vault, as a real job does
        started.set()
        release.wait(60)
        return profiles

    job = session.executor.run(
        never_ends, success=painted.append, failure=failed.append, label="hangs"
    )
    qtbot.waitUntil(started.is_set, timeout=5_000)
    _lock_and_time(qtbot, window, key, conn)
    assert session.executor.vault is None and not session.is_unlocked
    release.set()  # the job finally returns: its result must go nowhere
    qtbot.waitUntil(lambda: job.finished, timeout=5_000)
    wait_idle(qtbot, window)
    assert job.result is not None  # it did return the profiles...
    assert painted == [] and failed == []  # ...and nobody saw them
    assert _reopens_intact(session)


def test_lock_interrupts_a_statement_that_never_ends(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    session = window.session
    vault = session.executor.vault
    key, conn = vault.data_key()._buf, vault.db.conn
    started = threading.Event()
    failed: list[BaseException] = []

    def endless_query(ctx: Any) -> Any:
        started.set()
        forever = (
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
        )
        return ctx.vault.db.execute(forever).fetchone()

    job = session.executor.run(endless_query, failure=failed.append, label="endless query")
    qtbot.waitUntil(started.is_set, timeout=5_000)
    time.sleep(0.3)  # let SQLite get going inside the statement
    assert not job.finished
    _lock_and_time(qtbot, window, key, conn)
    qtbot.waitUntil(lambda: job.finished, timeout=5_000)
    assert job.error is not None and failed == []  # interrupted, and not reported after a lock
    assert _reopens_intact(session)


def test_lock_kills_a_hung_pdf_read_that_runs_off_the_vault_worker(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    session = window.session
    vault = session.executor.vault
    key, conn = vault.data_key()._buf, vault.db.conn
    path = tmp_path / "loop.pdf"
    path.write_bytes(hostile_pdfs.length_reference_loop())
    view = window.view("Import")
    view.add_files([path])  # the importer's own parse job
    qtbot.waitUntil(lambda: bool(reader_children()), timeout=10_000)
    readers = reader_children()
    # The vault worker is free while the PDF is read: other work is not stuck behind it.
    other = session.executor.run(lambda ctx: len(ctx.vault.repo.profiles()), label="other")
    qtbot.waitUntil(lambda: other.finished, timeout=5_000)
    assert other.result == 1
    assert not view.job.finished
    elapsed = _lock_and_time(qtbot, window, key, conn)
    assert elapsed < PROMPT_S
    qtbot.waitUntil(lambda: not any(Path(f"/proc/{p}").exists() for p in readers), timeout=3_000)
    wait_idle(qtbot, window)


def test_work_that_needs_no_vault_cannot_reach_it(qtbot: Any, unlocked: Any) -> None:
    executor = unlocked.session.executor
    job = executor.run(lambda ctx: ctx.vault, needs_vault=False, failure=lambda exc: None)
    qtbot.waitUntil(lambda: job.finished, timeout=5_000)
    assert isinstance(job.error, RuntimeError) and "needs_vault=False" in str(job.error)


def test_an_idle_lock_still_writes_its_audit_entry(qtbot: Any, unlocked: Any) -> None:
    from ohvault.vault import Credentials, Vault

    window = unlocked
    session = window.session
    home, keychain = session.home, session.keychain
    window.named_actions["lock"].trigger()
    wait_idle(qtbot, window)
    assert session.executor.vault is None
    with Vault.open(home, Credentials(), keychain=keychain) as vault:
        assert vault.audit.entries(action="lock")
        assert vault.audit.verify().ok
    with pytest.raises(VaultLocked):
        run_op(qtbot, window, lambda ctx: ctx.vault)


@pytest.mark.parametrize("kind", ["reads", "writes"])
def test_lock_in_the_middle_of_busy_database_work_is_clean(
    qtbot: Any, unlocked: Any, kind: str
) -> None:
    """Closing under a thread that is inside the driver's C code must not crash the app."""
    from ohvault.model import Observation

    window = unlocked
    session = window.session
    vault = session.executor.vault
    key, conn = vault.data_key()._buf, vault.db.conn
    pid = session.profile_id
    running = threading.Event()

    def busy(ctx: Any) -> int:
        v = ctx.vault
        n = 0
        while True:  # until the lock closes the database under it
            if kind == "reads":
                v.db.execute("SELECT count(*) FROM audit_log").fetchone()
                list(v.db.execute("SELECT seq, action FROM audit_log"))
            else:
                v.repo.add(
                    Observation(
                        profile_id=pid, analyte="Glucose", value_num=5.0 + n, effective=TODAY
                    )
                )
            n += 1
            running.set()

    job = session.executor.run(busy, failure=lambda exc: None, label="busy")
    qtbot.waitUntil(running.is_set, timeout=5_000)
    time.sleep(0.2)
    _lock_and_time(qtbot, window, key, conn)
    qtbot.waitUntil(lambda: job.finished, timeout=5_000)
    assert job.error is not None
    assert _reopens_intact(session)


def test_a_job_that_takes_a_new_key_after_the_lock_is_locked_again(
    qtbot: Any, unlocked: Any, release: threading.Event
) -> None:
    """A key rotation past its swap when the lock comes opens the new database and takes the new
    key; the lock's backstop on the worker locks those too, with the lock's audit entry."""
    from ohvault.keys.secret import SecretKey
    from ohvault.storage import db as dbmod
    from ohvault.storage.audit import AuditLog

    window = unlocked
    session = window.session
    vault = session.executor.vault
    key = vault.data_key()._buf
    # The same key stands in for the rotation's new one, so the vault opens again afterwards.
    taken = SecretKey(vault.data_key().raw())
    started = threading.Event()
    reopened: list[Any] = []

    def rotation_past_its_swap(ctx: Any) -> None:
        v = ctx.vault
        started.set()
        release.wait(60)  # the lock comes here
        # What Vault._rotate_key does after the swap: a new connection, key and audit log.
        v.db = dbmod.Database(dbmod.connect(v.files.db, taken), v.files.db)
        v._key = taken
        v.audit = AuditLog(v.db, taken, v.device)
        v.audit.anchor = v._audit_anchor
        reopened.append(v.db.conn)

    job = session.executor.run(rotation_past_its_swap, failure=lambda exc: None, label="rotate")
    qtbot.waitUntil(started.is_set, timeout=5_000)
    window.named_actions["lock"].trigger()
    assert _zeroed(key) and not session.is_unlocked
    release.set()
    qtbot.waitUntil(lambda: job.finished, timeout=5_000)
    wait_idle(qtbot, window)
    assert reopened, "the job went on after the lock"
    assert vault.locked and _zeroed(taken._buf)  # the key it took is wiped too
    with pytest.raises(Exception, match=r"(?i)closed"):
        reopened[0].execute("SELECT 1")
    from ohvault.vault import Credentials, Vault

    with Vault.open(session.home, Credentials(), keychain=session.keychain) as again:
        assert again.audit.entries(action="lock")  # written by the backstop's ordinary lock
        assert again.audit.verify().ok
