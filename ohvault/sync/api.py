"""The sync server's REST API as typed calls: one method per endpoint, answers as dataclasses.

Each method sends one request through the `Transport` (tokens, refresh, retries) and
maps the status codes that mean something to the client to a result or to a clear
SyncError; any other status is `SyncRefused` (see `transport.expect`). Payloads are
ciphertext and key wraps, as bytes; nothing here touches the vault or sees a record.
A malformed answer raises KeyError, ValueError and the like, which the caller turns
into one clear error (`client.server_answer`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ohvault.sync.errors import SyncRefused
from ohvault.sync.transport import Transport, error_code, expect

PAGE_LIMIT = 200  # bundles asked for per pull request


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PulledBundle:
    """One bundle of the vault's log, as the server holds it."""

    seq: int
    bundle_id: str
    payload: bytes

    @classmethod
    def from_json(cls, b: dict[str, Any]) -> PulledBundle:
        return cls(int(b["seq"]), str(b["bundle_id"]), base64.b64decode(b["payload"]))


@dataclass(frozen=True)
class BundlePage:
    """Bundles after a cursor, in log order; `more` when the page was cut at the limit."""

    bundles: list[PulledBundle]
    head: int
    more: bool


@dataclass(frozen=True)
class Compacted:
    """The log before the cursor was folded into a snapshot: load the snapshot first."""


@dataclass(frozen=True)
class OutgoingBundle:
    bundle_id: str
    base_seq: int
    payload: bytes


@dataclass(frozen=True)
class Pushed:
    seq: int


@dataclass(frozen=True)
class Stale:
    """Another device pushed first: pull, merge and push again."""


@dataclass(frozen=True)
class VaultInfo:
    head: int
    snapshot_seq: int


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    parts: int
    upto_seq: int


@dataclass(frozen=True)
class PairingClaim:
    vault_id: str
    payload: bytes


# --- the calls -----------------------------------------------------------------------------------


