"""The inter-process vault lock: `vault.lock` beside the database.

Ordinary work (a CLI command, the app while unlocked) holds it shared; key
rotation, restore and deleting the vault hold it exclusively, because they
replace or remove `vault.db` by rename and another process's open SQLite
connection would go on writing to the replaced file. Exclusive requests fail
fast with `VaultBusy` naming the holder's pid; shared requests wait a little,
since an exclusive holder is always a short operation.

On Linux the lock is an open-file-description lock (`F_OFD_SETLK`): it belongs
to this lock object, not to the whole process, so two Vault objects in one
process (the app and a test, say) also exclude each other, and converting a
shared lock to exclusive is atomic (flock() drops the old lock first). Beside
it each holder keeps a classic per-process read lock on byte 1, which is what
`F_GETLK` can name the pid of. Elsewhere with fcntl (macOS, BSD) the classic
per-process lock is used alone (two holders in one process do not exclude each
other there, and no pid is named); Windows has no fcntl and the lock is a no-op
there (ohvault's supported desktops are Linux and macOS).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import struct
import sys
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

from ohvault.errors import VaultBusy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK_FILENAME = "vault.lock"
SHARED_WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05
_OFD = fcntl is not None and sys.platform == "linux" and hasattr(fcntl, "F_OFD_SETLK")
# struct flock on Linux (x86-64, arm64): short l_type, short l_whence, off_t l_start,
# off_t l_len, pid_t l_pid, padded to 32 bytes.
_FLOCK = "hhqqi4x"
_BUSY_ERRNOS = {errno.EAGAIN, errno.EACCES}
# Every holder in this process. Per-process (marker) locks vanish for all of them when any
# descriptor of the file is closed or unlocks byte 1, so the others take theirs again.
_holders: weakref.WeakSet[VaultLock] = weakref.WeakSet()


def _flock(kind: int, start: int, length: int) -> bytes:
    return struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0)


class VaultLock:
    """One holder of a vault's lock: unlocked, shared or exclusive."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILENAME
        self._fd: int | None = None
        self.mode: str | None = None  # None, "shared" or "exclusive"
        _holders.add(self)

    # --- acquiring ----------------------------------------------------------------------

    def acquire_shared(self, wait: float = SHARED_WAIT_SECONDS) -> None:
        """Share the vault with other ordinary work; waits up to `wait` s for an exclusive holder."""
        deadline = time.monotonic() + wait
        while not self._set("shared"):
            if time.monotonic() >= deadline:
                raise self._busy()
            time.sleep(_POLL_SECONDS)

    def acquire_exclusive(self, wait: float = 0.0) -> None:
        """Exclusive use (rotate, restore, delete); fails at once if anyone else holds it.

        A shared lock held by this object is converted in place and kept on failure.
        `wait` > 0 retries for that long (recovering after a crash, when every opener
        wants it for a moment).
        """
        deadline = time.monotonic() + wait
        while not self._set("exclusive"):
            if time.monotonic() >= deadline:
                raise self._busy()
            time.sleep(_POLL_SECONDS)

    def downgrade(self) -> None:
        if self.mode == "exclusive":
            self._set("shared")

    def release(self) -> None:
        self.mode = None
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self._apply(fcntl.F_UNLCK if fcntl else 0)
        os.close(self._fd)
        self._fd = None
        _restore_markers(self.path)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Exclusive for the block, then back to what this object held before."""
        before = self.mode
        self.acquire_exclusive()
        try:
            yield
        finally:
            if before == "shared":
                self.downgrade()
            elif before is None:
                self.release()

    @contextlib.contextmanager
    def header_update(self) -> Iterator[None]:
        """Serialise header rewrites between the processes that share the vault (byte 2)."""
        fd = self._open()
        if fd is None or fcntl is None:
            yield
            return
        if _OFD:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _flock(fcntl.F_WRLCK, 2, 1))
        else:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, 2)
        try:
            yield
        finally:
            if _OFD:
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, 2, 1))
            else:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 2)
            if self.mode is None:
                self.release()

    # --- machinery ----------------------------------------------------------------------

    def _open(self) -> int | None:
        if fcntl is None:
            return None
        if self._fd is None:
            if not self.path.parent.exists():
                from ohvault.paths import ensure_private_dir

                ensure_private_dir(self.path.parent)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def _set(self, mode: str) -> bool:
        if self._open() is None:
            self.mode = mode
            return True
        assert fcntl is not None
        kind = fcntl.F_RDLCK if mode == "shared" else fcntl.F_WRLCK
        try:
            self._apply(kind)
        except OSError as exc:
            if exc.errno in _BUSY_ERRNOS:
                if self.mode is None:
                    self.release()
                return False
            raise
        self.mode = mode
        return True

    def _apply(self, kind: int) -> None:
        assert fcntl is not None and self._fd is not None
        if _OFD:
            fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, _flock(kind, 0, 1))
            # The pid marker: a per-process read lock that F_GETLK can report to others.
            marker = fcntl.F_UNLCK if kind == fcntl.F_UNLCK else fcntl.F_RDLCK
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._fd, fcntl.F_SETLK, _flock(marker, 1, 1))
            return
        op = {fcntl.F_RDLCK: fcntl.LOCK_SH, fcntl.F_WRLCK: fcntl.LOCK_EX}.get(kind, fcntl.LOCK_UN)
        fcntl.lockf(self._fd, op | (fcntl.LOCK_NB if op != fcntl.LOCK_UN else 0), 1, 0)

    def holder_pid(self) -> int | None:
        """The pid of another process holding the lock, where the system can tell."""
        if fcntl is None or not _OFD:
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, _flock(fcntl.F_WRLCK, 1, 1))
            kind, _, _, _, pid = struct.unpack(_FLOCK, answer)
            return int(pid) if kind != fcntl.F_UNLCK and pid > 0 else None
        except OSError:
            return None
        finally:
            os.close(fd)  # drops this process's marker locks on the file: take them again
            _restore_markers(self.path)

    def _busy(self) -> VaultBusy:
        pid = self.holder_pid()
        if pid is None and any(
            h is not self and h.path == self.path and h.mode is not None for h in list(_holders)
        ):
            pid = os.getpid()  # F_GETLK does not report this process's own locks
        who = f"pid {pid}" if pid is not None else "pid unknown"
        log.info("vault lock busy (held by another holder)")
        return VaultBusy(
            f"The vault is open in another ohvault process ({who}).",
            hint="Lock or close the app, or wait for the other command to finish, and try again.",
        )

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


def _restore_markers(path: Path) -> None:
    if fcntl is None or not _OFD:
        return
    for holder in list(_holders):
        if holder.path == path and holder.mode is not None and holder._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.fcntl(holder._fd, fcntl.F_SETLK, _flock(fcntl.F_RDLCK, 1, 1))


def hold_exclusive(home: Path) -> VaultLock:
    """A new exclusive holder for `home` (fails fast with VaultBusy)."""
    lock = VaultLock(home)
    lock.acquire_exclusive()
    return lock
