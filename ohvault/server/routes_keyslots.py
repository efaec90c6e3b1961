"""Key slots: the sync secret wrapped under the vault's recovery key, for joining without a code."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response
from sqlalchemy import delete, insert, select

from ohvault.server import schema as s
from ohvault.server.api_models import (
    PayloadIn,
    PayloadOut,
)
from ohvault.server.deps import ApiError, Auth, Ctx, errors
from ohvault.server.security import now_ms
from ohvault.server.vault_rows import (
    MAX_KEYSLOT_BYTES,
    VaultId,
    b64,
    decode_payload,
    read_conn,
    vault_row,
)

router = APIRouter(prefix="/v1", tags=["vaults"])


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
    payload = decode_payload(body.payload, MAX_KEYSLOT_BYTES)
    with ctx.engine.begin() as conn:
        vault_row(conn, vault_id, principal)
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
    with read_conn(ctx) as conn:
        vault_row(conn, vault_id, principal)
        payload = conn.execute(
            select(s.keyslots.c.payload).where(
                s.keyslots.c.vault_id == vault_id, s.keyslots.c.name == name
            )
        ).scalar()
    if payload is None:
        raise ApiError(404, "no_keyslot", "No key slot with that name.")
    return PayloadOut(payload=b64(payload))


@router.delete(
    "/vaults/{vault_id}/keyslots/{name}", status_code=204, responses=errors(401, 403, 404, 422)
)
def delete_keyslot(
    principal: Auth, ctx: Ctx, vault_id: str = VaultId, name: str = KeySlotName
) -> Response:
    """Retire a wrapped key (e.g. after the recovery key changed)."""
    with ctx.engine.begin() as conn:
        vault_row(conn, vault_id, principal)
        gone = conn.execute(
            delete(s.keyslots).where(s.keyslots.c.vault_id == vault_id, s.keyslots.c.name == name)
        ).rowcount
    if not gone:
        raise ApiError(404, "no_keyslot", "No key slot with that name.")
    return Response(status_code=204)
