"""The vault: one encrypted health vault's lifecycle, files, unlocking and backups.

The layer above `storage/` (which never imports it): `lifecycle.py` creates, opens, locks,
re-keys and deletes a vault; `files.py` names its files; `unlock.py` finds the key that opens
it; `backup.py` backs it up and restores it. Callers outside the package (CLI, GUI, sync,
bundles) import from here or from `ohvault.vault.backup`, never from `storage/` internals
such as the audit chain.

The names below load on first use (PEP 562), so that importing a light submodule such as
`ohvault.vault.defaults` (or `MIN_PASSPHRASE_LENGTH` from here) does not pull in SQLCipher,
cryptography and argon2: the desktop app's first window needs none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ohvault.storage.audit import AuditEntry, ChainReport
    from ohvault.vault.defaults import MIN_PASSPHRASE_LENGTH
    from ohvault.vault.files import VaultFiles
    from ohvault.vault.lifecycle import (
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

# Public name -> the module that defines it.
_WHERE = {
    "AuditEntry": "ohvault.storage.audit",
    "ChainReport": "ohvault.storage.audit",
    "VaultFiles": "ohvault.vault.files",
    "MIN_PASSPHRASE_LENGTH": "ohvault.vault.defaults",
    "CrashForTesting": "ohvault.vault.lifecycle",
    "Vault": "ohvault.vault.lifecycle",
    "check_passphrase_strength": "ohvault.vault.lifecycle",
    "Credentials": "ohvault.vault.unlock",
    "UnlockedDatabase": "ohvault.vault.unlock",
    "UnlockMethod": "ohvault.vault.unlock",
    "UnlockReport": "ohvault.vault.unlock",
    "unlock_database": "ohvault.vault.unlock",
    "wrap_for_passphrase": "ohvault.vault.unlock",
    "wrap_for_recovery": "ohvault.vault.unlock",
}

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


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
