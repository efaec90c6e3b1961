"""Sync in the desktop app: a lane of its own, the status-bar indicator, periodic sync.

Offline-first, with one owner of the database: the *sync lane* (a single-thread
executor of its own) does the network work only: enable, join, pairing code,
sync, disable. Every step that needs the vault (read the sync settings, merge a
pulled bundle, seal the next outgoing batch, record the result) is handed to the
vault worker (`Executor.call`) and the lane waits for its result. So the vault's
connection and keys are only ever used on the vault worker, a read there never
sees half a merge, and the vault worker never waits on the network: a slow server
holds up the lane, not the app. Locking cancels the lane's job, never waits for
it (a request hanging on the network is simply abandoned), and no step of that
sync runs after the lock, even if the vault is unlocked again meanwhile.

Status (pending changes, conflicts, last sync) is local and cheap; it is read on
the vault worker after every sync and every local write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QToolButton

from ohvault.changes import RECORD_CHANGES, Change, OpChanges
from ohvault.gui.tasks import Executor, Job, JobContext

if TYPE_CHECKING:
    from ohvault.gui.session import Session
    from ohvault.sync.local import LocalStore

T = TypeVar("T")

log = logging.getLogger(__name__)

# What a sync may change here: every record type, and profiles.
SYNCED_CHANGES: OpChanges = RECORD_CHANGES | {Change.PROFILE}
DEFAULT_INTERVAL_MINUTES = "15"
AFTER_CHANGE_MS = 20_000  # a local edit is pushed soon, but edits in a row go up together
AFTER_UNLOCK_MS = 3_000


class SyncController(QObject):
    """Owns the sync lane, the timers and the last known status."""

    status_changed = Signal(object)  # SyncStatus | None (None: sync not available)
    sync_started = Signal()
    sync_finished = Signal(object)  # SyncReport | None

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.lane = Executor(on_error=session.bridge.error)
        # A sync's merges change what the screens show: tell them like any other write.
        self.lane.changes.connect(session.executor.changes.emit)
        self.status: Any = None
        self.job: Job | None = None
        self.max_attempts = 3  # background syncs give up quickly and try again later
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(manual=False))
        self.soon = QTimer(self)
        self.soon.setSingleShot(True)
        self.soon.timeout.connect(lambda: self.sync_now(manual=False))
        session.executor.changes.connect(self._local_changes)
        session.unlocked.connect(self._unlocked)
        session.locked.connect(self._locked)

    # --- lifecycle ---------------------------------------------------------------------------

    def _unlocked(self) -> None:
        self.refresh_status()
        self.apply_settings()
        if self.session.sync_enabled:
            self.soon.start(AFTER_UNLOCK_MS)

    def _locked(self, _reason: str) -> None:
        self.timer.stop()
        self.soon.stop()
        self.lane.bump_epoch()
        self.status = None
        self.status_changed.emit(None)

    def apply_settings(self) -> None:
        """(Re)start the periodic timer from the vault's setting; off when sync is off."""
        try:
            minutes = float(
                self.session.setting("sync_interval_minutes") or DEFAULT_INTERVAL_MINUTES
            )
        except ValueError:
            minutes = float(DEFAULT_INTERVAL_MINUTES)
        if self.session.is_unlocked and self.session.sync_enabled and minutes > 0:
            self.timer.start(int(minutes * 60_000))
        else:
            self.timer.stop()

    def _local_changes(self, kinds: OpChanges) -> None:
        if kinds & SYNCED_CHANGES and self.session.sync_enabled and self.session.is_unlocked:
            self.refresh_status()
            if self.job is None:
                self.soon.start(AFTER_CHANGE_MS)

    # --- ops on the lane ------------------------------------------------------------------------

    def run_network(
        self,
        work: Callable[[Any, JobContext], Any],
        *,
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], None] | None = None,
        writes: OpChanges = frozenset(),
        label: str,
    ) -> Job:
        """Run `work(client, ctx)` on the sync lane; the client's vault steps run on the worker."""
        from ohvault.errors import VaultLocked

        executor, epoch, attempts = (
            self.session.executor,
            self.session.executor.epoch,
            self.max_attempts,
        )
        unlocked = self.session.is_unlocked

        def op(ctx: JobContext) -> Any:
            from ohvault.sync import SyncClient

            if not unlocked:
                raise VaultLocked("The vault is locked.")
            steps = WorkerSteps(executor, epoch, ctx.cancelled)
            return work(SyncClient(steps=steps, max_attempts=attempts), ctx)

        return self.lane.run(
            op, success=success, failure=failure, writes=writes, label=label, needs_vault=False
        )

    def sync_now(self, *, manual: bool = True) -> Job | None:
        if not self.session.is_unlocked or not self.session.sync_enabled:
            if manual:
                self.session.notify.emit("Sync is off. Turn it on in Settings → Sync.")
            return None
        if self.job is not None:
            return self.job

        def work(client: Any, ctx: JobContext) -> Any:
            def progress(p: Any) -> None:
                total = p.total or 0
                ctx.progress(p.done, total, f"Syncing ({p.phase})")

            return ctx.apply(client.sync, progress=progress)

        self.soon.stop()
        self.sync_started.emit()
        job = self.run_network(
            work,
            success=self._synced,
            failure=lambda exc: self._sync_failed(exc, manual),
            label="Syncing",
        )
        self.job = job
        job.done.connect(self._sync_done)
        if self.status is not None:
            self.status.state = "syncing"
            self.status_changed.emit(self.status)
        return job

    def _synced(self, report: Any) -> None:
        if report.pulled_records or report.pushed_records or report.conflicts:
            self.session.notify.emit(
                f"Synced: {report.pulled_records} received, {report.pushed_records} sent"
                + (f", {report.conflicts} conflicts to review" if report.conflicts else "")
                + "."
            )
        self.sync_finished.emit(report)

    def _sync_failed(self, exc: BaseException, manual: bool) -> None:
        from ohvault.sync import SyncOffline

        if manual and not isinstance(exc, SyncOffline):
            self.session.bridge.error("Syncing", exc)
        elif manual:
            self.session.notify.emit("The sync server cannot be reached; will retry later.")
        self.sync_finished.emit(None)

    def _sync_done(self) -> None:
        self.job = None
        self.refresh_status()

    def refresh_status(self) -> None:
        if not self.session.is_unlocked:
            return

        def op(ctx: JobContext) -> Any:
            try:
                from ohvault.sync import SyncClient
            except ImportError:
                return None
            return SyncClient(ctx.vault).status()

        self.session.executor.run(
            op, success=self._status, failure=lambda exc: None, label="Reading sync status"
        )

    def _status(self, status: Any) -> None:
        if self.job is not None and status is not None and status.enabled:
            status.state = "syncing"
        self.status = status
        enabled = bool(status is not None and status.enabled)
        if enabled != self.session.sync_enabled:
            self.session.sync_enabled = enabled
            self.apply_settings()
        self.status_changed.emit(status)


