"""Strict parsing of the age v1 header and ASCII armor (age-encryption.org/v1, C2SP).

pyrage decrypts X25519 files, but it accepts a few malformed headers that the
spec requires rejecting (non-canonical base64, extra stanza arguments). Every
file is therefore parsed here first, to the letter of the spec, and only a
header that passes is handed to pyrage or to our scrypt reader. The armor
decoder streams, so an armored bundle needs no more memory than a binary one.
The C2SP CCTV test vectors (tests/bundles/age_vectors/) check both.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Protocol

from ohvault.errors import BadInput

VERSION_LINE = b"age-encryption.org/v1"
MAX_HEADER = 64 * 1024
MAX_SCRYPT_LOG_N = 22  # age's own limit; also keeps a hostile file from costing minutes or GiB
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
_ARMOR_COLUMNS = 64
_WHITESPACE = b" \t\r\n"
_MAX_ARMOR_SLACK = 1024  # whitespace allowed around the armor
_B64_UNPADDED = re.compile(rb"[A-Za-z0-9+/]*")
_B64_ARMOR_LINE = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_WORK_FACTOR = re.compile(rb"[1-9][0-9]{0,1}")


class BadBundle(BadInput):
    """The file is not an intact bundle (damaged, truncated, forged or not a bundle)."""


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def b64_canonical(text: bytes) -> bytes:
    """Decode unpadded base64 that re-encodes to exactly `text` (no padding, zero spare bits)."""
    if not _B64_UNPADDED.fullmatch(text) or len(text) % 4 == 1:
        raise BadBundle("The encrypted file's header is damaged.")
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    if base64.b64encode(data).rstrip(b"=") != text:
        raise BadBundle("The encrypted file's header is damaged (non-canonical encoding).")
    return data


def b64_encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


@dataclass(frozen=True)
class Stanza:
    args: tuple[bytes, ...]  # args[0] is the recipient type
    body: bytes

    @property
    def kind(self) -> bytes:
        return self.args[0]


@dataclass(frozen=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac_input: bytes  # the header up to and including '---', the input of the header MAC
    mac: bytes
    raw: bytes  # the whole header as read, ending with the MAC line's newline

    def scrypt(self) -> Stanza | None:
        found = [s for s in self.stanzas if s.kind == b"scrypt"]
        return found[0] if found else None


def _is_vchar_arg(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= c <= 0x7E for c in arg)


class _Lines:
    """LF-terminated lines of the header, within a byte budget; a CR is never part of one."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self.raw = bytearray()

    def next(self) -> bytes:
        start = len(self.raw)
        while True:
            c = self._source.read(1)
            if not c:
                raise BadBundle("The file is not an age-encrypted bundle or its header is damaged.")
            self.raw += c
            if len(self.raw) > MAX_HEADER:
                raise BadBundle("The bundle's encryption header is too large.")
            if c == b"\n":
                line = bytes(self.raw[start:-1])
                if b"\r" in line:
                    raise BadBundle("The bundle's encryption header is damaged.")
                return line


def read_header(source: Source) -> Header:
    """Parse and validate an age header; the source is left at the start of the payload."""
    lines = _Lines(source)
    if lines.next() != VERSION_LINE:
        raise BadBundle("The file is not an age-encrypted bundle (unknown format).")
    stanzas: list[Stanza] = []
    line = lines.next()
    while line.startswith(b"-> "):
        args = tuple(line[3:].split(b" "))
        if not all(_is_vchar_arg(a) for a in args):
            raise BadBundle("The bundle's encryption header is damaged (malformed stanza).")
        body = bytearray()
        while True:
            body_line = lines.next()
            if len(body_line) > _ARMOR_COLUMNS:
                raise BadBundle("The bundle's encryption header is damaged (long line).")
            body += b64_canonical(body_line)
            if len(body_line) < _ARMOR_COLUMNS:
                break
        stanzas.append(Stanza(args, bytes(body)))
        line = lines.next()
    if not line.startswith(b"--- "):
        raise BadBundle("The bundle's encryption header is damaged.")
    mac = b64_canonical(line[4:])
    if len(mac) != 32:
        raise BadBundle("The bundle's encryption header is damaged (MAC).")
    raw = bytes(lines.raw)
    mac_input = raw[: len(raw) - len(line) - 1] + b"---"
    header = Header(tuple(stanzas), mac_input, mac, raw)
    _check_known_stanzas(header)
    return header


def _check_known_stanzas(header: Header) -> None:
    """The recipient types we know must be well formed even when they are not ours (spec)."""
    for stanza in header.stanzas:
        if stanza.kind == b"X25519":
            if len(stanza.args) != 2 or len(b64_canonical(stanza.args[1])) != 32:
                raise BadBundle("The bundle's encryption header is damaged (X25519 stanza).")
            if len(stanza.body) != 32:
                raise BadBundle("The bundle's encryption header is damaged (X25519 stanza).")
        elif stanza.kind == b"scrypt":
            scrypt_params(stanza)
    if header.scrypt() is not None and len(header.stanzas) != 1:
        # A passphrase file must not also open for a key, or with a second passphrase.
        raise BadBundle("The bundle's encryption header is damaged (scrypt with other stanzas).")


