"""Per-vault append-only logs of encrypted bundles (snapshots, key slots and pairing have
modules of their own: routes_snapshots, routes_keyslots, routes_pairings).

The server sees sizes, counts and timing, never contents: every payload is
AES-256-GCM ciphertext made on a device with a key the server never receives.
Pushes carry the newest sequence number the client has merged (`base_seq`);
anything else is a stale push (409) and the client pulls and retries. A retried
push with the same `bundle_id` returns the original sequence number instead of
appending twice.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ohvault.server import schema as s
from ohvault.server.api_models import (
    MAX_SEQ,
    BundleOut,
    PullOut,
    PushIn,
    PushOut,
    VaultOut,
)
from ohvault.server.deps import ApiError, Auth, Ctx, errors
from ohvault.server.security import now_ms
from ohvault.server.vault_rows import (
    MAX_PULL_BYTES,
    VaultId,
    account_full,
    b64,
    decode_payload,
    read_conn,
    vault_out,
    vault_row,
)

router = APIRouter(prefix="/v1", tags=["vaults"])


@router.get("/vaults", response_model=list[VaultOut], responses=errors(401))
def list_vaults(principal: Auth, ctx: Ctx) -> list[VaultOut]:
    with read_conn(ctx) as conn:
        rows = conn.execute(
            select(s.vaults)
            .where(s.vaults.c.account_id == principal.account_id)
            .order_by(s.vaults.c.created_at)
        ).all()
    return [vault_out(ctx, r) for r in rows]


@router.put(
    "/vaults/{vault_id}",
    response_model=VaultOut,
    responses={201: {"model": VaultOut}, **errors(401, 403, 422)},
)
def create_vault(
    principal: Auth, ctx: Ctx, response: Response, vault_id: str = VaultId
) -> VaultOut:
    """Create the vault's log (idempotent for its owner)."""
    try:
        with ctx.engine.begin() as conn:
            existing = conn.execute(select(s.vaults).where(s.vaults.c.id == vault_id)).first()
            if existing is None:
                conn.execute(
                    insert(s.vaults).values(
                        id=vault_id,
                        account_id=principal.account_id,
                        created_at=now_ms(),
                        head=0,
                        snapshot_seq=0,
                        bytes_used=0,
                        bundle_count=0,
                    )
                )
                response.status_code = 201
            row = vault_row(conn, vault_id, principal)
            return vault_out(ctx, row)
    except IntegrityError:  # created concurrently by another request
        with read_conn(ctx) as conn:
            return vault_out(ctx, vault_row(conn, vault_id, principal))


@router.get("/vaults/{vault_id}", response_model=VaultOut, responses=errors(401, 403, 404, 422))
def get_vault(principal: Auth, ctx: Ctx, vault_id: str = VaultId) -> VaultOut:
    with read_conn(ctx) as conn:
        return vault_out(ctx, vault_row(conn, vault_id, principal))


@router.delete("/vaults/{vault_id}", status_code=204, responses=errors(401, 403, 404, 422))
def delete_vault(principal: Auth, ctx: Ctx, vault_id: str = VaultId) -> Response:
    """Delete everything the server holds for this vault (turning sync off for good)."""
    with ctx.engine.begin() as conn:
        vault_row(conn, vault_id, principal)
        delete_vault_rows(conn, vault_id)
    return Response(status_code=204)


def delete_vault_rows(conn: Connection, vault_id: str) -> None:
    """Every row the server holds for one vault (its owner was checked by the caller)."""
    snap_ids = select(s.snapshots.c.id).where(s.snapshots.c.vault_id == vault_id)
    conn.execute(delete(s.snapshot_parts).where(s.snapshot_parts.c.snapshot_id.in_(snap_ids)))
    for table in (s.snapshots, s.bundles, s.keyslots, s.pairings):
        conn.execute(delete(table).where(table.c.vault_id == vault_id))
    conn.execute(delete(s.vaults).where(s.vaults.c.id == vault_id))


# --- the bundle log -------------------------------------------------------------------------