class WorkerSteps:
    """`VaultSteps` for the app: each step runs as a job on the vault worker.

    Made on the GUI thread with the session epoch of the sync it serves; called on the sync
    lane, which waits for each step's result (see `Executor.call`).
    """

    def __init__(self, executor: Executor, epoch: int, cancelled: Callable[[], bool]) -> None:
        self._executor = executor
        self._epoch = epoch
        self._cancelled = cancelled
        self._store: LocalStore | None = None  # used on the vault worker only

    def __call__(self, step: Callable[[LocalStore], T], /) -> T:
        def op(ctx: JobContext) -> T:
            from ohvault.sync.local import LocalStore

            vault = ctx.vault
            if self._store is None or self._store.vault is not vault:
                self._store = LocalStore(vault)
            return step(self._store)

        return self._executor.call(
            op, epoch=self._epoch, should_cancel=self._cancelled, label="Syncing (vault)"
        )


def describe_status(status: Any) -> tuple[str, str]:
    """(short text for the status bar, longer tooltip) — counts and times only, no PHI."""
    if status is None or not status.enabled:
        return "", ""
    when = "never"
    if status.last_sync_at:
        try:
            when = datetime.fromisoformat(status.last_sync_at).astimezone().strftime("%H:%M")
            day = datetime.fromisoformat(status.last_sync_at).astimezone().date()
            if day != datetime.now().astimezone().date():
                when = f"{day.isoformat()} {when}"
        except ValueError:
            when = status.last_sync_at
    pending = status.pending_changes
    state = {
        "idle": f"Synced {when}",
        "syncing": "Syncing…",
        "offline": "Offline",
        "login-required": "Log in to sync",
        "error": "Sync error",
    }.get(status.state, status.state)
    text = f"⟳ {state}"
    if pending and status.state != "syncing":
        text += f" · {pending} pending"
    if status.open_conflicts:
        text += f" · {status.open_conflicts} conflict{'s' if status.open_conflicts != 1 else ''}"
    tip = f"Last sync: {when}. Changes waiting to be sent: {pending}."
    if status.state in ("offline", "error", "login-required") and status.last_error:
        tip += f"\n{status.last_error}"
    tip += "\nClick to open Sync settings; F5 syncs now."
    return text, tip


class SyncIndicator(QToolButton):
    """The status-bar button: state, pending changes, conflicts; click opens Settings → Sync."""

    def __init__(self, controller: SyncController) -> None:
        super().__init__()
        self.setAutoRaise(True)
        self.setAccessibleName("Sync status")
        self.setVisible(False)
        controller.status_changed.connect(self.show_status)

    def show_status(self, status: Any) -> None:
        text, tip = describe_status(status)
        self.setText(text)
        self.setToolTip(tip)
        self.setVisible(bool(text))
