"""Server hardening from issue 13, each against a real uvicorn on 127.0.0.1 with real
concurrent requests: an atomic login lockout, per-address limits, a cap on concurrent
password hashing, registration closed once an account exists, security headers, security
events in the log, a per-account quota, and an absolute session lifetime."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.conftest import PASSWORD, new_username, register_and_login
from sync.server_proc import ServerProc
from sync.test_server_api import auth, make_vault, push

pytestmark = pytest.mark.slow


def login(url: str, username: str, password: str, client: httpx.Client | None = None) -> Any:
    body = {"username": username, "password": password, "device_name": "t"}
    return (client or httpx).post(f"{url}/v1/auth/login", json=body, timeout=60)


def events(server: ServerProc) -> list[dict[str, Any]]:
    out = []
    for line in server.log_path.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "ohvault.server.security":
                out.append(entry)
    return out


def test_sixty_concurrent_guesses_get_no_more_than_the_windows_five(
    fresh_server: ServerProc,
) -> None:
    url = fresh_server.start().url
    user = register_and_login(url)["username"]
    with (
        httpx.Client(limits=httpx.Limits(max_connections=60)) as client,
        ThreadPoolExecutor(60) as pool,
    ):
        statuses = list(
            pool.map(lambda _i: login(url, user, "wrong password!", client).status_code, range(60))
        )
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(401) + statuses.count(429) == 60
    # The account stays locked, for the right password too.
    r = login(url, user, PASSWORD)
    assert r.status_code == 429 and r.json()["error"]["code"] == "locked_out"
    assert int(r.headers["retry-after"]) > 0
    names = [e["event"] for e in events(fresh_server)]
    assert names.count("login_failed") == statuses.count(401)
    assert "login_locked_out" in names
    assert all(user not in json.dumps(e) for e in events(fresh_server))


def test_failed_logins_are_limited_per_address_across_accounts(fresh_server: ServerProc) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_IP_MAX_LOGIN_FAILURES"] = "3"
    url = fresh_server.start().url
    statuses = [login(url, new_username(), "wrong password!").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    r = login(url, new_username(), "wrong password!")
    assert r.json()["error"]["code"] == "rate_limited" and "retry-after" in r.headers


def test_concurrent_password_hashing_is_capped(fresh_server: ServerProc) -> None:
    """12 logins at once with a 64 MiB hash: memory grows by a couple of hashes, not 12."""
    fresh_server.env_extra.update(
        {
            "OHVAULT_SERVER_ARGON2_MEMORY_KIB": str(64 * 1024),
            "OHVAULT_SERVER_MAX_CONCURRENT_HASHES": "2",
        }
    )
    server = fresh_server.start()
    # Four logins per account: in-flight attempts count against an account's five.
    users = [register_and_login(server.url)["username"] for _ in range(3)]
    assert server.proc is not None

    def peak_kib() -> int:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()  # type: ignore[union-attr]
        return int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1])

    before = peak_kib()
    with ThreadPoolExecutor(12) as pool:
        statuses = list(
            pool.map(lambda i: login(server.url, users[i % 3], PASSWORD).status_code, range(12))
        )
    assert statuses == [200] * 12
    grown_mib = (peak_kib() - before) / 1024
    # Uncapped, 12 concurrent hashes need 12 x 64 MiB = 768 MiB; the cap allows 2 at once.
    assert grown_mib < 4 * 64, f"peak memory grew by {grown_mib:.0f} MiB"


def test_registration_is_closed_once_an_account_exists_by_default(
    fresh_server: ServerProc,
) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_ALLOW_REGISTRATION"] = "first"
    url = fresh_server.start().url
    first = httpx.post(f"{url}/v1/accounts", json={"username": "owner", "password": PASSWORD})
    assert first.status_code == 201
    r = httpx.post(f"{url}/v1/accounts", json={"username": "second", "password": PASSWORD})
    assert r.status_code == 403 and r.json()["error"]["code"] == "registration_closed"


def test_registration_and_refresh_are_rate_limited_per_address(fresh_server: ServerProc) -> None:
    fresh_server.env_extra.update(
        {"OHVAULT_SERVER_IP_MAX_REGISTRATIONS": "2", "OHVAULT_SERVER_IP_MAX_REFRESHES": "2"}
    )
    url = fresh_server.start().url
    tokens = register_and_login(url)
    register_and_login(url)
    r = httpx.post(f"{url}/v1/accounts", json={"username": new_username(), "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    refresh = tokens["refresh_token"]
    for _ in range(2):
        r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": refresh})
        assert r.status_code == 200
        refresh = r.json()["refresh_token"]
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 429


def test_token_answers_are_not_cached_and_carry_security_headers(
    sync_server: ServerProc,
) -> None:
    url = sync_server.url
    user = register_and_login(url)["username"]
    for r in (login(url, user, PASSWORD), httpx.get(f"{url}/health"), httpx.get(f"{url}/nope")):
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in r.headers["content-security-policy"]
    for page in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(f"{url}{page}").status_code == 404


def test_docs_pages_only_when_enabled(fresh_server: ServerProc) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_ENABLE_DOCS"] = "true"
    url = fresh_server.start().url
    assert httpx.get(f"{url}/docs").status_code == 200
    assert httpx.get(f"{url}/openapi.json").status_code == 200


def test_refresh_reuse_and_device_revocation_are_security_events(
    fresh_server: ServerProc,
) -> None:
    url = fresh_server.start().url
    tokens = register_and_login(url)
    old = tokens["refresh_token"]
    assert httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": old}).status_code == 200
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": old})
    assert r.json()["error"]["code"] == "refresh_reused"
    other = login(url, tokens["username"], PASSWORD).json()
    r = httpx.delete(f"{url}/v1/devices/{tokens['device_id']}", headers=auth(other))
    assert r.status_code == 204
    names = [e["event"] for e in events(fresh_server)]
    assert {"login_succeeded", "refresh_token_reused", "device_revoked"} <= set(names)
    assert all(old not in json.dumps(e) for e in events(fresh_server))


def test_a_session_ends_at_its_absolute_lifetime_however_often_refreshed(
    fresh_server: ServerProc,
) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_SESSION_MAX_AGE"] = "3600"
    url = fresh_server.start().url
    tokens = register_and_login(url)
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    # The login was an hour ago (the server's clock, moved in its own database).
    db = fresh_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE token_families SET created_at = created_at - 3600 * 1000")
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_quota_per_account_across_vaults(fresh_server: ServerProc) -> None:
    fresh_server.env_extra.update(
        {"OHVAULT_SERVER_QUOTA_BYTES": "1500", "OHVAULT_SERVER_ACCOUNT_QUOTA_BYTES": "2000"}
    )
    url = fresh_server.start().url
    tokens = register_and_login(url)
    first, second = make_vault(url, tokens), make_vault(url, tokens)
    assert push(url, tokens, first, 0, b"a" * 1200).status_code == 201
    r = push(url, tokens, second, 0, b"b" * 1200)
    assert r.status_code == 507 and "account" in r.json()["error"]["message"]
    assert push(url, tokens, second, 0, b"b" * 700).status_code == 201


def test_password_change_ends_other_sessions_and_needs_the_current_password(
    fresh_server: ServerProc,
) -> None:
    url = fresh_server.start().url
    tokens = register_and_login(url)
    other = login(url, tokens["username"], PASSWORD).json()
    change = f"{url}/v1/account/password"
    r = httpx.post(
        change,
        json={"password": "not the password", "new_password": "x" * 12},
        headers=auth(tokens),
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "bad_credentials"
    new = "a brand new passphrase"
    r = httpx.post(change, json={"password": PASSWORD, "new_password": new}, headers=auth(tokens))
    assert r.status_code == 204
    assert httpx.get(f"{url}/v1/vaults", headers=auth(tokens)).status_code == 200
    r = httpx.get(f"{url}/v1/vaults", headers=auth(other))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked"
    assert login(url, tokens["username"], PASSWORD).status_code == 401
    assert login(url, tokens["username"], new).status_code == 200
    assert "password_changed" in [e["event"] for e in events(fresh_server)]


def test_account_deletion_removes_everything_the_server_holds(fresh_server: ServerProc) -> None:
    url = fresh_server.start().url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    assert push(url, tokens, vault_id, 0, b"ciphertext").status_code == 201
    r = httpx.post(
        f"{url}/v1/account/delete", json={"password": "wrong one!"}, headers=auth(tokens)
    )
    assert r.status_code == 403
    r = httpx.post(f"{url}/v1/account/delete", json={"password": PASSWORD}, headers=auth(tokens))
    assert r.status_code == 204
    assert login(url, tokens["username"], PASSWORD).status_code == 401
    assert httpx.get(f"{url}/v1/vaults", headers=auth(tokens)).status_code == 401
    db = fresh_server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        for table in (
            "accounts",
            "devices",
            "token_families",
            "refresh_tokens",
            "vaults",
            "bundles",
        ):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608
