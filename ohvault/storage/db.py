"""Opening the SQLCipher database with a raw 256-bit key.

The key goes through the driver's key call (`set_key`) in SQLCipher's raw-key
form, never into an SQL string, so it cannot end up in a statement log. Temp
tables and sort spills stay in memory, SQLCipher's own logging is off, and the
rollback journal (not WAL) keeps the file set small for backups, restores and
key rotation, which replace the database file as a whole.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import sqlcipher3

from ohvault.errors import VaultCorrupt, WrongKey
from ohvault.keys.secret import SecretKey

PAGE_SIZE = 4096  # SQLCipher 4 default
DatabaseError = sqlcipher3.DatabaseError
# sqlcipher3 ships no type information; its Connection mirrors sqlite3.Connection.
Connection: TypeAlias = Any


def raw_key(key: SecretKey) -> bytes:
    return b"x'" + key.hex().encode("ascii") + b"'"


def _quiet_sqlcipher(conn: Connection) -> None:
    # SQLCipher logs decryption failures (page numbers, HMAC errors) to stderr by default.
    conn.execute("PRAGMA cipher_log_level = NONE")


def connect(path: Path, key: SecretKey, *, create: bool = False) -> Connection:
    """A keyed connection; WrongKey if the key does not open the file, VaultCorrupt if damaged."""
    if not create:
        if not path.exists():
            raise VaultCorrupt("The vault database file is missing.")
        if path.stat().st_size == 0:
            # SQLite would treat an empty file as a new, empty database.
            raise VaultCorrupt(
                "The vault database file is empty.",
                hint="Restore it from a backup (`ohvault restore`).",
            )
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    if create:
        os.chmod(path, 0o600)
    try:
        _quiet_sqlcipher(conn)
        conn.set_key(raw_key(key))
        conn.execute("PRAGMA temp_store = MEMORY")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            if path.exists() and path.stat().st_size % PAGE_SIZE != 0:
                raise VaultCorrupt(
                    "The vault database is truncated or damaged.",
                    hint="Restore it from a backup (`ohvault restore`).",
                ) from exc
            raise WrongKey("That key does not open this vault's database.") from exc
        # 64 MiB of page cache (the default is 8): a 100,000-row import then stays in
        # memory until commit instead of spilling encrypted pages to disk halfway.
        # (Set only once the key is known to be right: it reads the database header.)
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
    except BaseException:
        conn.close()
        raise
    return conn


def key_opens(path: Path, key: SecretKey) -> bool:
    try:
        connect(path, key).close()
    except WrongKey:
        return False
    return True


class Database:
    """One connection plus a re-entrant transaction context.

    The connection may be used from one thread at a time; the GUI gives it to a
    single worker thread (see ohvault.gui.tasks), the CLI uses it directly.
    """

    def __init__(self, conn: Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0
        self._lock = threading.RLock()

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        return self.conn.executemany(sql, rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing; nested calls become savepoints of the outer transaction."""
        with self._lock:
            depth = self._depth
            if depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self.conn.execute(f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO sp{depth}")
                    self.conn.execute(f"RELEASE sp{depth}")
                raise
            self._depth -= 1
            if depth == 0:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute(f"RELEASE sp{depth}")

    def close(self) -> None:
        self.conn.close()
