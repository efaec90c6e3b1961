"""Accounts, sessions and devices."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ohvault.server import schema as s
from ohvault.server.api_models import (
    UUID_PATTERN,
    AccountOut,
    DeviceOut,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokensOut,
)
from ohvault.server.app import ApiError, Auth, Ctx, ServerContext, errors
from ohvault.server.security import (
    Principal,
    new_id,
    normalize_username,
    now_ms,
    token_hash,
    username_key,
)

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/accounts", status_code=201, response_model=AccountOut, responses=errors(403, 409, 422)
)
def register(body: RegisterIn, ctx: Ctx) -> AccountOut:
    """Create an account. The password is hashed with Argon2id; it is never stored."""
    if not ctx.config.allow_registration:
        raise ApiError(403, "registration_closed", "This server does not accept new accounts.")
    password_hash = ctx.passwords.hash(body.password)
    account_id = new_id()
    try:
        with ctx.engine.begin() as conn:
            conn.execute(
                insert(s.accounts).values(
                    id=account_id,
                    username=normalize_username(body.username),
                    password_hash=password_hash,
                    created_at=now_ms(),
                )
            )
    except IntegrityError:
        raise ApiError(409, "username_taken", "That username is already registered.") from None
    return AccountOut(account_id=account_id)


def _issue(ctx: ServerContext, conn: Connection, principal: Principal) -> TokensOut:
    refresh = ctx.tokens.new_refresh()
    conn.execute(
        insert(s.refresh_tokens).values(
            token_hash=token_hash(refresh),
            family_id=principal.family_id,
            expires_at=now_ms() + ctx.config.refresh_ttl * 1000,
        )
    )
    return TokensOut(
        access_token=ctx.tokens.access(principal),
        refresh_token=refresh,
        expires_in=ctx.config.access_ttl,
        refresh_expires_in=ctx.config.refresh_ttl,
        account_id=principal.account_id,
        device_id=principal.device_id,
    )


@router.post("/auth/login", response_model=TokensOut, responses=errors(401, 422, 429))
def login(body: LoginIn, ctx: Ctx) -> TokensOut:
    """Log in and register (or reuse) a device. Five failures in 15 minutes lock the account."""
    cfg = ctx.config
    key = username_key(body.username)
    now = now_ms()
    window_start = now - cfg.login_window * 1000
    with ctx.engine.connect().execution_options(readonly=True) as conn:
        failures, oldest = conn.execute(
            select(func.count(), func.min(s.login_failures.c.at)).where(
                s.login_failures.c.username_key == key, s.login_failures.c.at > window_start
            )
        ).one()
        account = conn.execute(
            select(s.accounts.c.id, s.accounts.c.password_hash).where(
                s.accounts.c.username == normalize_username(body.username)
            )
        ).first()
    if failures >= cfg.login_max_failures:
        retry = max(1, (int(oldest) + cfg.login_window * 1000 - now) // 1000 + 1)
        raise ApiError(
            429,
            "locked_out",
            "Too many failed logins; try again later.",
            {"Retry-After": str(retry)},
        )
    if not ctx.passwords.verify(account.password_hash if account else None, body.password):
        with ctx.engine.begin() as conn:
            conn.execute(insert(s.login_failures).values(username_key=key, at=now))
            conn.execute(delete(s.login_failures).where(s.login_failures.c.at <= window_start))
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    assert account is not None
    with ctx.engine.begin() as conn:
        conn.execute(delete(s.login_failures).where(s.login_failures.c.username_key == key))
        device_id = None
        if body.device_id:
            device_id = conn.execute(
                select(s.devices.c.id).where(
                    s.devices.c.id == body.device_id,
                    s.devices.c.account_id == account.id,
                    s.devices.c.revoked_at.is_(None),
                )
            ).scalar()
        if device_id is None:
            device_id = new_id()
            conn.execute(
                insert(s.devices).values(
                    id=device_id,
                    account_id=account.id,
                    name=body.device_name,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        else:
            conn.execute(
                update(s.devices).where(s.devices.c.id == device_id).values(last_seen_at=now)
            )
        family_id = new_id()
        conn.execute(
            insert(s.token_families).values(
                id=family_id, account_id=account.id, device_id=device_id, created_at=now
            )
        )
        return _issue(ctx, conn, Principal(account.id, device_id, family_id))


@router.post("/auth/refresh", response_model=TokensOut, responses=errors(401, 422))
def refresh(body: RefreshIn, ctx: Ctx) -> TokensOut:
    """Trade a refresh token for a new pair. A refresh token works once; reuse revokes the family."""
    now = now_ms()
    h = token_hash(body.refresh_token)
    outcome: str
    with ctx.engine.begin() as conn:
        row = conn.execute(
            select(
                s.refresh_tokens.c.family_id,
                s.refresh_tokens.c.expires_at,
                s.refresh_tokens.c.used_at,
                s.token_families.c.account_id,
                s.token_families.c.device_id,
                s.token_families.c.revoked_at,
                s.devices.c.revoked_at.label("device_revoked_at"),
            )
            .join(s.token_families, s.token_families.c.id == s.refresh_tokens.c.family_id)
            .join(s.devices, s.devices.c.id == s.token_families.c.device_id)
            .where(s.refresh_tokens.c.token_hash == h)
        ).first()
        if row is None:
            outcome = "invalid"
        elif row.revoked_at is not None or row.device_revoked_at is not None:
            outcome = "revoked"
        elif row.used_at is not None:
            outcome = "reused"
        elif row.expires_at <= now:
            outcome = "expired"
        else:
            claimed = conn.execute(
                update(s.refresh_tokens)
                .where(s.refresh_tokens.c.token_hash == h, s.refresh_tokens.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if claimed != 1:
                outcome = "reused"
            else:
                conn.execute(
                    update(s.devices)
                    .where(s.devices.c.id == row.device_id)
                    .values(last_seen_at=now)
                )
                return _issue(ctx, conn, Principal(row.account_id, row.device_id, row.family_id))
        if outcome == "reused":
            # Someone holds a copy of this session: end it for both holders.
            conn.execute(
                update(s.token_families)
                .where(s.token_families.c.id == row.family_id)  # type: ignore[union-attr]
                .values(revoked_at=now, revoked_reason="refresh_reused")
            )
    messages = {
        "invalid": ("invalid_token", "That refresh token is not valid."),
        "revoked": ("revoked", "This session or device has been signed out."),
        "reused": (
            "refresh_reused",
            "That refresh token was already used; the session is revoked.",
        ),
        "expired": ("token_expired", "The refresh token has expired; log in again."),
    }
    code, message = messages[outcome]
    raise ApiError(401, code, message)


@router.post("/auth/logout", status_code=204, responses=errors(401))
def logout(principal: Auth, ctx: Ctx) -> Response:
    """End this session (its refresh token family)."""
    with ctx.engine.begin() as conn:
        conn.execute(
            update(s.token_families)
            .where(s.token_families.c.id == principal.family_id)
            .values(revoked_at=now_ms(), revoked_reason="logout")
        )
    return Response(status_code=204)


@router.get("/devices", response_model=list[DeviceOut], responses=errors(401))
def list_devices(principal: Auth, ctx: Ctx) -> list[DeviceOut]:
    with ctx.engine.connect().execution_options(readonly=True) as conn:
        rows = conn.execute(
            select(s.devices)
            .where(s.devices.c.account_id == principal.account_id)
            .order_by(s.devices.c.created_at)
        ).all()
    return [
        DeviceOut(
            device_id=r.id,
            name=r.name,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            revoked=r.revoked_at is not None,
            current=r.id == principal.device_id,
        )
        for r in rows
    ]


@router.delete("/devices/{device_id}", status_code=204, responses=errors(401, 404, 422))
def revoke_device(
    principal: Auth, ctx: Ctx, device_id: str = Path(pattern=UUID_PATTERN)
) -> Response:
    """Sign a device out everywhere: its sessions end and it cannot log in as that device again."""
    now = now_ms()
    with ctx.engine.begin() as conn:
        changed = conn.execute(
            update(s.devices)
            .where(s.devices.c.id == device_id, s.devices.c.account_id == principal.account_id)
            .values(revoked_at=func.coalesce(s.devices.c.revoked_at, now))
        ).rowcount
        if changed != 1:
            raise ApiError(404, "not_found", "No such device on this account.")
        conn.execute(
            update(s.token_families)
            .where(
                s.token_families.c.device_id == device_id, s.token_families.c.revoked_at.is_(None)
            )
            .values(revoked_at=now, revoked_reason="device_revoked")
        )
    return Response(status_code=204)
