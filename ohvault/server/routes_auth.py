"""Accounts, sessions and devices."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ohvault.server import limits
from ohvault.server import schema as s
from ohvault.server.api_models import (
    UUID_PATTERN,
    AccountDeleteIn,
    AccountOut,
    DeviceOut,
    LoginIn,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    TokensOut,
)
from ohvault.server.deps import ApiError, Auth, Ctx, ServerContext, errors
from ohvault.server.limits import event, limit_key
from ohvault.server.security import (
    Principal,
    new_id,
    normalize_username,
    now_ms,
    token_hash,
    username_key,
)

router = APIRouter(prefix="/v1", tags=["accounts"])


def _limited(ctx: ServerContext, key: str, limit: int, what: str, now: int) -> int | None:
    """Take one attempt under `key` or answer 429 with Retry-After."""
    with ctx.engine.begin() as conn:
        # Rows older than the window count for nothing: drop them as we go, so refreshes and
        # registrations never pile up (failed logins prune too). Its own short transaction:
        # no row locks are held while waiting for a key's lock.
        limits.prune(conn, now=now, window_s=ctx.config.login_window)
    with ctx.engine.begin() as conn:
        row_id, retry = limits.take(conn, key, limit, now=now, window_s=ctx.config.login_window)
    if retry is not None:
        event("rate_limited", limit=what, key=key[:16])
        raise ApiError(
            429, "rate_limited", "Too many requests from this address; try again later.",
            {"Retry-After": str(retry)},
        )  # fmt: skip
    return row_id


def _registration_open(ctx: ServerContext) -> bool:
    mode = ctx.config.registration
    if mode != "first":
        return mode == "true"
    with ctx.engine.connect().execution_options(readonly=True) as conn:
        return conn.execute(select(s.accounts.c.id).limit(1)).first() is None


@router.post(
    "/accounts", status_code=201, response_model=AccountOut, responses=errors(403, 409, 422, 429)
)
def register(body: RegisterIn, ctx: Ctx, request: Request) -> AccountOut:
    """Create an account. The password is hashed with Argon2id; it is never stored.

    By default only the first account can be registered (ALLOW_REGISTRATION=first)."""
    if not _registration_open(ctx):
        raise ApiError(403, "registration_closed", "This server does not accept new accounts.")
    now = now_ms()
    ip = limit_key("register", limits.client_ip(request))
    _limited(ctx, ip, ctx.config.ip_max_registrations, "register", now)
    password_hash = ctx.passwords.hash(body.password)
    account_id = new_id()
    try:
        with ctx.engine.begin() as conn:
            if (
                ctx.config.registration == "first"
                and conn.execute(select(s.accounts.c.id).limit(1)).first()
            ):
                raise ApiError(
                    403, "registration_closed", "This server does not accept new accounts."
                )
            conn.execute(
                insert(s.accounts).values(
                    id=account_id,
                    username=normalize_username(body.username),
                    password_hash=password_hash,
                    created_at=now,
                )
            )
    except IntegrityError:
        raise ApiError(409, "username_taken", "That username is already registered.") from None
    event("account_created", account=username_key(body.username)[:16])
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


@router.post("/auth/login", response_model=TokensOut, responses=errors(401, 422, 429, 503))
def login(body: LoginIn, ctx: Ctx, request: Request) -> TokensOut:
    """Log in and register (or reuse) a device. Five failures in 15 minutes lock the account.

    The attempt is counted before the password is checked, in one transaction with the
    check of the count, so concurrent guesses cannot exceed the limit (see limits.py).
    """
    cfg = ctx.config
    key = username_key(body.username)
    ip = limit_key("login", limits.client_ip(request))
    now = now_ms()
    with ctx.engine.begin() as conn:
        account_attempt, account_retry = limits.take(
            conn, key, cfg.login_max_failures, now=now, window_s=cfg.login_window
        )
        ip_attempt, ip_retry = (None, None)
        if account_retry is None:
            ip_attempt, ip_retry = limits.take(
                conn, ip, cfg.ip_max_login_failures, now=now, window_s=cfg.login_window
            )
            if ip_retry is not None:
                limits.give_back(conn, account_attempt)
        account = conn.execute(
            select(s.accounts.c.id, s.accounts.c.password_hash).where(
                s.accounts.c.username == normalize_username(body.username)
            )
        ).first()
    if account_retry is not None:
        event("login_locked_out", account=key[:16])
        raise ApiError(
            429,
            "locked_out",
            "Too many failed logins; try again later.",
            {"Retry-After": str(account_retry)},
        )
    if ip_retry is not None:
        event("rate_limited", limit="login", key=ip[:16])
        raise ApiError(
            429, "rate_limited", "Too many failed logins from this address; try again later.",
            {"Retry-After": str(ip_retry)},
        )  # fmt: skip
    try:
        ok = ctx.passwords.verify(account.password_hash if account else None, body.password)
    except limits.HashBusy:
        with ctx.engine.begin() as conn:
            limits.give_back(conn, account_attempt, ip_attempt)
        raise
    if not ok:
        with ctx.engine.begin() as conn:
            limits.prune(conn, now=now, window_s=cfg.login_window)
        event("login_failed", account=key[:16], known=account is not None)
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    assert account is not None
    event("login_succeeded", account=key[:16])
    with ctx.engine.begin() as conn:
        conn.execute(delete(s.login_failures).where(s.login_failures.c.username_key == key))
        limits.give_back(conn, ip_attempt)
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


@router.post("/auth/refresh", response_model=TokensOut, responses=errors(401, 422, 429))
def refresh(body: RefreshIn, ctx: Ctx, request: Request) -> TokensOut:
    """Trade a refresh token for a new pair. A refresh token works once; reuse revokes the family.

    A session (token family) ends SESSION_MAX_AGE after its login, however often refreshed."""
    now = now_ms()
    _limited(
        ctx,
        limit_key("refresh", limits.client_ip(request)),
        ctx.config.ip_max_refreshes,
        "refresh",
        now,
    )
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
                s.token_families.c.created_at.label("family_created_at"),
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
        elif (
            row.expires_at <= now
            or row.family_created_at + ctx.config.session_max_age * 1000 <= now
        ):
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
            event("refresh_token_reused", family=row.family_id[:8], device=row.device_id[:8])  # type: ignore[union-attr]
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
        event("device_revoked", device=device_id[:8], by=principal.device_id[:8])
        conn.execute(
            update(s.token_families)
            .where(
                s.token_families.c.device_id == device_id, s.token_families.c.revoked_at.is_(None)
            )
            .values(revoked_at=now, revoked_reason="device_revoked")
        )
    return Response(status_code=204)


# --- the account itself ----------------------------------------------------------------------


def _check_password(ctx: ServerContext, principal: Principal, password: str) -> str:
    """The account's username key, once `password` is its password (counted like a login)."""
    now = now_ms()
    with ctx.engine.connect().execution_options(readonly=True) as conn:
        account = conn.execute(
            select(s.accounts.c.username, s.accounts.c.password_hash).where(
                s.accounts.c.id == principal.account_id
            )
        ).first()
    if account is None:
        raise ApiError(401, "revoked", "This account no longer exists.")
    key = username_key(account.username)
    with ctx.engine.begin() as conn:
        attempt, retry = limits.take(
            conn, key, ctx.config.login_max_failures, now=now, window_s=ctx.config.login_window
        )
    if retry is not None:
        event("login_locked_out", account=key[:16])
        raise ApiError(
            429, "locked_out", "Too many failed attempts; try again later.",
            {"Retry-After": str(retry)},
        )  # fmt: skip
    if not ctx.passwords.verify(account.password_hash, password):
        event("login_failed", account=key[:16], known=True, during="account_change")
        raise ApiError(403, "bad_credentials", "The current password is wrong.")
    with ctx.engine.begin() as conn:
        limits.give_back(conn, attempt)
    return key


