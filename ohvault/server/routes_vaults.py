"""Per-vault append-only logs of encrypted bundles, snapshots, key slots and pairing.

The server sees sizes, counts and timing, never contents: every payload is
AES-256-GCM ciphertext made on a device with a key the server never receives.
Pushes carry the newest sequence number the client has merged (`base_seq`);
anything else is a stale push (409) and the client pulls and retries. A retried
push with the same `bundle_id` returns the original sequence number instead of
appending twice.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from ohvault.server import schema as s
from ohvault.server.api_models import (
    MAX_SEQ,
    UUID_PATTERN,
    BundleOut,
    PairingIn,
    PairingOut,
    PayloadIn,
    PayloadOut,
    PullOut,
    PushIn,
    PushOut,
    SnapshotCommitIn,
    SnapshotOut,
    VaultOut,
)
from ohvault.server.app import ApiError, Auth, Ctx, ServerContext, errors
from ohvault.server.security import Principal, now_ms

router = APIRouter(prefix="/v1", tags=["vaults"])

VaultId = Path(pattern=UUID_PATTERN, description="the vault's sync id (a UUID)")
MAX_KEYSLOT_BYTES = 16 * 1024
MAX_PULL_BYTES = 8 * 1024 * 1024


def _decode(payload: str, limit: int) -> bytes:
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "malformed", "The payload is not valid base64.") from None
    if not raw:
        raise ApiError(400, "malformed", "The payload is empty.")
    if len(raw) > limit:
        raise ApiError(413, "payload_too_large", f"A payload is limited to {limit} bytes.")
    return raw


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _vault(conn: Connection, vault_id: str, principal: Principal) -> Row:  # type: ignore[type-arg]
    row = conn.execute(select(s.vaults).where(s.vaults.c.id == vault_id)).first()
    if row is None:
        raise ApiError(404, "no_vault", "No vault with that id; create it with PUT first.")
    if row.account_id != principal.account_id:
        raise ApiError(403, "forbidden", "That vault belongs to another account.")
    return row


def _vault_out(ctx: ServerContext, row: Row) -> VaultOut:  # type: ignore[type-arg]
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


def _account_full(conn: Connection, ctx: ServerContext, account_id: str, more: int) -> bool:
    """The account's vaults together may hold ACCOUNT_QUOTA_BYTES (on top of each vault's quota)."""
    used = conn.execute(
        select(func.coalesce(func.sum(s.vaults.c.bytes_used), 0)).where(
            s.vaults.c.account_id == account_id
        )
    ).scalar()
    return int(used or 0) + more > ctx.config.account_quota_bytes


def _read(ctx: ServerContext) -> Connection:
    return ctx.engine.connect().execution_options(readonly=True)


@router.get("/vaults", response_model=list[VaultOut], responses=errors(401))
def list_vaults(principal: Auth, ctx: Ctx) -> list[VaultOut]:
    with _read(ctx) as conn:
        rows = conn.execute(
            select(s.vaults)
            .where(s.vaults.c.account_id == principal.account_id)
            .order_by(s.vaults.c.created_at)
        ).all()
    return [_vault_out(ctx, r) for r in rows]


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
            row = _vault(conn, vault_id, principal)
            return _vault_out(ctx, row)
    except IntegrityError:  # created concurrently by another request
        with _read(ctx) as conn:
            return _vault_out(ctx, _vault(conn, vault_id, principal))


@router.get("/vaults/{vault_id}", response_model=VaultOut, responses=errors(401, 403, 404, 422))
def get_vault(principal: Auth, ctx: Ctx, vault_id: str = VaultId) -> VaultOut:
    with _read(ctx) as conn:
        return _vault_out(ctx, _vault(conn, vault_id, principal))


@router.delete("/vaults/{vault_id}", status_code=204, responses=errors(401, 403, 404, 422))
def delete_vault(principal: Auth, ctx: Ctx, vault_id: str = VaultId) -> Response:
    """Delete everything the server holds for this vault (turning sync off for good)."""
    with ctx.engine.begin() as conn:
        _vault(conn, vault_id, principal)
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
    payload = _decode(body.payload, ctx.config.max_bundle_bytes)
    size = len(payload)
    try:
        with ctx.engine.begin() as conn:
            v = _vault(conn, vault_id, principal)
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
            if _account_full(conn, ctx, principal.account_id, size):
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
    with _read(ctx) as conn:
        v = _vault(conn, vault_id, principal)
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
                    payload=_b64(r.payload),
                )
            )
    last = out[-1].seq if out else after
    return PullOut(bundles=out, head=v.head, more=last < v.head)


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
    payload = _decode(body.payload, ctx.config.max_bundle_bytes)
    with ctx.engine.begin() as conn:
        v = _vault(conn, vault_id, principal)
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
        if _account_full(conn, ctx, principal.account_id, len(payload) - (old or 0)):
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
        v = _vault(conn, vault_id, principal)
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
    with _read(ctx) as conn:
        v = _vault(conn, vault_id, principal)
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
    with _read(ctx) as conn:
        _vault(conn, vault_id, principal)
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
    return PayloadOut(payload=_b64(payload))


# --- key slots (the sync secret wrapped for the recovery key) ---------------------------------

KeySlotName = Path(pattern=r"^[a-z0-9-]{1,40}$")


@router.put(
    "/vaults/{vault_id}/keyslots/{name}",
    status_code=204,
    responses=errors(400, 401, 403, 404, 413, 422),
)
def put_keyslot(
    body: PayloadIn, principal: Auth, ctx: Ctx, vault_id: str = VaultId, name: str = KeySlotName
) -> Response:
    """Store a wrapped key (ciphertext; the server cannot unwrap it)."""
    payload = _decode(body.payload, MAX_KEYSLOT_BYTES)
    with ctx.engine.begin() as conn:
        _vault(conn, vault_id, principal)
        conn.execute(
            delete(s.keyslots).where(s.keyslots.c.vault_id == vault_id, s.keyslots.c.name == name)
        )
        conn.execute(
            insert(s.keyslots).values(
                vault_id=vault_id, name=name, payload=payload, updated_at=now_ms()
            )
        )
    return Response(status_code=204)


@router.get(
    "/vaults/{vault_id}/keyslots/{name}",
    response_model=PayloadOut,
    responses=errors(401, 403, 404, 422),
)
def get_keyslot(
    principal: Auth, ctx: Ctx, vault_id: str = VaultId, name: str = KeySlotName
) -> PayloadOut:
    with _read(ctx) as conn:
        _vault(conn, vault_id, principal)
        payload = conn.execute(
            select(s.keyslots.c.payload).where(
                s.keyslots.c.vault_id == vault_id, s.keyslots.c.name == name
            )
        ).scalar()
    if payload is None:
        raise ApiError(404, "no_keyslot", "No key slot with that name.")
    return PayloadOut(payload=_b64(payload))


@router.delete(
    "/vaults/{vault_id}/keyslots/{name}", status_code=204, responses=errors(401, 403, 404, 422)
)
def delete_keyslot(
    principal: Auth, ctx: Ctx, vault_id: str = VaultId, name: str = KeySlotName
) -> Response:
    """Retire a wrapped key (e.g. after the recovery key changed)."""
    with ctx.engine.begin() as conn:
        _vault(conn, vault_id, principal)
        gone = conn.execute(
            delete(s.keyslots).where(s.keyslots.c.vault_id == vault_id, s.keyslots.c.name == name)
        ).rowcount
    if not gone:
        raise ApiError(404, "no_keyslot", "No key slot with that name.")
    return Response(status_code=204)


# --- one-time pairing ------------------------------------------------------------------------


@router.post(
    "/pairings",
    status_code=204,
    tags=["pairing"],
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
def offer_pairing(body: PairingIn, principal: Auth, ctx: Ctx) -> Response:
    """Park a wrapped sync secret for one claim by another device of this account."""
    payload = _decode(body.payload, MAX_KEYSLOT_BYTES)
    now = now_ms()
    try:
        with ctx.engine.begin() as conn:
            _vault(conn, body.vault_id, principal)
            conn.execute(delete(s.pairings).where(s.pairings.c.expires_at <= now))
            conn.execute(
                insert(s.pairings).values(
                    id=body.pairing_id,
                    account_id=principal.account_id,
                    vault_id=body.vault_id,
                    payload=payload,
                    expires_at=now + ctx.config.pairing_ttl * 1000,
                )
            )
    except IntegrityError:
        raise ApiError(409, "pairing_exists", "That pairing id is in use.") from None
    return Response(status_code=204)


@router.post(
    "/pairings/{pairing_id}/claim",
    response_model=PairingOut,
    tags=["pairing"],
    responses=errors(401, 404, 422),
)
def claim_pairing(
    principal: Auth, ctx: Ctx, pairing_id: str = Path(pattern=r"^[A-Za-z0-9]{8,64}$")
) -> PairingOut:
    """Take a pairing offer; it is deleted as it is read, so a code works once."""
    with ctx.engine.begin() as conn:
        row = conn.execute(
            select(s.pairings).where(
                s.pairings.c.id == pairing_id,
                s.pairings.c.account_id == principal.account_id,
                s.pairings.c.expires_at > now_ms(),
            )
        ).first()
        if row is None:
            raise ApiError(404, "no_pairing", "No such pairing code, or it expired or was used.")
        conn.execute(delete(s.pairings).where(s.pairings.c.id == pairing_id))
    return PairingOut(vault_id=row.vault_id, payload=_b64(row.payload))
