"""Rate limits, the password-hashing cap and the security event log.

Limits are sliding windows over rows in `login_failures` (a key and a time): failed
logins per account, and per client address failed logins, registrations and refreshes.
Each limit is checked and its attempt recorded in one write transaction *before* the
slow password hash, so concurrent requests cannot all read the same count and all get
through (SQLite: BEGIN IMMEDIATE serialises writers; PostgreSQL: a transaction-scoped
advisory lock per key). A login that then succeeds takes its attempts back.

Keys are SHA-256 of what they count, so neither usernames nor addresses are stored.
Security events are JSON log lines on the `ohvault.server.security` logger; they name
accounts by the first 16 hex digits of that hash, never by name.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Connection

from ohvault.server import schema as s

security_log = logging.getLogger("ohvault.server.security")

HASH_WAIT_SECONDS = 10.0


def limit_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()


def client_ip(request: Request) -> str:
    # Behind a reverse proxy, uvicorn's --proxy-headers/--forwarded-allow-ips put the
    # client's address here (docs/deployment.md); otherwise it is the peer's.
    return request.client.host if request.client else "unknown"


def event(name: str, **fields: Any) -> None:
    """One structured security event (no secrets, no usernames, no addresses)."""
    security_log.info("security event", extra={"fields": {"event": name, **fields}})


def _serialise(conn: Connection, key: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(key[:15], 16)})


def recent(conn: Connection, key: str, since: int) -> tuple[int, int | None]:
    count, oldest = conn.execute(
        select(func.count(), func.min(s.login_failures.c.at)).where(
            s.login_failures.c.username_key == key, s.login_failures.c.at > since
        )
    ).one()
    return int(count), None if oldest is None else int(oldest)


def take(
    conn: Connection, key: str, limit: int, *, now: int, window_s: int
) -> tuple[int | None, int | None]:
    """Record one attempt under `key` unless `limit` are already in the window.

    Returns (attempt row id, None) when taken, or (None, seconds until one expires).
    Call inside a write transaction.
    """
    _serialise(conn, key)
    since = now - window_s * 1000
    count, oldest = recent(conn, key, since)
    if count >= limit:
        assert oldest is not None
        return None, max(1, (oldest + window_s * 1000 - now) // 1000 + 1)
    row_id = conn.execute(
        insert(s.login_failures).values(username_key=key, at=now)
    ).inserted_primary_key
    return int(row_id[0]) if row_id else None, None


def give_back(conn: Connection, *row_ids: int | None) -> None:
    ids = [i for i in row_ids if i is not None]
    if ids:
        conn.execute(delete(s.login_failures).where(s.login_failures.c.id.in_(ids)))


def prune(conn: Connection, *, now: int, window_s: int) -> None:
    conn.execute(delete(s.login_failures).where(s.login_failures.c.at <= now - window_s * 1000))


class HashBusy(Exception):
    """Every hashing slot stayed taken for HASH_WAIT_SECONDS."""


class HashGate:
    """At most `n` Argon2 computations at once in this process: memory stays bounded."""

    def __init__(self, n: int, wait: float = HASH_WAIT_SECONDS) -> None:
        self._slots = threading.BoundedSemaphore(n)
        self._wait = wait

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait):
            raise HashBusy
        try:
            yield
        finally:
            self._slots.release()