@router.post("/account/password", status_code=204, responses=errors(401, 403, 422, 429, 503))
def change_password(body: PasswordChangeIn, principal: Auth, ctx: Ctx) -> Response:
    """Change the password (the current one is required); every other session ends."""
    key = _check_password(ctx, principal, body.password)
    new_hash = ctx.passwords.hash(body.new_password)
    now = now_ms()
    with ctx.engine.begin() as conn:
        conn.execute(
            update(s.accounts)
            .where(s.accounts.c.id == principal.account_id)
            .values(password_hash=new_hash)
        )
        conn.execute(
            update(s.token_families)
            .where(
                s.token_families.c.account_id == principal.account_id,
                s.token_families.c.id != principal.family_id,
                s.token_families.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason="password_changed")
        )
    event("password_changed", account=key[:16])
    return Response(status_code=204)


@router.post("/account/delete", status_code=204, responses=errors(401, 403, 422, 429, 503))
def delete_account(body: AccountDeleteIn, principal: Auth, ctx: Ctx) -> Response:
    """Delete the account, its devices, sessions and every vault it holds. Cannot be undone."""
    key = _check_password(ctx, principal, body.password)
    from ohvault.server.routes_vaults import delete_vault_rows

    with ctx.engine.begin() as conn:
        vault_ids = (
            conn.execute(select(s.vaults.c.id).where(s.vaults.c.account_id == principal.account_id))
            .scalars()
            .all()
        )
        for vault_id in vault_ids:
            delete_vault_rows(conn, vault_id)
        conn.execute(delete(s.pairings).where(s.pairings.c.account_id == principal.account_id))
        families = select(s.token_families.c.id).where(
            s.token_families.c.account_id == principal.account_id
        )
        conn.execute(delete(s.refresh_tokens).where(s.refresh_tokens.c.family_id.in_(families)))
        conn.execute(
            delete(s.token_families).where(s.token_families.c.account_id == principal.account_id)
        )
        conn.execute(delete(s.devices).where(s.devices.c.account_id == principal.account_id))
        conn.execute(delete(s.login_failures).where(s.login_failures.c.username_key == key))
        conn.execute(delete(s.accounts).where(s.accounts.c.id == principal.account_id))
    event("account_deleted", account=key[:16], vaults=len(vault_ids))
    return Response(status_code=204)
