"""Several "devices" in one test: each is its own vault directory with its own SyncClient."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import FAST_KDF
from ohvault.keys.keychain import KeyStore
from ohvault.sync import SyncClient
from ohvault.sync.local import CONFLICT_COLUMNS, RECORD_TABLES
from ohvault.vault import Vault

PASSWORD = "correct horse battery staple"


@dataclass
class Device:
    name: str
    vault: Vault
    recovery_key: str
    client: SyncClient

    def state(self) -> dict[str, Any]:
        """Every synced row, tombstones and conflicts included, to compare devices."""
        out: dict[str, Any] = {}
        db = self.vault.db
        for table in RECORD_TABLES:
            rows = db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
            out[table] = [tuple(r) for r in rows]
        out["document_blobs"] = [
            tuple(r)
            for r in db.execute("SELECT document_id, content FROM document_blobs ORDER BY 1")
        ]
        cols = ", ".join(CONFLICT_COLUMNS)
        out["sync_conflicts"] = [
            tuple(r)
            for r in db.execute(
                f"SELECT {cols} FROM sync_conflicts ORDER BY tbl, record_id, loser_hlc"  # noqa: S608
            )
        ]
        return out


def new_device(root: Path, name: str, keychain: KeyStore, *, profile: str | None = None) -> Device:
    vault, recovery_key = Vault.create(
        root / name, kdf=FAST_KDF, keychain=keychain, profile_name=profile
    )
    return Device(
        name, vault, recovery_key, SyncClient(vault, max_attempts=3, sleep=lambda _s: None)
    )


def close_devices(*devices: Device, keychain: KeyStore) -> None:
    for d in devices:
        d.vault.lock()
        Vault.destroy(d.vault.files.home, keychain=keychain, with_backups=True)