@router.post(
    "/vaults/{vault_id}/bundles",
    response_model=PushOut,
    status_code=201,
    responses={200: {"model": PushOut}, **errors(400, 401, 403, 404, 409, 413, 422, 507)},
)
def push(
    body: PushIn, principal: Auth, ctx: Ctx, response: Response, vault_id: str = VaultId
) -> PushOut:
    """Append one encrypted bundle if `base_seq` is the current head (else 409 `stale`)."""
    payload = decode_payload(body.payload, ctx.config.max_bundle_bytes)
    size = len(payload)
    try:
        with ctx.engine.begin() as conn:
            v = vault_row(conn, vault_id, principal)
            seen = conn.execute(
                select(s.bundles.c.seq).where(
                    s.bundles.c.vault_id == vault_id, s.bundles.c.bundle_id == body.bundle_id
                )
            ).scalar()
            if seen is not None:
                response.status_code = 200
                return PushOut(seq=seen, duplicate=True, head=v.head)
            if body.base_seq != v.head:
                raise ApiError(409, "stale", f"The log is at {v.head}; pull, merge and push again.")
            if (
                v.bytes_used + size > ctx.config.quota_bytes
                or v.bundle_count + 1 > ctx.config.quota_bundles
            ):
                raise ApiError(507, "quota_exceeded", "This vault has used its storage quota.")
            if account_full(conn, ctx, principal.account_id, size):
                raise ApiError(507, "quota_exceeded", "This account has used its storage quota.")
            seq = v.head + 1
            moved = conn.execute(
                update(s.vaults)
                .where(s.vaults.c.id == vault_id, s.vaults.c.head == body.base_seq)
                .values(
                    head=seq,
                    bytes_used=s.vaults.c.bytes_used + size,
                    bundle_count=s.vaults.c.bundle_count + 1,
                )
            ).rowcount
            if moved != 1:
                raise ApiError(409, "stale", "Another device pushed first; pull and retry.")
            conn.execute(
                insert(s.bundles).values(
                    vault_id=vault_id,
                    seq=seq,
                    bundle_id=body.bundle_id,
                    device_id=principal.device_id,
                    created_at=now_ms(),
                    size=size,
                    payload=payload,
                )
            )
    except IntegrityError:
        raise ApiError(409, "stale", "Another device pushed first; pull and retry.") from None
    return PushOut(seq=seq, duplicate=False, head=seq)


@router.get(
    "/vaults/{vault_id}/bundles",
    response_model=PullOut,
    responses=errors(401, 403, 404, 409, 410, 422),
)
def pull(
    principal: Auth,
    ctx: Ctx,
    vault_id: str = VaultId,
    after: int = Query(0, ge=0, le=MAX_SEQ, description="the newest sequence already merged"),
    limit: int = Query(100, ge=1, le=1000),
) -> PullOut:
    """Bundles after a cursor, oldest first. 410 `compacted`: fetch the snapshot first."""
    with read_conn(ctx) as conn:
        v = vault_row(conn, vault_id, principal)
        if after > v.head:
            raise ApiError(
                409,
                "cursor_ahead",
                "The cursor is ahead of this server's log; resync from scratch.",
            )
        if after < v.snapshot_seq:
            raise ApiError(
                410,
                "compacted",
                "Older bundles were compacted; load the snapshot, then pull after it.",
            )
        rows = conn.execute(
            select(s.bundles)
            .where(s.bundles.c.vault_id == vault_id, s.bundles.c.seq > after)
            .order_by(s.bundles.c.seq)
            .limit(limit)
        )
        out: list[BundleOut] = []
        total = 0
        for r in rows:
            if out and total + r.size > MAX_PULL_BYTES:
                break
            total += r.size
            out.append(
                BundleOut(
                    seq=r.seq,
                    bundle_id=r.bundle_id,
                    device_id=r.device_id,
                    created_at=r.created_at,
                    payload=b64(r.payload),
                )
            )
    last = out[-1].seq if out else after
    return PullOut(bundles=out, head=v.head, more=last < v.head)
