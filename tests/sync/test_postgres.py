"""The server on PostgreSQL: the same log semantics, concurrency and no plaintext at rest."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ohvault.keys.keychain import Keychain
from ohvault.model import Note
from sync.conftest import new_username, register_and_login
from sync.devices import PASSWORD, close_devices, new_device
from sync.server_proc import ServerProc
from sync.test_server_api import auth, make_vault, push

pytestmark = pytest.mark.slow


def test_concurrent_pushes_append_exactly_once_each(pg_server: ServerProc) -> None:
    url = pg_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    results: list[int] = []

    def pusher(i: int) -> None:
        # Every client believes the log is at 0: exactly one may win; the rest are stale.
        results.append(push(url, tokens, vault_id, 0, f"b{i}".encode()).status_code)

    threads = [threading.Thread(target=pusher, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 7
    bundle_id = str(uuid.uuid4())
    assert push(url, tokens, vault_id, 1, b"x", bundle_id).status_code == 201
    assert push(url, tokens, vault_id, 1, b"x", bundle_id).json()["duplicate"] is True
    info = httpx.get(f"{url}/v1/vaults/{vault_id}", headers=auth(tokens)).json()
    assert (info["head"], info["bundle_count"]) == (2, 2)


def test_two_devices_sync_through_postgres_without_plaintext(
    pg_server: ServerProc, tmp_path: Path, keychain: Keychain
) -> None:
    laptop = new_device(tmp_path, "laptop", keychain, profile="Jo Synthetic")
    desktop = new_device(tmp_path, "desktop", keychain)
    try:
        user = new_username()
        laptop.client.enable(pg_server.url, user, PASSWORD, register=True)
        canary = "CANARY-pg-41c7-synthetic"
        pid = laptop.vault.repo.profiles()[0].id
        laptop.vault.repo.add(Note(profile_id=pid, text=canary))
        laptop.client.sync()
        desktop.client.join(
            pg_server.url, user, PASSWORD, pairing_code=laptop.client.pairing_code()
        )
        desktop.client.sync(snapshot=True)
        assert desktop.vault.repo.records(Note, pid)[0].text == canary
        assert laptop.state() == desktop.state()
        subprocess_checkpoint(pg_server)
        for path in Path(pg_server.pg_data).rglob("*"):  # type: ignore[attr-defined]
            if path.is_file():
                data = path.read_bytes()
                assert canary.encode() not in data and b"Jo Synthetic" not in data, path.name
    finally:
        close_devices(laptop, desktop, keychain=keychain)


def subprocess_checkpoint(server: ServerProc) -> None:
    """Force PostgreSQL to write its buffers to the data files we then search."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        server.database_url.replace("postgresql://", "postgresql+psycopg://")
    )
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("CHECKPOINT"))
    engine.dispose()


def test_concurrent_guesses_respect_the_lockout_on_postgres(pg_server: ServerProc) -> None:
    """PostgreSQL reads committed data, so only the per-key advisory lock keeps this atomic."""
    url = pg_server.url
    user = register_and_login(url)["username"]
    body = {"username": user, "password": "wrong password!", "device_name": "t"}
    with httpx.Client() as client, ThreadPoolExecutor(40) as pool:
        statuses = list(
            pool.map(
                lambda _i: client.post(f"{url}/v1/auth/login", json=body, timeout=60).status_code,
                range(40),
            )
        )
    assert statuses.count(401) <= 5 and statuses.count(401) + statuses.count(429) == 40
