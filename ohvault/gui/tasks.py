"""One worker thread runs all vault work; results come back to the GUI thread by signal.

Modelled on Anki's taskman/QueryOp: a view describes work as `op(ctx)`, which
runs on the single worker (so the SQLCipher connection is only ever used by one
thread) and must never touch widgets; `success(result)` runs on the GUI thread.
After a write the executor emits one `changes` signal naming what changed (typed
`Change` kinds, `ohvault/changes.py`), and each screen decides whether to refresh.
An op learns what it changed from the core: it calls a core operation through
`ctx.apply(fn, ...)`, which records the kinds `fn` declares (`@changes`), as Anki's
`CollectionOp` takes the `OpChanges` its backend call returns. Only a write whose
kinds depend on its arguments (a record of any type) names them at the call site,
`run(op, writes={Change.of_record(...)})`.

Every job carries the session epoch it was started in. Locking bumps the
epoch, so a result that arrives after a lock is dropped instead of painting
PHI onto a cleared screen, and cancels every job in flight.

Work that does not need the vault (reading a PDF, text recognition) declares
`needs_vault=False` and runs on a lane of its own: it never makes a vault job
wait, the lock never waits for it, and it cannot reach the vault (`ctx.vault`
refuses). Locking does not wait for the vault worker either: `detach_vault()`
hands the vault to the lock at once, whatever job is running (see
`Session.lock`).

Another thread that needs one step done with the vault (the sync lane, which only
talks to the network) calls `call(op)`: the op is queued on the vault worker like
any job, and the caller waits for its result, giving up at once when it is
cancelled. The vault worker is therefore the only thread that ever uses the
vault's connection; the GUI thread only closes it, under the guard, when locking.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from ohvault.changes import Change, OpChanges, changes_of
from ohvault.errors import Cancelled, VaultLocked

if TYPE_CHECKING:
    from ohvault.vault import Vault

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
HANDOFF_POLL_S = 0.05  # how soon a waiting caller notices it was cancelled


@dataclass
class JobContext:
    """What an op may use on the worker thread."""

    job: Job
    executor: Executor
    needs_vault: bool = True

    @property
    def vault(self) -> Vault:
        if not self.needs_vault:
            # A programming error: the op said it needs no vault and runs off the vault lane.
            raise RuntimeError(f"{self.job.label!r} was started with needs_vault=False")
        vault = self.executor.vault
        if vault is None or vault.locked:
            raise VaultLocked("The vault is locked.")
        return vault

    def apply(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the core operation `fn(*args, **kwargs)` and record what it declares it changes.

        The job announces those kinds once it succeeds, with any its caller declared.
        """
        kinds = changes_of(fn)  # before the call: an undeclared operation never runs
        result = fn(*args, **kwargs)
        self.job.changed |= kinds
        return result

    def progress(self, done: int, total: int, text: str = "") -> None:
        self.job.progressed.emit(done, total, text)

    def cancelled(self) -> bool:
        return self.job.is_cancelled()

    def check_cancel(self) -> None:
        if self.job.is_cancelled():
            raise Cancelled()


