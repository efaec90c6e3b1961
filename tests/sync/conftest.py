"""Fixtures for sync tests: a real server on 127.0.0.1 and helpers to talk to it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.server_proc import ServerProc


@pytest.fixture(scope="session")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """One SQLite-backed server per test session (per xdist worker); tests use fresh accounts."""
    work = tmp_path_factory.mktemp("sync-server")
    server = ServerProc(work, f"sqlite:///{work / 'server.db'}").start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProc]:
    """A server of this test's own, for tests that kill it or change its settings."""
    server = ServerProc(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv' / 'server.db'}")
    yield server
    server.stop()


def new_username() -> str:
    return f"user-{secrets.token_hex(6)}"


PASSWORD = "correct horse battery staple"


def register_and_login(url: str, username: str | None = None) -> dict[str, str]:
    username = username or new_username()
    r = httpx.post(f"{url}/v1/accounts", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{url}/v1/auth/login",
        json={"username": username, "password": PASSWORD, "device_name": "test"},
    )
    assert r.status_code == 200, r.text
    tokens: dict[str, str] = r.json()
    tokens["username"] = username
    return tokens


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """The same server on a real PostgreSQL cluster started for this session."""
    from sync.postgres import PostgresCluster

    cluster = PostgresCluster()
    url = cluster.start()
    server = ServerProc(tmp_path_factory.mktemp("pg-sync-server"), url)
    server.pg_data = cluster.data  # type: ignore[attr-defined]
    try:
        server.start()
        yield server
    finally:
        server.stop()
        cluster.stop()
