"""The bundle manifest: what the bundle holds, who made it, for whom; signed with Ed25519.

The signature covers the exact bytes of `manifest.json`, so no canonical form is
needed to verify it. The manifest lists every other entry with its size and
SHA-256; a reader checks each size against the archive header before reading
content and each hash before using it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ohvault.bundles.age import BadBundle

FORMAT = "ohvault-bundle"
FORMAT_VERSION = 1
MANIFEST_PATH = "manifest.json"
SIGNATURE_PATH = "manifest.sig"
FHIR_PATH = "fhir/bundle.json"
ATTACHMENT_DIR = "attachments/"

# Limits that bound memory and refuse size bombs before content is read.
MAX_MANIFEST = 8 << 20
MAX_SIGNATURE = 1024
MAX_FHIR = 128 << 20
MAX_ATTACHMENT = 1 << 30
MAX_ENTRIES = 100_000


class UnsupportedVersion(BadBundle):
    pass


@dataclass(frozen=True)
class EntryInfo:
    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    bundle_id: str
    created_at: str
    sender_vault_id: str
    sender_profile_id: str
    signing_key: str  # "ed25519:<base64>"
    recipients: list[dict[str, str]]  # {"type": "x25519", "fingerprint": …} or {"type": "scrypt"}
    counts: dict[str, int]
    entries: list[EntryInfo]
    deleted: list[dict[str, str]] = field(default_factory=list)  # {"type", "id", "deleted_at"}
    scope: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "bundle_id": self.bundle_id,
            "created_at": self.created_at,
            "sender": {
                "vault_id": self.sender_vault_id,
                "signing_key": self.signing_key,
            },
            "profile": {"id": self.sender_profile_id},
            "recipients": self.recipients,
            "counts": self.counts,
            "scope": self.scope,
            "entries": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in self.entries],
            "deleted": self.deleted,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise BadBundle("The bundle's manifest is not valid JSON.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BadBundle("The file is not an ohvault bundle (the manifest has another format).")
        if data.get("version") != FORMAT_VERSION:
            raise UnsupportedVersion(
                "This bundle uses a format version this ohvault does not understand.",
                hint="Update ohvault to import it; nothing was imported.",
            )
        try:
            entries = [
                EntryInfo(str(e["path"]), int(e["size"]), str(e["sha256"])) for e in data["entries"]
            ]
            manifest = cls(
                bundle_id=str(data["bundle_id"]),
                created_at=str(data["created_at"]),
                sender_vault_id=str(data["sender"]["vault_id"]),
                sender_profile_id=str(data["profile"]["id"]),
                signing_key=str(data["sender"]["signing_key"]),
                recipients=[dict(r) for r in data["recipients"]],
                counts={str(k): int(v) for k, v in data["counts"].items()},
                entries=entries,
                deleted=[
                    {"type": str(d["type"]), "id": str(d["id"]), "deleted_at": str(d["deleted_at"])}
                    for d in data.get("deleted", [])
                ],
                scope=dict(data.get("scope") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BadBundle("The bundle's manifest is incomplete or malformed.") from None
        if len(entries) > MAX_ENTRIES or len({e.path for e in entries}) != len(entries):
            raise BadBundle("The bundle's manifest lists too many or duplicate entries.")
        return manifest