def scrypt_params(stanza: Stanza) -> tuple[bytes, int]:
    """(salt, log2 work factor) of a well-formed scrypt stanza."""
    if len(stanza.args) != 3 or len(stanza.body) != 32:
        raise BadBundle("The bundle's encryption header is damaged (scrypt stanza).")
    salt = b64_canonical(stanza.args[1])
    if len(salt) != 16:
        raise BadBundle("The bundle's encryption header is damaged (scrypt salt).")
    if not _WORK_FACTOR.fullmatch(stanza.args[2]):
        raise BadBundle("The bundle's encryption header is damaged (invalid work factor).")
    log_n = int(stanza.args[2])
    if log_n > MAX_SCRYPT_LOG_N:
        raise BadBundle("The bundle asks for an unreasonably expensive passphrase check.")
    return salt, log_n


# --- ASCII armor ---------------------------------------------------------------------------


def skip_armor_slack(head: bytes) -> int:
    """Index of the first byte after leading whitespace (bounded), for armor detection."""
    i = 0
    while i < len(head) and i < _MAX_ARMOR_SLACK and head[i : i + 1] in (b" ", b"\t", b"\r", b"\n"):
        i += 1
    return i


def is_armored(head: bytes) -> bool:
    return head[skip_armor_slack(head) :].startswith(ARMOR_BEGIN)


class ArmorReader:
    """Decodes age's strict PEM armor while it is read: 64-column lines, the last one shorter
    or equal, canonical padding only at the very end, LF or CRLF, nothing but whitespace
    around it. Any deviation is a BadBundle, raised when the reader reaches it."""

    def __init__(self, inner: Source) -> None:
        self._inner = inner
        self._buffer = bytearray()
        self._eof = False
        self._decoded = bytearray()
        self._state = "start"  # start -> body -> done
        self._slack = 0

    def _fill(self) -> None:
        if not self._eof:
            chunk = self._inner.read(1 << 16)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True

    def _line(self) -> bytes | None:
        """The next line without its LF or CRLF; None at end of input (a last line without an
        end of line is returned as a line)."""
        while True:
            nl = self._buffer.find(b"\n")
            if nl >= 0:
                line = bytes(self._buffer[:nl])
                del self._buffer[: nl + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self._buffer) > 4 * _MAX_ARMOR_SLACK:
                raise BadBundle("The armored bundle is damaged (line too long).")
            if self._eof:
                if not self._buffer:
                    return None
                line = bytes(self._buffer)
                self._buffer.clear()
                return line
            self._fill()

    def _bad(self, why: str) -> BadBundle:
        return BadBundle(f"The armored bundle is damaged ({why}).")

    def _start(self) -> None:
        while True:
            line = self._line()
            if line is None:
                raise self._bad("no armor begins")
            if line.strip(_WHITESPACE) == b"":
                self._slack += len(line) + 1
                if self._slack > _MAX_ARMOR_SLACK:
                    raise self._bad("too much leading whitespace")
                continue
            # Leading whitespace on the marker line itself counts as slack before the marker.
            stripped = line.lstrip(_WHITESPACE)
            if stripped != ARMOR_BEGIN or len(line) - len(stripped) > _MAX_ARMOR_SLACK:
                raise self._bad("no valid begin line")
            self._state = "body"
            return

    def _next_body_line(self) -> None:
        line = self._line()
        if line is None:
            raise self._bad("no end line")
        if line == ARMOR_END:
            self._finish()
            return
        if not line or len(line) > _ARMOR_COLUMNS or not _B64_ARMOR_LINE.fullmatch(line):
            raise self._bad("invalid line")
        if len(line) < _ARMOR_COLUMNS or line.endswith(b"="):
            # The last line of data: it must be canonical and followed by the end line.
            if len(line) % 4:
                raise self._bad("invalid padding")
            try:
                data = base64.b64decode(line, validate=True)
            except binascii.Error:
                raise self._bad("invalid base64") from None
            if base64.b64encode(data) != line:
                raise self._bad("non-canonical base64")
            self._decoded += data
            if self._line() != ARMOR_END:
                raise self._bad("data after the last line")
            self._finish()
            return
        self._decoded += base64.b64decode(line, validate=True)

    def _finish(self) -> None:
        trailing = 0
        while True:
            line = self._line()
            if line is None:
                break
            if line.strip(_WHITESPACE):
                raise self._bad("data after the end line")
            trailing += len(line) + 1
            if trailing > _MAX_ARMOR_SLACK:
                raise self._bad("too much trailing whitespace")
        self._state = "done"

    def read(self, size: int = -1) -> bytes:
        if self._state == "start":
            self._start()
        want = size if size >= 0 else 1 << 62
        while len(self._decoded) < want and self._state == "body":
            self._next_body_line()
        out = bytes(self._decoded[:want])
        del self._decoded[:want]
        return out

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def dearmor_head(head: bytes) -> bytes:
    """The first decoded bytes of an armored file (lenient, for telling what a file is)."""
    start = head.find(ARMOR_BEGIN)
    lines = head[start + len(ARMOR_BEGIN) :].replace(b"\r", b"").split(b"\n")
    decoded = bytearray()
    for line in lines[1:-1]:  # the last piece may be cut mid-line
        if not line or line == ARMOR_END:
            break
        try:
            decoded += base64.b64decode(line)
        except binascii.Error:
            break
    return bytes(decoded)
