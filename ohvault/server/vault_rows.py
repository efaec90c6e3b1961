"""What the vault routes share: the vault-id path parameter, payload decoding, the owner check."""

from __future__ import annotations

import base64
import binascii

from fastapi import Path
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from ohvault.server import schema as s
from ohvault.server.api_models import (
    UUID_PATTERN,
    VaultOut,
)
from ohvault.server.deps import ApiError, ServerContext
from ohvault.server.security import Principal

VaultId = Path(pattern=UUID_PATTERN, description="the vault's sync id (a UUID)")
MAX_KEYSLOT_BYTES = 16 * 1024
MAX_PULL_BYTES = 8 * 1024 * 1024


def decode_payload(payload: str, limit: int) -> bytes:
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "malformed", "The payload is not valid base64.") from None
    if not raw:
        raise ApiError(400, "malformed", "The payload is empty.")
    if len(raw) > limit:
        raise ApiError(413, "payload_too_large", f"A payload is limited to {limit} bytes.")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def vault_row(conn: Connection, vault_id: str, principal: Principal) -> Row:  # type: ignore[type-arg]
    row = conn.execute(select(s.vaults).where(s.vaults.c.id == vault_id)).first()
    if row is None:
        raise ApiError(404, "no_vault", "No vault with that id; create it with PUT first.")
    if row.account_id != principal.account_id:
        raise ApiError(403, "forbidden", "That vault belongs to another account.")
    return row


def vault_out(ctx: ServerContext, row: Row) -> VaultOut:  # type: ignore[type-arg]
    return VaultOut(
        vault_id=row.id,
        head=row.head,
        snapshot_seq=row.snapshot_seq,
        snapshot_id=row.snapshot_id,
        bundle_count=row.bundle_count,
        bytes_used=row.bytes_used,
        quota_bytes=ctx.config.quota_bytes,
        quota_bundles=ctx.config.quota_bundles,
    )


def account_full(conn: Connection, ctx: ServerContext, account_id: str, more: int) -> bool:
    """The account's vaults together may hold ACCOUNT_QUOTA_BYTES (on top of each vault's quota)."""
    used = conn.execute(
        select(func.coalesce(func.sum(s.vaults.c.bytes_used), 0)).where(
            s.vaults.c.account_id == account_id
        )
    ).scalar()
    return int(used or 0) + more > ctx.config.account_quota_bytes


def read_conn(ctx: ServerContext) -> Connection:
    return ctx.engine.connect().execution_options(readonly=True)