class Job(QObject):
    """A handle on one submitted op: progress, cancel and completion signals."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, label: str, epoch: int) -> None:
        super().__init__()
        self.label = label
        self.epoch = epoch
        self._cancel = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.changed: OpChanges = frozenset()  # what its core operations reported (ctx.apply)

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


@dataclass
class _Pending:
    job: Job
    op: Callable[[JobContext], Any]
    writes: OpChanges = field(default_factory=frozenset)
    needs_vault: bool = True


@dataclass
class _Handoff:
    """One op another thread asked the vault worker to run (see `Executor.call`)."""

    op: Callable[[JobContext], Any]
    label: str
    epoch: int
    future: Future[Any] = field(default_factory=Future)


class _Runnable(QRunnable):
    def __init__(self, executor: Executor, pending: _Pending) -> None:
        super().__init__()
        self._executor = executor
        self._pending = pending
        self.setAutoDelete(True)

    def run(self) -> None:
        job = self._pending.job
        try:
            ctx = JobContext(job, self._executor, self._pending.needs_vault)
            result = self._pending.op(ctx)
        except BaseException as exc:  # everything is reported; nothing escapes the thread
            self._executor._finished.emit(self._pending, None, exc)
        else:
            self._executor._finished.emit(self._pending, result, None)
        finally:
            if self._pending.needs_vault:
                self._executor._guard_vault()


class Executor(QObject):
    """The single worker. `changes` carries the set of change kinds after a write."""

    changes = Signal(object)  # OpChanges, i.e. frozenset[Change]
    busy_changed = Signal(bool)
    idle = Signal()
    job_started = Signal(object)  # Job
    _finished = Signal(object, object, object)
    _handoff = Signal(object)  # _Handoff, emitted from another thread

    def __init__(self, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        super().__init__()
        self.vault: Vault | None = None  # touched only by ops, i.e. on the worker thread
        self.epoch = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep one thread for the app's lifetime
        # Work that needs no vault: one thread of its own, so it neither waits for nor blocks
        # the vault worker.
        self._free_pool = QThreadPool(self)
        self._free_pool.setMaxThreadCount(1)
        self._running = 0
        self._in_flight: dict[Job, bool] = {}  # job -> needs_vault, until delivered
        self._on_error = on_error
        self._finished.connect(self._deliver)
        self._handoff.connect(self._start_handoff)

    @property
    def busy(self) -> bool:
        return self._running > 0

    @property
    def vault_busy(self) -> bool:
        """A vault job is queued or running (its result not yet delivered)."""
        return any(self._in_flight.values())

    def run(
        self,
        op: Callable[[JobContext], Any],
        *,
        success: Callable[[Any], None] | None = None,
        failure: Callable[[BaseException], None] | None = None,
        writes: Iterable[Change] = (),
        label: str = "Working",
        needs_vault: bool = True,
    ) -> Job:
        """Queue `op` on the worker. `failure` defaults to the error dialog.

        When it succeeds, the executor announces what its core operations reported
        (`ctx.apply`) and `writes`, the kinds the caller names for writes whose kinds only
        it knows. `needs_vault=False` runs it on the lane for work that must not touch the
        vault.
        """
        # Change(...) also refuses a string that names no kind, at once, not as a lost refresh.
        declared = frozenset(Change(kind) for kind in writes)
        job = Job(label, self.epoch)
        if success is not None:
            job.succeeded.connect(success)
        job.failed.connect(failure if failure is not None else self._default_failure(label))
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)
        self._in_flight[job] = needs_vault
        self.job_started.emit(job)
        pool = self._pool if needs_vault else self._free_pool
        pool.start(_Runnable(self, _Pending(job, op, declared, needs_vault)))
        return job

    def call(
        self,
        op: Callable[[JobContext], T],
        *,
        epoch: int,
        should_cancel: Callable[[], bool],
        label: str = "Working",
    ) -> T:
        """(Another thread, never the GUI thread) Run `op` on the vault worker; its result.

        `epoch` is the session epoch the caller started in: after a lock the op never runs
        (VaultLocked), even if the vault was unlocked again meanwhile. While waiting, the
        caller polls `should_cancel` and raises Cancelled as soon as it is true; an op not
        started by then never starts. The op's own errors are raised here.
        """
        if QThread.currentThread() is self.thread():
            # The handoff is queued to this thread, which would be blocked here waiting for it.
            raise RuntimeError("Executor.call from the GUI thread would wait for itself")
        handoff = _Handoff(op, label, epoch)
        self._handoff.emit(handoff)  # queued: jobs are only ever started on the GUI thread
        while True:
            if should_cancel():
                handoff.future.cancel()
                raise Cancelled()
            try:
                result: T = handoff.future.result(timeout=HANDOFF_POLL_S)
                return result
            except TimeoutError:
                continue

    def _start_handoff(self, handoff: _Handoff) -> None:
        """(GUI thread) Queue a handed-off op as an ordinary vault job."""
        if handoff.epoch != self.epoch:
            if handoff.future.set_running_or_notify_cancel():
                handoff.future.set_exception(VaultLocked("The vault is locked."))
            return

        def op(ctx: JobContext) -> Any:
            if not handoff.future.set_running_or_notify_cancel():
                raise Cancelled()  # the caller gave up before the worker got to it
            try:
                result = handoff.op(ctx)
            except BaseException as exc:
                handoff.future.set_exception(exc)
                raise
            handoff.future.set_result(result)
            return result

        # The caller gets the result or the error through the future; nothing to report here.
        self.run(op, label=handoff.label, failure=lambda exc: None)

    def _default_failure(self, label: str) -> Callable[[BaseException], None]:
        def report(exc: BaseException) -> None:
            if self._on_error is not None:
                self._on_error(label, exc)

        return report

    def _deliver(self, pending: _Pending, result: Any, error: BaseException | None) -> None:
        job = pending.job
        job.result, job.error, job.finished = result, error, True
        self._running -= 1
        self._in_flight.pop(job, None)
        try:
            if job.epoch != self.epoch:
                # Started before a lock: its result may hold PHI the user locked away.
                log.debug("dropping the result of a job from before the last lock")
            elif error is None:
                job.succeeded.emit(result)
                changed = pending.writes | job.changed
                if changed:
                    self.changes.emit(changed)
            elif isinstance(error, Cancelled):
                log.info("%s cancelled", job.label)
            else:
                if not isinstance(error, Exception):
                    raise error
                if not isinstance(error, VaultLocked) or self.vault is not None:
                    log.info("%s failed: %s", job.label, type(error).__name__)
                job.failed.emit(error)
        finally:
            job.done.emit()
            if self._running == 0:
                self.busy_changed.emit(False)
                self.idle.emit()

    def bump_epoch(self) -> None:
        """Forget every job in flight: their results will be dropped, and each is cancelled."""
        self.epoch += 1
        for job in list(self._in_flight):
            job.cancel()

    def _guard_vault(self) -> None:
        """(Worker thread) Keep the vault's connection closable from the GUI thread.

        After every vault job, since unlocking and key rotation open a new connection.
        """
        vault = self.vault
        if vault is not None and not vault.locked:
            from ohvault.storage.guarded import guard

            guard(vault.db)

    def detach_vault(self) -> Vault | None:
        """Take the vault away from every op, now (GUI thread, when locking).

        An op that asks for `ctx.vault` from here on gets VaultLocked. One already holding the
        vault finds its database closed under it once the caller locks it; its result is
        dropped because the caller bumped the epoch first.
        """
        vault, self.vault = self.vault, None
        return vault

    def wait_for_done(self, msecs: int = 30_000) -> bool:
        """Block until the worker is idle (shutdown only; results are delivered later)."""
        done = self._pool.waitForDone(msecs)
        return bool(self._free_pool.waitForDone(msecs)) and bool(done)
