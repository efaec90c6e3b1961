"""A database connection that another thread can close at once, safely, while it is in use.

The app's vault worker owns the SQLCipher connection; locking must close it at once even
while a job hangs on that worker. Closing a sqlite3 connection while another thread is inside
one of its C calls frees statements under that thread (a segmentation fault), so every call into
the connection and into the cursors it returns goes through one lock here. `close_now()`
interrupts the running statement (SQLite's documented cross-thread call), waits only for that
call to return, then closes; every later call raises VaultLocked. A job that hangs in Python,
between calls, holds nothing, so the close does not wait for it at all.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ohvault.errors import VaultLocked


class GuardedConnection:
    """Wraps a sqlite3/sqlcipher3 connection; same methods, plus `close_now()`."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._closed = False

    @property
    def raw(self) -> Any:
        return self._conn

    def _guarded(self, call: Callable[[], Any]) -> Any:
        with self._lock:
            if self._closed:
                raise VaultLocked("The vault is locked.")
            result = call()
        if _is_cursor(result):
            return GuardedCursor(result, self)
        return result

    def __getattr__(self, name: str) -> Any:
        attr = self._guarded(lambda: getattr(self._conn, name))
        if callable(attr) and not isinstance(attr, GuardedCursor):
            return lambda *args, **kwargs: self._guarded(lambda: attr(*args, **kwargs))
        return attr

    def interrupt(self) -> None:
        """Abort the running statement (from any thread; it is not waited for)."""
        if not self._closed:
            self._conn.interrupt()

    def close(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        """Interrupt what runs, then close as soon as the current call returns. Idempotent."""
        if self._closed:
            return
        with contextlib.suppress(Exception):  # already closed underneath: nothing runs
            self._conn.interrupt()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed


class GuardedCursor:
    """A cursor whose every call holds its connection's lock."""

    def __init__(self, cursor: Any, owner: GuardedConnection) -> None:
        self._cursor = cursor
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        attr = self._owner._guarded(lambda: getattr(self._cursor, name))
        if callable(attr):
            return lambda *args, **kwargs: self._owner._guarded(lambda: attr(*args, **kwargs))
        return attr

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return self._owner._guarded(lambda: next(self._cursor))


def _is_cursor(value: Any) -> bool:
    return type(value).__name__ == "Cursor" and hasattr(value, "fetchone")


def guard(db: Any) -> GuardedConnection:
    """Put `db.conn` (an ohvault.storage.db.Database) behind the guard; idempotent."""
    if not isinstance(db.conn, GuardedConnection):
        db.conn = GuardedConnection(db.conn)
    conn: GuardedConnection = db.conn
    return conn
