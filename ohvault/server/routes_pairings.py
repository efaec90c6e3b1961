"""One-time pairing: the sync secret wrapped under a short-lived code, claimed once."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from ohvault.server import schema as s
from ohvault.server.api_models import (
    PairingIn,
    PairingOut,
)
from ohvault.server.deps import ApiError, Auth, Ctx, errors
from ohvault.server.security import now_ms
from ohvault.server.vault_rows import (
    MAX_KEYSLOT_BYTES,
    b64,
    decode_payload,
    vault_row,
)

router = APIRouter(prefix="/v1", tags=["vaults"])


# --- one-time pairing ------------------------------------------------------------------------


@router.post(
    "/pairings",
    status_code=204,
    tags=["pairing"],
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
def offer_pairing(body: PairingIn, principal: Auth, ctx: Ctx) -> Response:
    """Park a wrapped sync secret for one claim by another device of this account."""
    payload = decode_payload(body.payload, MAX_KEYSLOT_BYTES)
    now = now_ms()
    try:
        with ctx.engine.begin() as conn:
            vault_row(conn, body.vault_id, principal)
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
    return PairingOut(vault_id=row.vault_id, payload=b64(row.payload))
