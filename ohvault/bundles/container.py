"""The plaintext inside a bundle: a POSIX ustar stream, written and read incrementally.

Writing produces the archive as pieces (`tar_pieces`, each content piece naming its
entry so a later stage can hash it; `TarReader.read(n)` for a pull-based reader);
reading is push-based (`TarSink.write`) because `decrypt_io` pushes into a writer.
Neither holds more than one entry's chunk in memory. The reader is strict: regular files only, safe relative paths
only, sizes checked before any content is read, no trailing garbage.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ohvault.bundles.age import BadBundle

BLOCK = 512
READ_CHUNK = 1 << 20
_SAFE_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}(/[A-Za-z0-9][A-Za-z0-9._-]{0,80}){0,3}$")


def check_path(name: str) -> None:
    """Refuse absolute paths, `..`, backslashes and anything outside a small safe alphabet."""
    if (
        name.startswith("/")
        or "\\" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
        or not _SAFE_PATH.match(name)
    ):
        raise BadBundle("The bundle contains an entry with an unsafe path; nothing was imported.")


@dataclass
class OutEntry:
    name: str
    size: int
    chunks: Callable[[], Iterable[bytes | memoryview]]  # called when the entry is reached
    sha256: str | None = None  # the content's recorded hash, checked as it streams out


def _header(name: str, size: int, mtime: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o600
    info.type = tarfile.REGTYPE
    return info.tobuf(format=tarfile.USTAR_FORMAT, encoding="ascii", errors="strict")


def archive_size(entries: Iterable[OutEntry]) -> int:
    return sum(BLOCK + -(-e.size // BLOCK) * BLOCK for e in entries) + 2 * BLOCK


def tar_pieces(
    entries: list[OutEntry], mtime: int
) -> Iterator[tuple[bytes | memoryview, OutEntry | None, bool]]:
    """The archive as (piece, entry, end): content pieces name their entry, headers and padding
    name None, and an empty piece with `end` set follows each entry's content."""
    for entry in entries:
        check_path(entry.name)
    for entry in entries:
        yield _header(entry.name, entry.size, mtime), None, False
        written = 0
        for chunk in entry.chunks():
            written += len(chunk)
            if written > entry.size:
                raise BadBundle("An entry grew while it was being written.")
            yield chunk, entry, False
        if written != entry.size:
            raise BadBundle("An entry changed size while it was being written.")
        yield b"", entry, True
        if entry.size % BLOCK:
            yield b"\0" * (BLOCK - entry.size % BLOCK), None, False
    yield b"\0" * (2 * BLOCK), None, False


class TarReader:
    """A file-like object whose read(n) returns the next bytes of a ustar archive."""

    def __init__(
        self,
        entries: list[OutEntry],
        mtime: int,
        on_bytes: Callable[[int], None] = lambda n: None,
    ) -> None:
        for e in entries:
            check_path(e.name)
        self._gen = self._generate(entries, mtime)
        self._buf = bytearray()
        self._on_bytes = on_bytes

    def _generate(self, entries: list[OutEntry], mtime: int) -> Iterator[bytes | memoryview]:
        for piece, _entry, _end in tar_pieces(entries, mtime):
            yield piece

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            chunk = next(self._gen, None)
            if chunk is None:
                break
            self._buf += chunk
        if size < 0:
            size = len(self._buf)
        out = bytes(self._buf[:size])
        del self._buf[:size]
        self._on_bytes(len(out))
        return out

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def not_a_bundle() -> BadBundle:
    """The file decrypted, so it is an age file for us, but what it holds is no bundle."""
    return BadBundle(
        "This file is age-encrypted and opens with this vault's key or passphrase, "
        "but it is not an ohvault bundle.",
        hint="It may be another age-encrypted file: decrypt it with the age tool "
        "(`ohvault identity export-age-key FILE` writes the key age needs).",
    )


class EntryConsumer(Protocol):
    # A view into the chunk written (no copy) when that chunk is immutable `bytes`.
    def feed(self, data: bytes | memoryview) -> None: ...

    def finish(self) -> None: ...


class TarSink:
    """A writer that parses a ustar stream and hands each entry to `open_entry(name, size)`."""

    def __init__(self, open_entry: Callable[[str, int], EntryConsumer]) -> None:
        self._open = open_entry
        self._buf = bytearray()
        self._remaining = 0  # content bytes of the current entry still to come
        self._padding = 0
        self._consumer: EntryConsumer | None = None
        self._zero_blocks = 0
        self._entries = 0
        self.finished = False

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        # Entries may keep what they are fed: views of immutable bytes, copies of anything else.
        immutable = type(data) is bytes
        pos = 0
        while pos < len(view):
            if self._remaining:
                take = min(self._remaining, len(view) - pos)
                assert self._consumer is not None
                piece = view[pos : pos + take]
                self._consumer.feed(piece if immutable else bytes(piece))
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._consumer.finish()
                    self._consumer = None
                continue
            if self._padding:
                take = min(self._padding, len(view) - pos)
                if any(view[pos : pos + take]):
                    raise BadBundle("The bundle's archive is malformed.")
                pos += take
                self._padding -= take
                continue
            take = min(BLOCK - len(self._buf), len(view) - pos)
            self._buf += view[pos : pos + take]
            pos += take
            if len(self._buf) == BLOCK:
                block = bytes(self._buf)
                self._buf.clear()
                self._header(block)
        return len(data)

    def _header(self, block: bytes) -> None:
        if self.finished:
            if any(block):
                raise BadBundle("The bundle has data after its end.")
            return
        if not any(block):
            self._zero_blocks += 1
            if self._zero_blocks == 2:
                self.finished = True
            return
        if self._zero_blocks:
            raise BadBundle("The bundle's archive is malformed.")
        try:
            info = tarfile.TarInfo.frombuf(block, "ascii", "strict")
        except (tarfile.HeaderError, UnicodeError, ValueError):
            if not self._entries:
                raise not_a_bundle() from None
            raise BadBundle("The bundle's archive is malformed.") from None
        self._entries += 1
        if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
            raise BadBundle("The bundle contains something other than plain files.")
        check_path(info.name)
        consumer = self._open(info.name, info.size)
        if info.size == 0:
            consumer.finish()
        else:
            self._consumer = consumer
            self._remaining = info.size
        self._padding = -info.size % BLOCK

    def close(self) -> None:
        if not self._entries:
            raise not_a_bundle()
        if not self.finished or self._remaining or self._buf:
            raise BadBundle("The bundle is truncated.")
