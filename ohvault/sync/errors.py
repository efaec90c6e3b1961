"""Sync failures, each with a message a person can act on and no PHI."""

from __future__ import annotations

from ohvault.errors import BadInput, ExitCode, OhvaultError, VaultCorrupt


class SyncError(OhvaultError):
    exit_code = ExitCode.INTERNAL


class SyncNotEnabled(SyncError, BadInput):
    exit_code = ExitCode.BAD_INPUT


class SyncOffline(SyncError):
    """The server could not be reached (after retries). Nothing local was lost."""

    exit_code = ExitCode.CHECK_FAILED


class SyncAuthRequired(SyncError):
    """The session ended (expired, revoked or logged out): log in again."""

    exit_code = ExitCode.LOCKED


class SyncRefused(SyncError):
    """The server answered with an error that retrying will not fix."""

    exit_code = ExitCode.CHECK_FAILED


class SyncVerifyFailed(SyncError, VaultCorrupt):
    """A bundle failed authentication: it was not made with this vault's sync key."""

    exit_code = ExitCode.CHECK_FAILED


class SyncInternalError(SyncError):
    """A bug in ohvault's own sync code (not the server's answer); the log has the traceback."""

    exit_code = ExitCode.INTERNAL
