"""Where a vault's files live: the database, the header, backups and restore's leftovers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ohvault import paths


@dataclass(frozen=True)
class VaultFiles:
    home: Path

    @property
    def db(self) -> Path:
        return self.home / paths.DB_FILENAME

    @property
    def header(self) -> Path:
        return self.home / paths.HEADER_FILENAME

    @property
    def backups(self) -> Path:
        return self.home / paths.BACKUP_DIRNAME

    @property
    def restore_journal(self) -> Path:
        return self.home / "restore.journal"

    @property
    def safety_copy(self) -> Path:
        """Where restore keeps the vault it replaced, until the next successful unlock."""
        return self.home / "replaced-by-restore"

    def exists(self) -> bool:
        return self.header.exists() or self.db.exists()

    def scratch(self, suffix: str) -> Path:
        return self.home / f"{paths.DB_FILENAME}.{suffix}"