class SyncApi:
    """Typed calls over one Transport (which keeps the session and counts the bytes)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def close(self) -> None:
        self.transport.close()

    # accounts and sessions (register and login live on the Transport: they set its session)

    def register(self, username: str, password: str) -> None:
        self.transport.register(username, password)

    def login(
        self, username: str, password: str, device_name: str, device_id: str | None = None
    ) -> None:
        self.transport.login(username, password, device_name, device_id=device_id)

    def logout(self) -> None:
        self.transport.request("POST", "/v1/auth/logout")

    def change_password(self, password: str, new_password: str) -> None:
        r = self.transport.request(
            "POST",
            "/v1/account/password",
            json={"password": password, "new_password": new_password},
        )
        if r.status_code == 403:
            raise SyncRefused("The current password is wrong; nothing was changed.")
        expect(r, 204)

    def delete_account(self, password: str) -> None:
        r = self.transport.request("POST", "/v1/account/delete", json={"password": password})
        if r.status_code == 403:
            raise SyncRefused("The password is wrong; nothing was deleted.")
        expect(r, 204)

    # vaults

    def create_vault(self, vault_id: str) -> None:
        expect(self.transport.request("PUT", f"/v1/vaults/{vault_id}"), 201)

    def delete_vault(self, vault_id: str) -> None:
        """Delete the server's copy; already gone is fine."""
        expect(self.transport.request("DELETE", f"/v1/vaults/{vault_id}"), 204, 404)

    def vault_ids(self) -> list[str]:
        vaults = expect(self.transport.request("GET", "/v1/vaults"), 200).json()
        return [str(v["vault_id"]) for v in vaults]

    def vault_info(self, vault_id: str) -> VaultInfo:
        info = expect(self.transport.request("GET", f"/v1/vaults/{vault_id}"), 200).json()
        return VaultInfo(int(info["head"]), int(info["snapshot_seq"]))

    # the log

    def bundles(self, vault_id: str, after: int, limit: int = PAGE_LIMIT) -> BundlePage | Compacted:
        r = self.transport.request(
            "GET", f"/v1/vaults/{vault_id}/bundles", params={"after": after, "limit": limit}
        )
        if r.status_code == 410:
            return Compacted()
        if r.status_code == 409:
            raise SyncRefused(
                "The server's copy is behind this device (was it restored from a backup?).",
                hint="Turn sync off and on again to upload this vault afresh.",
            )
        body = expect(r, 200).json()
        return BundlePage(
            [PulledBundle.from_json(b) for b in body["bundles"]],
            int(body["head"]),
            bool(body["more"]),
        )

    def push(self, vault_id: str, bundle: OutgoingBundle) -> Pushed | Stale:
        r = self.transport.request(
            "POST",
            f"/v1/vaults/{vault_id}/bundles",
            json={
                "bundle_id": bundle.bundle_id,
                "base_seq": bundle.base_seq,
                "payload": _b64(bundle.payload),
            },
        )
        if r.status_code == 409 and error_code(r) == "stale":
            return Stale()
        if r.status_code == 507:
            raise SyncRefused(
                "The sync server's storage quota for this vault or account is used up."
            )
        return Pushed(int(expect(r, 200, 201).json()["seq"]))

    # snapshots

    def snapshot(self, vault_id: str) -> SnapshotInfo:
        snap = expect(self.transport.request("GET", f"/v1/vaults/{vault_id}/snapshot"), 200).json()
        return SnapshotInfo(str(snap["snapshot_id"]), int(snap["parts"]), int(snap["upto_seq"]))

    def snapshot_part(self, vault_id: str, snapshot_id: str, n: int) -> bytes:
        part = expect(
            self.transport.request(
                "GET", f"/v1/vaults/{vault_id}/snapshots/{snapshot_id}/parts/{n}"
            ),
            200,
        ).json()
        return base64.b64decode(part["payload"])

    def put_snapshot_part(self, vault_id: str, snapshot_id: str, n: int, payload: bytes) -> None:
        r = self.transport.request(
            "PUT",
            f"/v1/vaults/{vault_id}/snapshots/{snapshot_id}/parts/{n}",
            json={"payload": _b64(payload)},
        )
        expect(r, 204)

    def commit_snapshot(self, vault_id: str, snapshot_id: str, upto_seq: int, parts: int) -> bool:
        """False when another device compacted past this snapshot first (fine)."""
        r = self.transport.request(
            "POST",
            f"/v1/vaults/{vault_id}/snapshots/{snapshot_id}/commit",
            json={"upto_seq": upto_seq, "parts": parts},
        )
        if r.status_code == 409:
            return False
        expect(r, 200)
        return True

    # key slots (the sync secret wrapped for joining with the recovery key)

    def keyslot(self, vault_id: str, slot: str) -> bytes | None:
        r = self.transport.request("GET", f"/v1/vaults/{vault_id}/keyslots/{slot}")
        if r.status_code == 404:
            return None
        return base64.b64decode(expect(r, 200).json()["payload"])

    def put_keyslot(self, vault_id: str, slot: str, payload: bytes) -> None:
        r = self.transport.request(
            "PUT", f"/v1/vaults/{vault_id}/keyslots/{slot}", json={"payload": _b64(payload)}
        )
        expect(r, 204)

    def delete_keyslot(self, vault_id: str, slot: str) -> None:
        r = self.transport.request("DELETE", f"/v1/vaults/{vault_id}/keyslots/{slot}")
        expect(r, 204, 404)

    # pairing (the sync secret wrapped under a one-time code)

    def offer_pairing(self, pairing_id: str, vault_id: str, payload: bytes) -> None:
        r = self.transport.request(
            "POST",
            "/v1/pairings",
            json={"pairing_id": pairing_id, "vault_id": vault_id, "payload": _b64(payload)},
        )
        expect(r, 204)

    def claim_pairing(self, pairing_id: str) -> PairingClaim | None:
        """The offer behind a code, once; None when unknown, expired or already used."""
        r = self.transport.request("POST", f"/v1/pairings/{pairing_id}/claim")
        if r.status_code == 404:
            return None
        body = expect(r, 200).json()
        return PairingClaim(str(body["vault_id"]), base64.b64decode(body["payload"]))
