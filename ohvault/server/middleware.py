"""Request ids, request size limits and JSON access logs, as one ASGI middleware.

Access log lines name the route template (`/v1/vaults/{vault_id}/bundles`), the
status, sizes and timing. They never include bodies, query strings, headers or
tokens: the bodies are ciphertext anyway, but tokens and usernames are not.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("ohvault.server.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# On every answer: nothing here is for a browser to render, frame, sniff or cache (token
# responses included: a cached access token is a stolen one). The optional /docs pages
# (ENABLE_DOCS) load their scripts, so they get no content security policy.
SECURITY_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000"),
)
CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOC_PAGES = ("/docs", "/redoc")


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        return json.dumps(entry, separators=(",", ":"))


def setup_server_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for every ohvault.server logger (idempotent)."""
    root = logging.getLogger("ohvault.server")
    if any(getattr(h, "_ohvault_json", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler._ohvault_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


async def _reply(send: Send, status: int, code: str, message: str, request_id: str) -> int:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
                CSP,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return len(body)


class _TooLarge(Exception):
    pass


class Gatekeeper:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope.get("headers") or [])
        offered = incoming.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        state = {"status": 500, "bytes_in": 0, "bytes_out": 0, "started": False}
        limit = self.max_body_bytes

        declared = incoming.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                state["bytes_out"] = await _reply(
                    send,
                    413,
                    "request_too_large",
                    f"Requests are limited to {limit} bytes.",
                    request_id,
                )
                self._log(scope, request_id, 413, state, started)
                return

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["bytes_in"] += len(message.get("body", b""))
                if state["bytes_in"] > limit:
                    raise _TooLarge
            return message

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in SECURITY_HEADERS}
                ]
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                if not str(scope.get("path", "")).startswith(DOC_PAGES):
                    headers.append(CSP)
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                state["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, tagged_send)
        except _TooLarge:
            if not state["started"]:
                state["bytes_out"] = await _reply(
                    send,
                    413,
                    "request_too_large",
                    f"Requests are limited to {limit} bytes.",
                    request_id,
                )
            state["status"] = 413
        except Exception as exc:
            log.error(
                "unhandled error",
                extra={"fields": {"request_id": request_id, "error": type(exc).__name__}},
            )
            if not state["started"]:
                state["bytes_out"] = await _reply(
                    send, 500, "internal", "Internal server error; nothing was stored.", request_id
                )
            state["status"] = 500
        self._log(scope, request_id, int(state["status"]), state, started)

    @staticmethod
    def _log(
        scope: Scope, request_id: str, status: int, state: dict[str, Any], started: float
    ) -> None:
        route = scope.get("route")
        log.info(
            "request",
            extra={
                "fields": {
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": getattr(route, "path", None) or "unmatched",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "bytes_in": state["bytes_in"],
                    "bytes_out": state["bytes_out"],
                }
            },
        )
