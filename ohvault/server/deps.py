"""What routes depend on: the error type and format, the server context, authentication.

The app (app.py) and every routes module import this; nothing here imports them, so the
app and its routes do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ohvault.server import schema
from ohvault.server.api_models import ErrorBody
from ohvault.server.config import ServerConfig
from ohvault.server.security import Passwords, Principal, TokenExpired, TokenInvalid, Tokens


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error statuses a route can return."""
    return {s: {"model": ErrorBody} for s in statuses}


@dataclass
class ServerContext:
    config: ServerConfig
    engine: Engine
    passwords: Passwords
    tokens: Tokens


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(get_ctx)]


def authenticate(request: Request, ctx: Ctx) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "Log in first: send an access token.")
    try:
        principal = ctx.tokens.decode(token.strip())
    except TokenExpired:
        raise ApiError(401, "token_expired", "The access token has expired; refresh it.") from None
    except TokenInvalid:
        raise ApiError(401, "invalid_token", "The access token is not valid.") from None
    with ctx.engine.connect().execution_options(readonly=True) as conn:
        row = conn.execute(
            select(schema.token_families.c.revoked_at, schema.devices.c.revoked_at)
            .join(schema.devices, schema.devices.c.id == schema.token_families.c.device_id)
            .where(
                schema.token_families.c.id == principal.family_id,
                schema.token_families.c.account_id == principal.account_id,
                schema.devices.c.id == principal.device_id,
            )
        ).first()
    if row is None or row[0] is not None or row[1] is not None:
        raise ApiError(401, "revoked", "This session or device has been signed out.")
    return principal


Auth = Annotated[Principal, Depends(authenticate)]
