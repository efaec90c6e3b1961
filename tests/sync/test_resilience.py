"""Crashes, dropped connections, a killed server and expired tokens: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from ohvault.keys.keychain import Keychain
from ohvault.model import Observation
from ohvault.sync import SyncAuthRequired, SyncClient, SyncOffline
from sync.conftest import new_username
from sync.devices import PASSWORD, Device, close_devices, new_device
from sync.server_proc import ServerProc
from sync.tcp_proxy import Proxy

# Each test starts its own server (and restarts it): seconds each on a busy machine.
pytestmark = pytest.mark.slow


def add_obs(d: Device, n: int) -> None:
    pid = d.vault.repo.profiles()[0].id
    d.vault.repo.add_many(
        [
            Observation(
                profile_id=pid, analyte=f"A{i}", value_num=float(i), effective=date(2024, 1, 1)
            )
            for i in range(n)
        ]
    )


def server_counts(server_url: str, d: Device) -> dict[str, int]:
    st = d.vault.db.execute("SELECT value FROM sync_state WHERE key = 'access_token'").fetchone()[0]
    vid = d.client.status().vault_id
    info = httpx.get(
        f"{server_url}/v1/vaults/{vid}", headers={"Authorization": f"Bearer {st}"}
    ).json()
    return {"head": info["head"], "bundles": info["bundle_count"]}


@pytest.fixture
def proxied(
    tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> Iterator[tuple[ServerProc, Proxy, Device, Device]]:
    fresh_server.start()
    proxy = Proxy(fresh_server.port)
    laptop = new_device(tmp_path, "laptop", keychain, profile="Kim Synthetic")
    desktop = new_device(tmp_path, "desktop", keychain)
    # Patient enough to outlast a server restart on a busy CI machine (bounded: ~40 s).
    laptop.client = SyncClient(
        laptop.vault, max_attempts=40, sleep=lambda s: time.sleep(min(s, 1.0))
    )
    user = new_username()
    laptop.client.enable(proxy.url, user, PASSWORD, register=True)
    desktop.client.join(fresh_server.url, user, PASSWORD, pairing_code=laptop.client.pairing_code())
    yield fresh_server, proxy, laptop, desktop
    proxy.close()
    close_devices(laptop, desktop, keychain=keychain)


def test_push_committed_but_answer_lost_is_not_duplicated(
    proxied: tuple[ServerProc, Proxy, Device, Device],
) -> None:
    server, proxy, laptop, desktop = proxied
    add_obs(laptop, 5)
    proxy.drop_next_push_response = True
    report = laptop.client.sync()
    assert report.pushed_records == 6  # profile + 5 observations, acknowledged on the retry
    assert server_counts(server.url, laptop) == {"head": 1, "bundles": 1}
    desktop.client.sync()
    assert len(desktop.vault.repo.observations(desktop.vault.repo.profiles()[0].id)) == 5
    assert laptop.state() == desktop.state()


def test_server_killed_mid_push_then_restarted(
    proxied: tuple[ServerProc, Proxy, Device, Device],
) -> None:
    server, proxy, laptop, desktop = proxied
    add_obs(laptop, 20)
    proxy.hold_next_push = True
    errors: list[BaseException] = []

    def run() -> None:
        try:
            laptop.client.sync()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert proxy.push_held.wait(20)
    server.kill()  # SIGKILL while the request is half received
    server.start()
    proxy.release.set()
    worker.join(60)
    assert not worker.is_alive() and errors == [], [getattr(e, "hint", None) for e in errors]
    assert server_counts(server.url, laptop) == {"head": 1, "bundles": 1}
    desktop.client.sync()
    assert len(desktop.vault.repo.observations(desktop.vault.repo.profiles()[0].id)) == 20
    assert laptop.state() == desktop.state()


def test_offline_then_crash_then_resume(proxied: tuple[ServerProc, Proxy, Device, Device]) -> None:
    server, proxy, laptop, desktop = proxied
    laptop.client.sync()
    server.stop()
    add_obs(laptop, 3)  # saving never waits on the network
    with pytest.raises(SyncOffline):
        SyncClient(laptop.vault, max_attempts=2, sleep=lambda _s: None).sync()
    assert laptop.client.status().state == "offline"
    assert laptop.client.status().pending_changes == 3
    server.start()
    # The push lands but the answer is lost and this client gives up at once ...
    proxy.drop_next_push_response = True
    impatient = SyncClient(laptop.vault, max_attempts=1)
    with pytest.raises(SyncOffline):
        impatient.sync()
    assert laptop.vault.db.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] == 1
    assert server_counts(server.url, laptop)["bundles"] == 2
    # ... then the app "crashes"; a new client finds its own bundle on the server and finishes.
    fresh = SyncClient(laptop.vault, max_attempts=3)
    report = fresh.sync()
    assert report.pushed_records == 3 and report.pulled_records == 0
    assert fresh.status().state == "idle" and fresh.status().pending_changes == 0
    assert server_counts(server.url, laptop) == {"head": 2, "bundles": 2}
    desktop.client.sync()
    assert laptop.state() == desktop.state()


def test_expired_access_token_is_refreshed_transparently(
    tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_ACCESS_TTL"] = "1"
    fresh_server.start()
    d = new_device(tmp_path, "laptop", keychain, profile="Lee Synthetic")
    try:
        d.client.enable(fresh_server.url, new_username(), PASSWORD, register=True)
        before = d.client.store.get("refresh_token")
        time.sleep(2.1)
        add_obs(d, 1)
        assert d.client.sync().pushed_records == 2
        assert d.client.store.get("refresh_token") != before  # rotated and kept in the vault
        # The old refresh token is now a copy: using it revokes the session, and the client says so.
        r = httpx.post(f"{fresh_server.url}/v1/auth/refresh", json={"refresh_token": before})
        assert r.json()["error"]["code"] == "refresh_reused"
        time.sleep(1.1)
        with pytest.raises(SyncAuthRequired):
            d.client.sync()
        assert d.client.status().state == "login-required"
        d.client.login(PASSWORD)
        d.client.sync()
        assert d.client.status().state == "idle"
    finally:
        close_devices(d, keychain=keychain)
