"""Reading document blobs for an export, one background thread ahead of the encryption.

Reading a blob out of SQLCipher (decrypting and HMAC-checking every 4 KiB page)
is the slowest step of an export. The sqlite module releases the GIL inside
`sqlite3_blob_read`, and hashing, ChaCha20-Poly1305 and file writes release it
too, so a reader thread that stays a few MiB ahead lets the two cores work at
the same time. Blobs are read incrementally (`open_blob`) in 1 MiB pieces, never
as whole values, and at most `DEPTH` pieces wait in the queue: memory stays
bounded by a few MiB whatever the document or bundle size.

The caller owns the database connection for the duration: nothing else may use
it until `close()` (which the iteration's `finally` calls) has joined the thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ohvault.errors import RecordNotFound, VaultCorrupt
from ohvault.model import Document
from ohvault.storage.db import Database

PIECE = 1 << 20
DEPTH = 8  # pieces in flight: 8 MiB at most
_END = object()  # one document's pieces are complete


@dataclass(frozen=True)
class _Blob:
    doc: Document
    rowid: int


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class BlobPrefetcher:
    """Yields each document's content in order, verified against its recorded size and hash."""

    def __init__(self, db: Database, profile_id: str, docs: Sequence[Document]) -> None:
        self._db = db
        # Looked up before the thread starts, scoped to the profile like every read.
        self._blobs = [_Blob(d, self._rowid(profile_id, d.id)) for d in docs]
        self._queue: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next = 0

    def _rowid(self, profile_id: str, document_id: str) -> int:
        row = self._db.execute(
            "SELECT b.rowid FROM document_blobs b JOIN documents d ON d.id = b.document_id "
            "WHERE d.id = ? AND d.profile_id = ? AND d.deleted = 0",
            (document_id, profile_id),
        ).fetchone()
        if row is None:
            raise RecordNotFound("No document with that id in this profile.")
        return int(row[0])

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for blob in self._blobs:
                handle = self._db.conn.open_blob(
                    "document_blobs", "content", blob.rowid, readonly=True
                )
                try:
                    while piece := handle.read(PIECE):
                        if not self._put(piece):
                            return
                finally:
                    handle.close()
                if not self._put(_END):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failed(exc))

    def chunks(self, doc: Document) -> Iterator[bytes]:
        """The next document's content; must be called for the documents in order."""
        expected = self._blobs[self._next]
        if expected.doc.id != doc.id:
            raise ValueError("documents must be read in the order given")
        self._next += 1
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bundle-blobs", daemon=True)
            self._thread.start()
        digest = hashlib.sha256()
        size = 0
        while True:
            item = self._queue.get()
            if item is _END:
                break
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, bytes)
            size += len(item)
            if size > doc.size:
                break
            digest.update(item)
            yield item
        if size != doc.size or digest.hexdigest() != doc.sha256:
            # The bundle being written is discarded by the caller, so nothing
            # unverified leaves the vault.
            raise VaultCorrupt(
                "A stored document does not match its recorded hash; export stopped."
            )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class EarlyWriteback:
    """A file sink that asks the kernel to write data back while the export is still running.

    The final fsync of a 200 MB bundle otherwise waits for all of it at the end
    (about a third of the export's time); syncing every `STEP` bytes from a helper
    thread overlaps that disk work with reading the next blobs. Durability is
    unchanged: the caller still fsyncs before renaming the file into place.
    """

    STEP = 32 << 20

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._since = 0
        self._thread: threading.Thread | None = None

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        n = self._handle.write(data)
        self._since += len(data)
        if self._since >= self.STEP and (self._thread is None or not self._thread.is_alive()):
            self._since = 0
            self._handle.flush()
            self._thread = threading.Thread(
                target=_datasync, args=(self._handle.fileno(),), name="bundle-sync", daemon=True
            )
            self._thread.start()
        return n

    def close(self) -> None:
        """Wait for a sync in progress (the caller then flushes and fsyncs)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _datasync(fd: int) -> None:
    with contextlib.suppress(OSError):  # the caller's final fsync reports real errors
        os.fdatasync(fd)
