"""The vault: one encrypted health vault's lifecycle, files, unlocking and backups.

The layer above `storage/` (which never imports it): `lifecycle.py` creates, opens, locks,
re-keys and deletes a vault; `files.py` names its files; `unlock.py` finds the key that opens
it; `backup.py` backs it up and restores it. Callers outside the package (CLI, GUI, sync,
bundles) import from here or from `ohvault.vault.backup`, never from `storage/` internals
such as the audit chain.
"""

from ohvault.storage.audit import AuditEntry, ChainReport
from ohvault.vault.files import VaultFiles
from ohvault.vault.lifecycle import (
    MIN_PASSPHRASE_LENGTH,
    CrashForTesting,
    Vault,
    check_passphrase_strength,
)
from ohvault.vault.unlock import (
    Credentials,
    UnlockedDatabase,
    UnlockMethod,
    UnlockReport,
    unlock_database,
    wrap_for_passphrase,
    wrap_for_recovery,
)

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "AuditEntry",
    "ChainReport",
    "CrashForTesting",
    "Credentials",
    "UnlockMethod",
    "UnlockReport",
    "UnlockedDatabase",
    "Vault",
    "VaultFiles",
    "check_passphrase_strength",
    "unlock_database",
    "wrap_for_passphrase",
    "wrap_for_recovery",
]
