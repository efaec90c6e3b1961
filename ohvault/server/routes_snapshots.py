"""Snapshots: a vault's state at a log position, uploaded in parts and committed at once.

A committed snapshot lets the server drop the bundles it covers; a device whose cursor
is older than the oldest bundle left loads the snapshot first (the pull answers 410).
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Response
from sqlalchemy import delete, func, insert, select, update

from ohvault.server import schema as s
from ohvault.server.api_models import (
    UUID_PATTERN,
    PayloadIn,
    PayloadOut,
    SnapshotCommitIn,
    SnapshotOut,
)
from ohvault.server.deps import ApiError, Auth, Ctx, errors
from ohvault.server.security import now_ms
from ohvault.server.vault_rows import (
    VaultId,
    account_full,
    b64,
    decode_payload,
    read_conn,
    vault_row,
)

router = APIRouter(prefix="/v1", tags=["vaults"])


# --- snapshots ----------------------------------------------------------------------------


@router.put(
    "/vaults/{vault_id}/snapshots/{snapshot_id}/parts/{n}",
    status_code=204,
    responses=errors(400, 401, 403, 404, 409, 413, 422, 507),
)
def put_snapshot_part(
    body: PayloadIn,
    principal: Auth,
    ctx: Ctx,
    vault_id: str = VaultId,
    snapshot_id: str = Path(pattern=UUID_PATTERN),
    n: int = Path(ge=0, le=99_999),
) -> Response:
    """Upload one part of a snapshot (idempotent); nothing is visible until commit."""
    payload = decode_payload(body.payload, ctx.config.max_bundle_bytes)
    with ctx.engine.begin() as conn:
        v = vault_row(conn, vault_id, principal)
        snap = conn.execute(select(s.snapshots).where(s.snapshots.c.id == snapshot_id)).first()
        if snap is None:
            conn.execute(
                insert(s.snapshots).values(
                    id=snapshot_id, vault_id=vault_id, size=0, created_at=now_ms()
                )
            )
        elif snap.vault_id != vault_id or snap.committed_at is not None:
            raise ApiError(
                409, "snapshot_closed", "That snapshot id is taken or already committed."
            )
        old = conn.execute(
            select(func.length(s.snapshot_parts.c.payload)).where(
                s.snapshot_parts.c.snapshot_id == snapshot_id, s.snapshot_parts.c.n == n
            )
        ).scalar()
        if v.bytes_used + len(payload) - (old or 0) > ctx.config.quota_bytes:
            raise ApiError(507, "quota_exceeded", "This vault has used its storage quota.")
        if account_full(conn, ctx, principal.account_id, len(payload) - (old or 0)):
            raise ApiError(507, "quota_exceeded", "This account has used its storage quota.")
        conn.execute(
            delete(s.snapshot_parts).where(
                s.snapshot_parts.c.snapshot_id == snapshot_id, s.snapshot_parts.c.n == n
            )
        )
        conn.execute(insert(s.snapshot_parts).values(snapshot_id=snapshot_id, n=n, payload=payload))
        delta = len(payload) - (old or 0)
        conn.execute(
            update(s.snapshots)
            .where(s.snapshots.c.id == snapshot_id)
            .values(size=s.snapshots.c.size + delta)
        )
        conn.execute(
            update(s.vaults)
            .where(s.vaults.c.id == vault_id)
            .values(bytes_used=s.vaults.c.bytes_used + delta)
        )
    return Response(status_code=204)


@router.post(
    "/vaults/{vault_id}/snapshots/{snapshot_id}/commit",
    response_model=SnapshotOut,
    responses=errors(401, 403, 404, 409, 422),
)
def commit_snapshot(
    body: SnapshotCommitIn,
    principal: Auth,
    ctx: Ctx,
    vault_id: str = VaultId,
    snapshot_id: str = Path(pattern=UUID_PATTERN),
) -> SnapshotOut:
    """Make a snapshot current and compact the log: bundles up to `upto_seq` are dropped."""
    with ctx.engine.begin() as conn:
        v = vault_row(conn, vault_id, principal)
        snap = conn.execute(
            select(s.snapshots).where(
                s.snapshots.c.id == snapshot_id, s.snapshots.c.vault_id == vault_id
            )
        ).first()
        if snap is None or snap.committed_at is not None:
            raise ApiError(404, "no_snapshot", "No open snapshot with that id.")
        present = conn.execute(
            select(func.count()).where(
                s.snapshot_parts.c.snapshot_id == snapshot_id, s.snapshot_parts.c.n < body.parts
            )
        ).scalar()
        if present != body.parts:
            raise ApiError(
                409, "snapshot_incomplete", "Not every part of the snapshot was uploaded."
            )
        if body.upto_seq > v.head or body.upto_seq <= v.snapshot_seq:
            raise ApiError(409, "stale_snapshot", "The snapshot does not extend the current log.")
        conn.execute(
            update(s.snapshots)
            .where(s.snapshots.c.id == snapshot_id)
            .values(upto_seq=body.upto_seq, parts=body.parts, committed_at=now_ms())
        )
        freed_bytes, freed_count = conn.execute(
            select(func.coalesce(func.sum(s.bundles.c.size), 0), func.count()).where(
                s.bundles.c.vault_id == vault_id, s.bundles.c.seq <= body.upto_seq
            )
        ).one()
        conn.execute(
            delete(s.bundles).where(
                s.bundles.c.vault_id == vault_id, s.bundles.c.seq <= body.upto_seq
            )
        )
        # Earlier snapshots (and abandoned uploads) are superseded.
        old = select(s.snapshots.c.id).where(
            s.snapshots.c.vault_id == vault_id, s.snapshots.c.id != snapshot_id
        )
        old_bytes = conn.execute(
            select(func.coalesce(func.sum(s.snapshots.c.size), 0)).where(
                s.snapshots.c.vault_id == vault_id, s.snapshots.c.id != snapshot_id
            )
        ).scalar()
        conn.execute(delete(s.snapshot_parts).where(s.snapshot_parts.c.snapshot_id.in_(old)))
        conn.execute(
            delete(s.snapshots).where(
                s.snapshots.c.vault_id == vault_id, s.snapshots.c.id != snapshot_id
            )
        )
        conn.execute(
            update(s.vaults)
            .where(s.vaults.c.id == vault_id)
            .values(
                snapshot_seq=body.upto_seq,
                snapshot_id=snapshot_id,
                bytes_used=s.vaults.c.bytes_used - int(freed_bytes) - int(old_bytes or 0),
                bundle_count=s.vaults.c.bundle_count - int(freed_count),
            )
        )
    return SnapshotOut(
        snapshot_id=snapshot_id, upto_seq=body.upto_seq, parts=body.parts, size=snap.size
    )


@router.get(
    "/vaults/{vault_id}/snapshot", response_model=SnapshotOut, responses=errors(401, 403, 404, 422)
)
def current_snapshot(principal: Auth, ctx: Ctx, vault_id: str = VaultId) -> SnapshotOut:
    with read_conn(ctx) as conn:
        v = vault_row(conn, vault_id, principal)
        snap = None
        if v.snapshot_id:
            snap = conn.execute(
                select(s.snapshots).where(s.snapshots.c.id == v.snapshot_id)
            ).first()
    if snap is None:
        raise ApiError(404, "no_snapshot", "This vault has no snapshot yet.")
    return SnapshotOut(
        snapshot_id=snap.id, upto_seq=snap.upto_seq, parts=snap.parts, size=snap.size
    )


@router.get(
    "/vaults/{vault_id}/snapshots/{snapshot_id}/parts/{n}",
    response_model=PayloadOut,
    responses=errors(401, 403, 404, 422),
)
def get_snapshot_part(
    principal: Auth,
    ctx: Ctx,
    vault_id: str = VaultId,
    snapshot_id: str = Path(pattern=UUID_PATTERN),
    n: int = Path(ge=0, le=99_999),
) -> PayloadOut:
    with read_conn(ctx) as conn:
        vault_row(conn, vault_id, principal)
        payload = conn.execute(
            select(s.snapshot_parts.c.payload)
            .join(s.snapshots, s.snapshots.c.id == s.snapshot_parts.c.snapshot_id)
            .where(
                s.snapshots.c.vault_id == vault_id,
                s.snapshots.c.committed_at.is_not(None),
                s.snapshot_parts.c.snapshot_id == snapshot_id,
                s.snapshot_parts.c.n == n,
            )
        ).scalar()
    if payload is None:
        raise ApiError(404, "no_snapshot", "No such snapshot part.")
    return PayloadOut(payload=b64(payload))
