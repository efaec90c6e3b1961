"""One owner of the vault's connection: the sync lane talks to the network, the vault worker does the rest.

A real window over a real SQLCipher vault and the real sync server on 127.0.0.1. While
a sync merges a large bundle, the app keeps running read and write jobs; every call into
the database comes from the vault worker, and no read sees part of a merge. A sync stuck
on a server that never answers does not hold up locking: the key is wiped at once, the
lock is in the audit chain, and nothing of that sync reaches the vault afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ohvault.errors import Cancelled, VaultLocked
from ohvault.model import Observation
from ohvault.sync import SyncClient
from tests.gui.conftest import run_op, wait_idle

PASSWORD = "correct horse battery staple"
MERGED = 400  # records in the one bundle the app pulls (one merge, one transaction)
PROMPT_S = 2.0  # "at once", with room for a loaded two-core machine


def _zeroed(buf: bytearray) -> bool:
    return not any(buf)


def _count(vault: Any, analyte: str) -> int:
    row = vault.db.execute(
        "SELECT count(*) FROM observations WHERE analyte = ?", (analyte,)
    ).fetchone()
    return int(row[0])


def _wait_sync(qtbot: Any, window: Any) -> None:
    controller = window.session.sync
    qtbot.waitUntil(lambda: controller.job is None and not controller.lane.busy, timeout=30_000)
    wait_idle(qtbot, window)


def test_sync_merges_while_jobs_run_all_on_the_vault_worker_and_no_read_sees_half_a_merge(
    qtbot: Any,
    unlocked: Any,
    gui_sync_server: Any,
    make_vault: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = unlocked
    session = window.session
    controller = session.sync
    user = f"owner-{time.monotonic_ns()}"
    url = gui_sync_server.url

    on = controller.run_network(
        lambda client, ctx: client.enable(url, user, PASSWORD, register=True),
        writes=frozenset({"settings"}),
        label="Turning sync on",
    )
    qtbot.waitUntil(lambda: on.finished, timeout=20_000)
    assert on.error is None, on.error
    session.sync_enabled = True
    code_job = controller.run_network(lambda client, ctx: client.pairing_code(), label="code")
    qtbot.waitUntil(lambda: code_job.finished, timeout=20_000)
    _wait_sync(qtbot, window)

    # A second device joins, receives the profile, and sends MERGED new results in one bundle.
    other, _ = make_vault(home=tmp_path / "laptop", profile_name=None)
    laptop = SyncClient(other)
    laptop.join(url, user, PASSWORD, pairing_code=code_job.result)
    controller.sync_now(manual=True)
    _wait_sync(qtbot, window)
    laptop.sync()
    pid = session.profile_id
    with other.db.transaction():
        for n in range(MERGED):
            other.repo.add(
                Observation(
                    profile_id=pid,
                    analyte="Merged",
                    value_num=float(n),
                    effective=date(2025, 1, 1),
                )
            )
    assert laptop.sync().pushed_bundles == 1

    # Every call into the app's connection, from here on, notes its thread.
    from ohvault.storage import guarded

    callers: set[int] = set()
    real = guarded.GuardedConnection._guarded

    def spy(self: Any, call: Any) -> Any:
        callers.add(threading.get_ident())
        return real(self, call)

    monkeypatch.setattr(guarded.GuardedConnection, "_guarded", spy)
    worker = run_op(qtbot, window, lambda ctx: threading.get_ident())
    callers.clear()

    seen: list[int] = []
    written: list[str] = []
    syncing = {"on": True}

    def read_again(count: int | None = None) -> None:
        if count is not None:
            seen.append(count)
        if syncing["on"]:
            session.executor.run(
                lambda ctx: _count(ctx.vault, "Merged"), success=read_again, label="read"
            )

    def write_one(ctx: Any) -> str:
        obs = Observation(
            profile_id=pid, analyte="Local", value_num=1.0, effective=date(2025, 2, 1)
        )
        ctx.vault.repo.add(obs)
        return obs.id

    job = controller.sync_now(manual=True)
    assert job is not None
    read_again()
    for _ in range(5):
        session.executor.run(write_one, success=written.append, label="write")
    qtbot.waitUntil(lambda: job.finished, timeout=30_000)
    syncing["on"] = False
    _wait_sync(qtbot, window)
    assert job.error is None, job.error
    assert job.result.pulled_records == MERGED

    assert len(written) == 5
    assert seen, "reads ran while the sync was under way"
    # A read saw the vault before the merge or after it, never in between.
    assert set(seen) <= {0, MERGED}, sorted(set(seen))
    assert run_op(qtbot, window, lambda ctx: _count(ctx.vault, "Merged")) == MERGED
    # The sync lane never touched the connection: the vault worker is its only user.
    assert callers == {worker}

    # What the app wrote during the sync goes up with the next one and reaches the laptop.
    controller.sync_now(manual=True)
    _wait_sync(qtbot, window)
    laptop.sync()
    assert _count(other, "Local") == 5


class NeverAnswers:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.requests = threading.Event()
        self._stop = threading.Event()
        self.listener.settimeout(0.05)  # so the accept loop notices `close`
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)
            self.requests.set()

    def close(self) -> None:
        """Refuse new connections and drop the held ones: the hung request fails at once."""
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


@pytest.fixture
def never_answers() -> Iterator[NeverAnswers]:
    server = NeverAnswers()
    yield server
    server.close()


def test_lock_during_a_sync_hung_on_the_network_is_immediate_and_audited(
    qtbot: Any, unlocked: Any, never_answers: NeverAnswers
) -> None:
    from ohvault.sync.local import LocalStore
    from ohvault.vault import Credentials, Vault

    window = unlocked
    session = window.session
    controller = session.sync
    vault = session.executor.vault
    key = vault.data_key()._buf

    def point_at_the_silent_server(ctx: Any) -> None:
        store = LocalStore(ctx.vault)
        store.enable(bytes(range(32)), node="0123456789ab")
        store.set(
            server_url=never_answers.url,
            vault_id="00000000-0000-4000-8000-000000000001",
            device_id="d1",
            access_token="a",
            refresh_token="r",
            cursor=0,
        )

    run_op(qtbot, window, point_at_the_silent_server)
    session.sync_enabled = True
    job = controller.sync_now(manual=True)
    assert job is not None
    qtbot.waitUntil(never_answers.requests.is_set, timeout=10_000)
    # The request is out; the lane waits for an answer that never comes, and the vault worker
    # is free meanwhile (jobs queued before the sync, such as screen refreshes, may still be
    # finishing on a loaded machine: waited for, the sync itself never ends).
    qtbot.waitUntil(lambda: not session.executor.vault_busy, timeout=10_000)
    assert not job.finished

    started = time.monotonic()
    window.named_actions["lock"].trigger()
    elapsed = time.monotonic() - started
    assert elapsed < PROMPT_S
    assert _zeroed(key) and vault.locked and not session.is_unlocked

    # The hung request fails once the server goes; nothing of that sync reaches the vault.
    never_answers.close()
    qtbot.waitUntil(lambda: job.finished, timeout=20_000)
    _wait_sync(qtbot, window)
    with Vault.open(session.home, Credentials(), keychain=session.keychain) as reopened:
        # The worker was idle, so this was the ordinary lock, with its audit entry.
        assert reopened.audit.entries(action="lock")
        assert reopened.audit.verify().ok
        store = LocalStore(reopened)
        assert store.get("last_error") is None and store.get("last_sync_at") is None


def test_a_step_handed_to_the_vault_worker_runs_there_or_not_at_all(
    qtbot: Any, unlocked: Any
) -> None:
    executor = unlocked.session.executor
    results: dict[str, Any] = {}
    release = threading.Event()

    def from_another_thread(name: str, **kwargs: Any) -> threading.Thread:
        def run() -> None:
            try:
                results[name] = executor.call(**kwargs)
            except BaseException as exc:
                results[name] = exc

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    worker = run_op(qtbot, unlocked, lambda ctx: threading.get_ident())
    thread = from_another_thread(
        "ok",
        op=lambda ctx: (threading.get_ident(), len(ctx.vault.repo.profiles())),
        epoch=executor.epoch,
        should_cancel=lambda: False,
    )
    qtbot.waitUntil(lambda: "ok" in results, timeout=5_000)
    thread.join()
    assert results["ok"] == (worker, 1)

    # A step of a sync started before a lock never runs, whatever the vault's state now.
    ran: list[str] = []
    thread = from_another_thread(
        "stale", op=lambda ctx: ran.append("stale"), epoch=executor.epoch - 1,
        should_cancel=lambda: False,
    )  # fmt: skip
    qtbot.waitUntil(lambda: "stale" in results, timeout=5_000)
    thread.join()
    assert isinstance(results["stale"], VaultLocked) and ran == []

    # Cancelled while the worker is busy: the caller returns at once, the step never starts.
    executor.run(lambda ctx: release.wait(10), label="busy")
    cancel = threading.Event()
    thread = from_another_thread(
        "cancelled", op=lambda ctx: ran.append("cancelled"), epoch=executor.epoch,
        should_cancel=cancel.is_set,
    )  # fmt: skip
    time.sleep(0.2)
    cancel.set()
    qtbot.waitUntil(lambda: "cancelled" in results, timeout=5_000)
    thread.join()
    assert isinstance(results["cancelled"], Cancelled)
    release.set()
    wait_idle(qtbot, unlocked)
    assert ran == []

    # From the GUI thread it would wait for itself: refused at once.
    with pytest.raises(RuntimeError, match="wait for itself"):
        executor.call(lambda ctx: None, epoch=executor.epoch, should_cancel=lambda: False)
