"""The errors ohvault raises on purpose, each with a message a person can act on.

Every message here must be free of PHI: it may end up on a terminal, in a dialog
or in a log. The CLI maps each class to a distinct exit code so that scripts can
tell "locked / wrong key" from "bad input" from "internal error".
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    LOCKED = 3
    NOT_FOUND = 4
    CHECK_FAILED = 5
    CONFLICT = 6
    BUSY = 7


class OhvaultError(Exception):
    """Base class: an expected failure with a human message."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class BadInput(OhvaultError):
    exit_code = ExitCode.BAD_INPUT


class Cancelled(OhvaultError):
    """The person cancelled a long operation; nothing was written (the one Cancelled: bundle
    export and import, the GUI's jobs and the lab parser all raise this class)."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self, message: str = "Cancelled; nothing was changed.", *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)


class VaultLocked(OhvaultError):
    """The vault could not be unlocked with what was offered."""

    exit_code = ExitCode.LOCKED


class WrongKey(VaultLocked):
    pass


class KeychainUnavailable(VaultLocked):
    pass


class VaultNotFound(OhvaultError):
    exit_code = ExitCode.NOT_FOUND


class VaultExists(OhvaultError):
    exit_code = ExitCode.BAD_INPUT


class VaultCorrupt(OhvaultError):
    exit_code = ExitCode.CHECK_FAILED


class SchemaTooNew(OhvaultError):
    exit_code = ExitCode.CHECK_FAILED


class RecordNotFound(OhvaultError):
    exit_code = ExitCode.NOT_FOUND


class ReadOnlyRecord(OhvaultError):
    exit_code = ExitCode.BAD_INPUT


class BackupError(OhvaultError):
    exit_code = ExitCode.CHECK_FAILED


class OtherVaultBackup(BackupError):
    """A backup of another vault id, restored only when explicitly allowed."""

    exit_code = ExitCode.BAD_INPUT


class VaultBusy(OhvaultError):
    """Another ohvault process has the vault open, so it cannot be replaced or deleted now."""

    exit_code = ExitCode.BUSY


class ConflictError(OhvaultError):
    exit_code = ExitCode.CONFLICT
