"""The vault header: a small JSON file beside the database.

It holds what is needed to unlock and nothing that reveals PHI: the vault id,
the Argon2id parameters, the data key wrapped by the passphrase and by the
recovery key, and, during a key rotation, the next key's wraps. An HMAC keyed
from the data key covers the whole header, so an edit is detected after unlock.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from ohvault.atomic import atomic_write_bytes
from ohvault.errors import BadInput, VaultCorrupt
from ohvault.keys.secret import SecretKey
from ohvault.keys.wrap import KdfParams, WrappedKey, b64e, hkdf

FORMAT = "ohvault-header"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class KeySlots:
    """The data key of one generation, wrapped for each way of unlocking."""

    generation: int
    passphrase: WrappedKey | None = None
    recovery: WrappedKey | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "passphrase": self.passphrase.to_json() if self.passphrase else None,
            "recovery": self.recovery.to_json() if self.recovery else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeySlots:
        return cls(
            generation=int(data["generation"]),
            passphrase=WrappedKey.from_json(data["passphrase"]) if data.get("passphrase") else None,
            recovery=WrappedKey.from_json(data["recovery"]) if data.get("recovery") else None,
        )


@dataclass(frozen=True)
class PendingRotation:
    """A rotation that has started: the next key's slots and each key wrapped by the other.

    Whichever of the two keys opens the database after a crash, the other can be
    derived from it, so the rotation can be finished or discarded.
    """

    slots: KeySlots
    next_by_current: WrappedKey
    current_by_next: WrappedKey

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": self.slots.to_json(),
            "next_by_current": self.next_by_current.to_json(),
            "current_by_next": self.current_by_next.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingRotation:
        return cls(
            slots=KeySlots.from_json(data["slots"]),
            next_by_current=WrappedKey.from_json(data["next_by_current"]),
            current_by_next=WrappedKey.from_json(data["current_by_next"]),
        )


@dataclass(frozen=True)
class VaultHeader:
    vault_id: str
    kind: str  # "patient" | "clinician"
    created_at: str
    kdf: KdfParams
    slots: KeySlots
    pending: PendingRotation | None = None
    recovery_unconfirmed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    mac: str | None = None

    @staticmethod
    def new(vault_id: str, kind: str, kdf: KdfParams, slots: KeySlots) -> VaultHeader:
        return VaultHeader(
            vault_id=vault_id,
            kind=kind,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            kdf=kdf,
            slots=slots,
        )

    # --- serialisation ---------------------------------------------------

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "vault_id": self.vault_id,
            "kind": self.kind,
            "created_at": self.created_at,
            "kdf": self.kdf.to_json(),
            "slots": self.slots.to_json(),
            "pending": self.pending.to_json() if self.pending else None,
            "recovery_unconfirmed": self.recovery_unconfirmed,
            "extra": self.extra,
        }

    def aad(self, purpose: str, generation: int) -> bytes:
        return f"ohvault/{self.vault_id}/{purpose}/{generation}".encode()

    def signed(self, data_key: SecretKey) -> VaultHeader:
        """The header with its MAC, made with the current generation's data key."""
        return replace(self, mac=_mac(self.body(), data_key))

    def verify(self, current_key: SecretKey) -> bool:
        if self.mac is None:
            return False
        expected = _mac(self.body(), current_key)
        return hmac.compare_digest(expected, self.mac)

    def to_bytes(self) -> bytes:
        data = self.body()
        data["mac"] = self.mac
        return json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> VaultHeader:
        try:
            data = json.loads(raw.decode("utf-8"))
            if data.get("format") != FORMAT:
                raise VaultCorrupt("The vault header is not an ohvault header.")
            if int(data.get("version", 0)) > FORMAT_VERSION:
                raise VaultCorrupt(
                    "The vault header was written by a newer ohvault.",
                    hint="Upgrade ohvault to open this vault.",
                )
            return cls(
                vault_id=str(data["vault_id"]),
                kind=str(data["kind"]),
                created_at=str(data["created_at"]),
                kdf=KdfParams.from_json(data["kdf"]),
                slots=KeySlots.from_json(data["slots"]),
                pending=PendingRotation.from_json(data["pending"]) if data.get("pending") else None,
                recovery_unconfirmed=bool(data.get("recovery_unconfirmed", False)),
                extra=dict(data.get("extra") or {}),
                mac=data.get("mac"),
            )
        except VaultCorrupt:
            raise
        except BadInput as exc:  # e.g. an unknown key-derivation function
            raise VaultCorrupt(
                f"The vault header cannot be used: {exc.message}",
                hint="Restore it from a backup (`ohvault restore`).",
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise VaultCorrupt(
                "The vault header is damaged and cannot be read.",
                hint="Restore it from a backup (`ohvault restore`).",
            ) from exc

    @classmethod
    def load(cls, path: Path) -> VaultHeader:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise VaultCorrupt(
                "The vault header file is missing.",
                hint="Restore it from a backup (`ohvault restore`).",
            ) from None
        return cls.from_bytes(raw)

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, self.to_bytes())


def _mac(body: dict[str, Any], data_key: SecretKey) -> str:
    mac_key = hkdf(data_key.raw(), salt=None, info=b"ohvault header mac v1")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    digest = hmac.new(mac_key, canonical, sha256).digest()
    return b64e(digest)
