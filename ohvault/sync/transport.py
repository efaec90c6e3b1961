"""HTTP to the sync server (httpx): tokens, transparent refresh, retries with backoff.

Connection failures, 5xx and 429 with a short Retry-After are retried with
exponential backoff and jitter; everything else is returned to the caller or
raised as a SyncError. Pushes are safe to retry because each carries a bundle id
the server deduplicates. Byte counts (bodies plus headers) feed the sync report.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ohvault import __version__
from ohvault.sync.errors import SyncAuthRequired, SyncOffline, SyncRefused

RETRY_STATUSES = {500, 502, 503, 504}


@functools.cache
def _ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    # Loading the CA bundle costs tens of milliseconds; do it once per process.
    if verify is False:
        return False
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context()


@dataclass
class Session:
    access_token: str | None = None
    refresh_token: str | None = None
    device_id: str | None = None
    account_id: str | None = None


PLAIN_HTTP_MESSAGE = (
    "The server address must start with https:// (plain http:// only for this computer: "
    "localhost, 127.0.0.0/8 or ::1)."
)


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: traffic that never leaves this computer."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> None:
    """https:// anywhere; http:// only to loopback, where nothing can read it on the way."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise SyncRefused("That is not a server address.", hint=PLAIN_HTTP_MESSAGE) from None
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and is_loopback_host(host):
        return
    raise SyncRefused(PLAIN_HTTP_MESSAGE)


def error_code(r: httpx.Response) -> str:
    try:
        return str(r.json()["error"]["code"])
    except Exception:
        return f"http_{r.status_code}"


class Transport:
    def __init__(
        self,
        base_url: str,
        session: Session | None = None,
        *,
        on_session: Callable[[Session], None] | None = None,
        max_attempts: int = 5,
        backoff: float = 0.25,
        max_backoff: float = 8.0,
        timeout: float = 60.0,
        verify: bool | str = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_server_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.session = session or Session()
        self.on_session = on_session
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.bytes_up = 0
        self.bytes_down = 0
        self._refresh_lock = threading.Lock()
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            verify=_ssl_context(verify),
            headers={"User-Agent": f"ohvault/{__version__}"},
        )

    def close(self) -> None:
        self._client.close()

    # --- requests -------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, json: Any = None, params: Any = None, auth: bool = True
    ) -> httpx.Response:
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {}
            if auth:
                if not self.session.access_token:
                    raise SyncAuthRequired(
                        "Not logged in to the sync server.", hint="Log in again."
                    )
                headers["Authorization"] = f"Bearer {self.session.access_token}"
            try:
                r = self._client.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as exc:
                if attempt >= self.max_attempts:
                    raise SyncOffline(
                        "The sync server could not be reached; your changes are kept and will "
                        "go up on the next sync.",
                        hint=f"({type(exc).__name__})",
                    ) from None
                self._wait(attempt, None)
                continue
            self._count(r)
            if r.status_code in RETRY_STATUSES or (
                r.status_code == 429 and error_code(r) != "locked_out"
            ):
                if attempt >= self.max_attempts:
                    raise SyncOffline(
                        f"The sync server is not answering properly (HTTP {r.status_code}); "
                        "your changes are kept."
                    )
                self._wait(attempt, r.headers.get("retry-after"))
                continue
            if r.status_code == 401 and auth:
                code = error_code(r)
                if code == "token_expired" and not refreshed:
                    self.refresh()
                    refreshed = True
                    attempt -= 1
                    continue
                raise SyncAuthRequired(
                    "The sync session has ended; log in again.", hint=f"(server said: {code})"
                )
            return r

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        if retry_after and retry_after.isdigit():
            delay = min(self.max_backoff, max(delay, float(retry_after)))
        self.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not crypto

    def _count(self, r: httpx.Response) -> None:
        req = r.request
        self.bytes_up += (
            len(req.content or b"") + sum(len(k) + len(v) + 4 for k, v in req.headers.raw) + 40
        )
        self.bytes_down += len(r.content) + sum(len(k) + len(v) + 4 for k, v in r.headers.raw) + 20

    # --- accounts ---------------------------------------------------------------------------------

    def register(self, username: str, password: str) -> None:
        r = self.request(
            "POST", "/v1/accounts", json={"username": username, "password": password}, auth=False
        )
        if r.status_code == 409:
            raise SyncRefused("That username is already registered on this server.")
        expect(r, 201)

    def login(
        self, username: str, password: str, device_name: str, device_id: str | None = None
    ) -> Session:
        body = {
            "username": username,
            "password": password,
            "device_name": device_name[:100] or "device",
        }
        if device_id:
            body["device_id"] = device_id
        r = self.request("POST", "/v1/auth/login", json=body, auth=False)
        if r.status_code == 401:
            raise SyncAuthRequired("Wrong username or password for the sync server.")
        if r.status_code == 429:
            raise SyncRefused(
                "Too many failed logins: the sync account is locked for a while.",
                hint=f"Try again in {r.headers.get('retry-after', '900')} seconds.",
            )
        expect(r, 200)
        self._take(r.json())
        return self.session

    def refresh(self) -> None:
        with self._refresh_lock:
            if not self.session.refresh_token:
                raise SyncAuthRequired("Not logged in to the sync server.")
            r = self.request(
                "POST",
                "/v1/auth/refresh",
                json={"refresh_token": self.session.refresh_token},
                auth=False,
            )
            if r.status_code == 401:
                self.session = Session(device_id=self.session.device_id)
                if self.on_session:
                    self.on_session(self.session)
                raise SyncAuthRequired(
                    "The sync session has ended; log in again.",
                    hint=f"(server said: {error_code(r)})",
                )
            expect(r, 200)
            self._take(r.json())

    def _take(self, body: dict[str, Any]) -> None:
        self.session = Session(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            device_id=body["device_id"],
            account_id=body["account_id"],
        )
        if self.on_session:
            self.on_session(self.session)


def expect(r: httpx.Response, *statuses: int) -> httpx.Response:
    if r.status_code not in statuses:
        raise SyncRefused(
            f"The sync server refused the request (HTTP {r.status_code}, {error_code(r)})."
        )
    return r
