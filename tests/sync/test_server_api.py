"""The reference server over real HTTP on 127.0.0.1: accounts, tokens, the bundle log, limits."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx

from sync.conftest import PASSWORD, new_username, register_and_login
from sync.server_proc import ServerProc


def auth(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_vault(url: str, tokens: dict[str, str]) -> str:
    vault_id = str(uuid.uuid4())
    r = httpx.put(f"{url}/v1/vaults/{vault_id}", headers=auth(tokens))
    assert r.status_code == 201, r.text
    return vault_id


def push(
    url: str,
    tokens: dict[str, str],
    vault_id: str,
    base: int,
    data: bytes,
    bundle_id: str | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/vaults/{vault_id}/bundles",
        headers=auth(tokens),
        json={"bundle_id": bundle_id or str(uuid.uuid4()), "base_seq": base, "payload": b64(data)},
    )


def test_health_ready_live(sync_server: ServerProc) -> None:
    for path, status in (("/health", "ok"), ("/live", "alive"), ("/ready", "ready")):
        r = httpx.get(sync_server.url + path)
        assert r.status_code == 200
        assert r.json()["status"] == status
        assert r.headers["x-request-id"]


def test_push_pull_and_optimistic_concurrency(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    r = push(url, tokens, vault_id, 0, b"first")
    assert r.status_code == 201 and r.json()["seq"] == 1
    # A device that has not seen seq 1 is refused and told where the log is.
    stale = push(url, tokens, vault_id, 0, b"second")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale"
    r = push(url, tokens, vault_id, 1, b"second")
    assert r.json()["seq"] == 2
    r = httpx.get(f"{url}/v1/vaults/{vault_id}/bundles", params={"after": 0}, headers=auth(tokens))
    body = r.json()
    assert [base64.b64decode(b["payload"]) for b in body["bundles"]] == [b"first", b"second"]
    assert body["head"] == 2 and body["more"] is False
    r = httpx.get(
        f"{url}/v1/vaults/{vault_id}/bundles", params={"after": 1, "limit": 1}, headers=auth(tokens)
    )
    assert [b["seq"] for b in r.json()["bundles"]] == [2]


def test_retried_push_is_not_duplicated(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    bundle_id = str(uuid.uuid4())
    assert push(url, tokens, vault_id, 0, b"x", bundle_id).status_code == 201
    assert push(url, tokens, vault_id, 1, b"y").status_code == 201
    # The same bundle again, even with a now-stale base: acknowledged, not appended.
    again = push(url, tokens, vault_id, 0, b"x", bundle_id)
    assert again.status_code == 200
    assert again.json() == {"seq": 1, "duplicate": True, "head": 2}
    info = httpx.get(f"{url}/v1/vaults/{vault_id}", headers=auth(tokens)).json()
    assert info["bundle_count"] == 2


def test_another_accounts_vault_is_refused(sync_server: ServerProc) -> None:
    url = sync_server.url
    alice = register_and_login(url)
    mallory = register_and_login(url)
    vault_id = make_vault(url, alice)
    assert push(url, alice, vault_id, 0, b"secret").status_code == 201
    for request in (
        lambda: httpx.get(f"{url}/v1/vaults/{vault_id}/bundles", headers=auth(mallory)),
        lambda: push(url, mallory, vault_id, 1, b"evil"),
        lambda: httpx.put(f"{url}/v1/vaults/{vault_id}", headers=auth(mallory)),
        lambda: httpx.get(f"{url}/v1/vaults/{vault_id}/keyslots/recovery", headers=auth(mallory)),
    ):
        r = request()
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"
    assert vault_id not in [
        v["vault_id"] for v in httpx.get(f"{url}/v1/vaults", headers=auth(mallory)).json()
    ]


def test_refresh_rotates_and_reuse_revokes_the_family(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    first = tokens["refresh_token"]
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first
    # The old refresh token shows up again: someone copied it. The whole family ends.
    reuse = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "refresh_reused"
    r = httpx.post(f"{url}/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked"
    r = httpx.get(f"{url}/v1/vaults", headers=auth(second))
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked"


def test_logout_and_device_revocation(sync_server: ServerProc) -> None:
    url = sync_server.url
    laptop = register_and_login(url)
    desktop = httpx.post(
        f"{url}/v1/auth/login",
        json={"username": laptop["username"], "password": PASSWORD, "device_name": "desktop"},
    ).json()
    devices = httpx.get(f"{url}/v1/devices", headers=auth(laptop)).json()
    assert sorted(d["name"] for d in devices) == ["desktop", "test"]
    r = httpx.delete(f"{url}/v1/devices/{desktop['device_id']}", headers=auth(laptop))
    assert r.status_code == 204
    assert httpx.get(f"{url}/v1/vaults", headers=auth(desktop)).status_code == 401
    assert (
        httpx.post(
            f"{url}/v1/auth/refresh", json={"refresh_token": desktop["refresh_token"]}
        ).status_code
        == 401
    )
    assert httpx.get(f"{url}/v1/vaults", headers=auth(laptop)).status_code == 200
    assert httpx.post(f"{url}/v1/auth/logout", headers=auth(laptop)).status_code == 204
    assert httpx.get(f"{url}/v1/vaults", headers=auth(laptop)).status_code == 401


def test_login_lockout_after_five_failures(sync_server: ServerProc) -> None:
    url = sync_server.url
    username = new_username()
    assert (
        httpx.post(
            f"{url}/v1/accounts", json={"username": username, "password": PASSWORD}
        ).status_code
        == 201
    )
    for _ in range(5):
        r = httpx.post(
            f"{url}/v1/auth/login", json={"username": username, "password": "wrong password"}
        )
        assert r.status_code == 401
    # Locked: even the right password is refused, with a Retry-After.
    r = httpx.post(f"{url}/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "locked_out"
    assert 800 <= int(r.headers["retry-after"]) <= 901
    # Another account is not affected.
    register_and_login(url)


def test_bad_requests_get_clear_statuses(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    assert httpx.get(f"{url}/v1/vaults").status_code == 401
    r = httpx.get(f"{url}/v1/vaults", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.json()["error"]["code"] == "invalid_token"
    r = httpx.post(
        f"{url}/v1/vaults/{vault_id}/bundles",
        headers={**auth(tokens), "content-type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = httpx.post(
        f"{url}/v1/vaults/{vault_id}/bundles",
        headers=auth(tokens),
        json={"bundle_id": str(uuid.uuid4()), "base_seq": 0, "payload": ""},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = httpx.get(f"{url}/v1/vaults/not-a-uuid", headers=auth(tokens))
    assert r.status_code == 422
    # Over the request size limit (16 MiB by default): refused before the body is read.
    big = b"{" + b" " * (17 * 1024 * 1024) + b"}"
    r = httpx.post(
        f"{url}/v1/vaults/{vault_id}/bundles",
        headers={**auth(tokens), "content-type": "application/json"},
        content=big,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    # Under the request limit but over the bundle limit (8 MiB).
    r = push(url, tokens, vault_id, 0, b"\0" * (9 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert httpx.get(f"{url}/v1/vaults/{vault_id}", headers=auth(tokens)).json()["head"] == 0


def test_quota_on_bundle_count(fresh_server: ServerProc) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_QUOTA_BUNDLES"] = "2"
    url = fresh_server.start().url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    assert push(url, tokens, vault_id, 0, b"a").status_code == 201
    assert push(url, tokens, vault_id, 1, b"b").status_code == 201
    r = push(url, tokens, vault_id, 2, b"c")
    assert r.status_code == 507 and r.json()["error"]["code"] == "quota_exceeded"


def test_expired_access_token_is_refused_as_expired(fresh_server: ServerProc) -> None:
    fresh_server.env_extra["OHVAULT_SERVER_ACCESS_TTL"] = "1"
    url = fresh_server.start().url
    tokens = register_and_login(url)
    time.sleep(2.1)
    r = httpx.get(f"{url}/v1/vaults", headers=auth(tokens))
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_snapshot_compacts_the_log(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    for i in range(3):
        push(url, tokens, vault_id, i, f"b{i}".encode())
    sid = str(uuid.uuid4())
    for n in range(2):
        r = httpx.put(
            f"{url}/v1/vaults/{vault_id}/snapshots/{sid}/parts/{n}",
            headers=auth(tokens),
            json={"payload": b64(b"part%d" % n)},
        )
        assert r.status_code == 204
    bad = httpx.post(
        f"{url}/v1/vaults/{vault_id}/snapshots/{sid}/commit",
        headers=auth(tokens),
        json={"upto_seq": 2, "parts": 3},
    )
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "snapshot_incomplete"
    r = httpx.post(
        f"{url}/v1/vaults/{vault_id}/snapshots/{sid}/commit",
        headers=auth(tokens),
        json={"upto_seq": 2, "parts": 2},
    )
    assert r.status_code == 200, r.text
    # A device behind the snapshot is sent to it; one after it pulls the rest.
    r = httpx.get(f"{url}/v1/vaults/{vault_id}/bundles", params={"after": 1}, headers=auth(tokens))
    assert r.status_code == 410 and r.json()["error"]["code"] == "compacted"
    snap = httpx.get(f"{url}/v1/vaults/{vault_id}/snapshot", headers=auth(tokens)).json()
    assert snap["upto_seq"] == 2 and snap["parts"] == 2
    part = httpx.get(
        f"{url}/v1/vaults/{vault_id}/snapshots/{sid}/parts/1", headers=auth(tokens)
    ).json()
    assert base64.b64decode(part["payload"]) == b"part1"
    r = httpx.get(f"{url}/v1/vaults/{vault_id}/bundles", params={"after": 2}, headers=auth(tokens))
    assert [b["seq"] for b in r.json()["bundles"]] == [3]
    assert (
        httpx.get(f"{url}/v1/vaults/{vault_id}", headers=auth(tokens)).json()["bundle_count"] == 1
    )


def test_pairing_offer_is_claimed_once(sync_server: ServerProc) -> None:
    url = sync_server.url
    laptop = register_and_login(url)
    vault_id = make_vault(url, laptop)
    desktop = httpx.post(
        f"{url}/v1/auth/login", json={"username": laptop["username"], "password": PASSWORD}
    ).json()
    other = register_and_login(url)
    r = httpx.post(
        f"{url}/v1/pairings",
        headers=auth(laptop),
        json={"pairing_id": "ABCDEFGH1234", "vault_id": vault_id, "payload": b64(b"wrapped")},
    )
    assert r.status_code == 204
    assert (
        httpx.post(f"{url}/v1/pairings/ABCDEFGH1234/claim", headers=auth(other)).status_code == 404
    )
    r = httpx.post(f"{url}/v1/pairings/ABCDEFGH1234/claim", headers=auth(desktop))
    assert r.status_code == 200 and base64.b64decode(r.json()["payload"]) == b"wrapped"
    assert (
        httpx.post(f"{url}/v1/pairings/ABCDEFGH1234/claim", headers=auth(desktop)).status_code
        == 404
    )


def test_access_log_is_json_with_request_ids_and_no_bodies(sync_server: ServerProc) -> None:
    url = sync_server.url
    tokens = register_and_login(url)
    vault_id = make_vault(url, tokens)
    push(url, tokens, vault_id, 0, b"CANARY-PAYLOAD-123")
    rid = "test-request-0001"
    httpx.get(f"{url}/v1/vaults/{vault_id}", headers={**auth(tokens), "X-Request-ID": rid})
    time.sleep(0.2)
    text = sync_server.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(
        e.get("request_id") == rid and e.get("route") == "/v1/vaults/{vault_id}" for e in lines
    )
    assert b64(b"CANARY-PAYLOAD-123") not in text
    assert tokens["access_token"] not in text and tokens["username"] not in text
