"""Clinician side queries: the patient list and where imported records came from.

Every function takes one patient (profile) id and reads only that patient's rows.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from ohvault.errors import RecordNotFound
from ohvault.model import Record
from ohvault.vault import Vault


@dataclass(frozen=True)
class PatientSummary:
    profile_id: str
    name: str
    sender_fingerprint: str | None  # None: a profile made in this vault, not from a bundle
    first_seen: str | None
    last_import: str | None
    key_changes: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class BundleImport:
    bundle_id: str
    profile_id: str
    sender_fingerprint: str
    bundle_created_at: str
    imported_at: str
    file_sha256: str
    addressed_to_us: bool
    key_changed: bool
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def patients(vault: Vault) -> list[PatientSummary]:
    """Every profile with its bundle sender's fingerprint (the patient list)."""
    rows = vault.db.execute(
        "SELECT p.id, p.name, t.fingerprint, t.first_seen, t.previous_keys, "
        "(SELECT max(imported_at) FROM bundle_imports b WHERE b.profile_id = p.id) "
        "FROM profiles p LEFT JOIN trusted_senders t ON t.profile_id = p.id "
        "ORDER BY p.name COLLATE NOCASE, p.created_at"
    ).fetchall()
    vault.audit.append("list", record_type="profile", detail=f"patients count={len(rows)}")
    return [
        PatientSummary(
            profile_id=str(r[0]),
            name=str(r[1]),
            sender_fingerprint=r[2],
            first_seen=r[3],
            last_import=r[5],
            key_changes=len(json.loads(r[4])) if r[4] else 0,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class LookAlike:
    """A patient already in the vault with the same name and birth date as an incoming one."""

    profile_id: str
    name: str
    birth_date: date | None
    sender_fingerprint: str | None  # None: made in this vault, not from a bundle

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "name": self.name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sender_fingerprint": self.sender_fingerprint,
        }


def same_person_key(name: str, birth_date: date | None) -> tuple[str, date | None]:
    """What two patients must share to look alike: the name as a person reads it, the birth date.

    Case, Unicode compatibility forms (a full-width letter) and spacing do not tell people
    apart on screen, so they do not here either.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split()), birth_date


def lookalike_patients(vault: Vault, name: str, birth_date: date | None) -> list[LookAlike]:
    """Patients in `vault` that a person could not tell from (name, birth_date)."""
    wanted = same_person_key(name, birth_date)
    senders = dict(
        vault.db.execute("SELECT profile_id, fingerprint FROM trusted_senders").fetchall()
    )
    return [
        LookAlike(p.id, p.name, p.birth_date, senders.get(p.id))
        for p in vault.repo.profiles()
        if same_person_key(p.name, p.birth_date) == wanted
    ]


_IMPORT_COLS = (
    "bundle_id, profile_id, sender_fingerprint, bundle_created_at, imported_at, "
    "file_sha256, addressed_to_us, key_changed, counts"
)


def _bundle_import(row: Any) -> BundleImport:
    return BundleImport(
        bundle_id=row[0],
        profile_id=row[1],
        sender_fingerprint=row[2],
        bundle_created_at=row[3],
        imported_at=row[4],
        file_sha256=row[5],
        addressed_to_us=bool(row[6]),
        key_changed=bool(row[7]),
        counts=json.loads(row[8]),
    )


def import_history(vault: Vault, profile_id: str) -> list[BundleImport]:
    rows = vault.db.execute(
        f"SELECT {_IMPORT_COLS} FROM bundle_imports WHERE profile_id = ? ORDER BY imported_at",  # noqa: S608
        (profile_id,),
    ).fetchall()
    vault.audit.append("list", record_type="bundle_import", profile_id=profile_id)
    return [_bundle_import(r) for r in rows]


def record_provenance(vault: Vault, profile_id: str, record: Record) -> BundleImport:
    """Which bundle brought `record`, when, signed by whom (scoped to the patient)."""
    if record.profile_id != profile_id or not record.source_id:
        raise RecordNotFound("No bundle import for that record in this patient.")
    row = vault.db.execute(
        f"SELECT {_IMPORT_COLS} FROM bundle_imports WHERE bundle_id = ? AND profile_id = ?",  # noqa: S608
        (record.source_id, profile_id),
    ).fetchone()
    if row is None:
        raise RecordNotFound("No bundle import for that record in this patient.")
    return _bundle_import(row)
