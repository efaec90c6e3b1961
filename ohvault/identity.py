"""A vault's own identity: an Ed25519 signing key and an X25519 (age) key pair.

Patients sign the bundles they export with the Ed25519 key; clinicians receive
bundles encrypted to their X25519 public key (`age1…`). Both private keys live in
the encrypted database's `meta` table, so they are as safe as the records and
travel with backups; they are made on first use.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ohvault.atomic import fsync_dir
from ohvault.errors import BadInput
from ohvault.vault import Vault

_SIGNING = "identity:ed25519"
_AGE = "identity:x25519"
SIGNING_PREFIX = "ed25519:"


def fingerprint(public_text: str) -> str:
    """A short, comparable fingerprint: 16 bytes of SHA-256, in groups of four hex digits."""
    digest = hashlib.sha256(public_text.strip().encode("ascii")).hexdigest()[:32].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def signing_public_text(key: Ed25519PublicKey) -> str:
    return SIGNING_PREFIX + base64.b64encode(key.public_bytes_raw()).decode("ascii")


def load_signing_public(text: str) -> Ed25519PublicKey:
    if not text.startswith(SIGNING_PREFIX):
        raise BadInput("The bundle names a sender key of an unknown kind.")
    try:
        raw = base64.b64decode(text[len(SIGNING_PREFIX) :], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise BadInput("The bundle's sender key is malformed.") from None


def verify(public_text: str, signature: bytes, message: bytes) -> bool:
    try:
        load_signing_public(public_text).verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Identity:
    signing_key: Ed25519PrivateKey
    age_identity: str  # AGE-SECRET-KEY-1…

    @property
    def signing_public(self) -> str:
        return signing_public_text(self.signing_key.public_key())

    @property
    def signing_fingerprint(self) -> str:
        return fingerprint(self.signing_public)

    @property
    def age_recipient(self) -> str:
        return str(pyrage.x25519.Identity.from_str(self.age_identity).to_public())

    @property
    def age_fingerprint(self) -> str:
        return fingerprint(self.age_recipient)

    def sign(self, message: bytes) -> bytes:
        return self.signing_key.sign(message)


def _meta(vault: Vault, key: str) -> str | None:
    row = vault.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def load(vault: Vault) -> Identity | None:
    """The vault's identity if it has one yet (no write)."""
    signing_hex = _meta(vault, _SIGNING)
    age_text = _meta(vault, _AGE)
    if signing_hex is None or age_text is None:
        return None
    return Identity(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(signing_hex)), age_text)


def load_or_create(vault: Vault) -> Identity:
    """The vault's identity, made (and audited) the first time it is needed."""
    with vault.db.transaction():
        signing_hex = _meta(vault, _SIGNING)
        age_text = _meta(vault, _AGE)
        if signing_hex is None or age_text is None:
            signing_hex = Ed25519PrivateKey.generate().private_bytes_raw().hex()
            age_text = str(pyrage.x25519.Identity.generate())
            vault.db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (_SIGNING, signing_hex)
            )
            vault.db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (_AGE, age_text)
            )
            vault.audit.append("identity.create")
    return Identity(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(signing_hex)), age_text)


def public_summary(identity: Identity) -> dict[str, str]:
    return {
        "age_public_key": identity.age_recipient,
        "age_fingerprint": identity.age_fingerprint,
        "signing_public_key": identity.signing_public,
        "signing_fingerprint": identity.signing_fingerprint,
    }


def write_qr(text: str, path: Path) -> None:
    """A QR code of the public key (PNG or SVG by the file's suffix)."""
    import segno

    if path.suffix.lower() not in (".png", ".svg"):
        raise BadInput("The QR code file must end in .png or .svg.")
    segno.make(text, error="m").save(str(path), scale=8, border=4)


def export_age_identity(vault: Vault, identity: Identity, path: Path) -> None:
    """Write the X25519 identity in age's identity-file format, readable by the owner only."""
    body = (
        f"# created: by ohvault for vault {vault.vault_id}\n"
        f"# public key: {identity.age_recipient}\n"
        f"{identity.age_identity}\n"
    )
    if path.exists():
        raise BadInput("That file already exists; choose a new path for the key file.")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    fsync_dir(path.parent)
    vault.audit.append("identity.export_age_key")
