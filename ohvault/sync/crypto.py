"""Sealing bundles, snapshots and key wraps with AES-256-GCM.

All sync keys come from one random 32-byte sync secret, created when sync is
first enabled and kept in the vault's encrypted `meta` table. It is separate
from the data key on purpose: `ohvault key rotate` replaces the data key, and
sync must keep working across that. The secret reaches another device only
wrapped, under a one-time pairing code or the recovery key; the server sees
ciphertext only.

Compression happens before encryption. An attacker would need to inject chosen
text into a vault and watch sizes to learn anything from that (the CRIME
pattern); sizes are visible to the server either way, so we accept it for the
bandwidth it saves.
"""

from __future__ import annotations

import json
import secrets
import zlib
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ohvault.keys.wrap import hkdf
from ohvault.sync.errors import SyncVerifyFailed

MAGIC = b"OHS2"
# Bundles sealed before the sequence number was bound into the associated data.
# Still read (they cannot be forged either); a replay of one is caught by the
# applied-bundle list and the per-record clocks instead (see local.py).
LEGACY_MAGIC = b"OHS1"
NONCE = 12
MAX_PLAINTEXT = 512 * 1024 * 1024  # decompression bomb guard


def new_sync_secret() -> bytes:
    return secrets.token_bytes(32)


class SyncKeys:
    def __init__(self, secret: bytes, vault_id: str) -> None:
        if len(secret) != 32:
            raise ValueError("a sync secret has 32 bytes")
        self.vault_id = vault_id
        self._bundle = AESGCM(hkdf(secret, salt=None, info=b"ohvault sync bundle v1"))

    def _aad(self, kind: str, ident: str, bind: str) -> bytes:
        return f"ohvault-sync-v2|{self.vault_id}|{kind}|{ident}|{bind}".encode()

    def _legacy_aad(self, kind: str, ident: str) -> bytes:
        return f"ohvault-sync-v1|{self.vault_id}|{kind}|{ident}".encode()

    def seal(self, kind: str, ident: str, document: dict[str, Any], *, bind: str) -> bytes:
        """JSON → zlib → AES-256-GCM, bound to this vault, the kind, the bundle/part id and
        `bind`: where in the log it must sit (a bundle's sequence number, a snapshot's end),
        so that a server serving it anywhere else fails verification."""
        plain = zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)
        nonce = secrets.token_bytes(NONCE)
        return MAGIC + nonce + self._bundle.encrypt(nonce, plain, self._aad(kind, ident, bind))

    def open(self, kind: str, ident: str, sealed: bytes, *, bind: str) -> dict[str, Any]:
        magic = sealed[: len(MAGIC)]
        if magic not in (MAGIC, LEGACY_MAGIC) or len(sealed) < len(MAGIC) + NONCE + 16:
            raise SyncVerifyFailed("A bundle from the server is not in ohvault's sync format.")
        nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE]
        aad = self._aad(kind, ident, bind) if magic == MAGIC else self._legacy_aad(kind, ident)
        try:
            plain = self._bundle.decrypt(nonce, sealed[len(MAGIC) + NONCE :], aad)
        except InvalidTag:
            raise SyncVerifyFailed(
                "A bundle from the server failed verification: it was not made with this "
                "vault's sync key, was altered, or was served at another place in the log "
                "than it was made for. Nothing was merged from it.",
            ) from None
        d = zlib.decompressobj()
        data = d.decompress(plain, MAX_PLAINTEXT)
        if d.unconsumed_tail:
            raise SyncVerifyFailed("A bundle from the server is too large to unpack.")
        document: dict[str, Any] = json.loads(data)
        return document


def wrap_secret(secret: bytes, kek_material: bytes, *, salt: bytes, context: str) -> bytes:
    """The sync secret under a key derived (HKDF) from a high-entropy code or recovery key."""
    kek = hkdf(kek_material, salt=salt, info=b"ohvault sync secret wrap v1")
    nonce = secrets.token_bytes(NONCE)
    return salt + nonce + AESGCM(kek).encrypt(nonce, secret, context.encode())


def unwrap_secret(blob: bytes, kek_material: bytes, *, salt_len: int, context: str) -> bytes | None:
    salt, rest = blob[:salt_len], blob[salt_len:]
    kek = hkdf(kek_material, salt=salt, info=b"ohvault sync secret wrap v1")
    try:
        return AESGCM(kek).decrypt(rest[:NONCE], rest[NONCE:], context.encode())
    except InvalidTag:
        return None
