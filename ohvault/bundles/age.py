"""The age v1 file format (age-encryption.org/v1), streamed.

X25519 recipients go through pyrage (Rust `age`), whose `encrypt_io` and
`decrypt_io` stream in 64 KiB chunks. pyrage's passphrase (scrypt) recipient only
works on whole byte strings, which would put a 200 MB bundle in memory twice, so
the scrypt recipient is implemented here from the spec with `cryptography`
(scrypt, HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305) and checked against
pyrage and the `age` tool in the tests. Both produce standard age files.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Sequence
from hashlib import sha256
from typing import BinaryIO, Protocol

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ohvault.bundles.age_format import (
    ArmorReader,
    BadBundle,
    Header,
    b64_encode,
    dearmor_head,
    is_armored,
    read_header,
    scrypt_params,
)
from ohvault.errors import BadInput, WrongKey
from ohvault.keys.wrap import hkdf

__all__ = ["BadBundle", "decrypt", "decrypt_passphrase", "decrypt_x25519", "recipient_kind"]

VERSION_LINE = b"age-encryption.org/v1"
CHUNK = 64 * 1024
TAG = 16
SCRYPT_LOG_N = 18  # age's default work factor (about 1 s, 256 MiB)


class Sink(Protocol):
    def write(self, data: bytes, /) -> int | None: ...


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def is_x25519_recipient(text: str) -> bool:
    try:
        pyrage.x25519.Recipient.from_str(text)
    except Exception:  # pyrage raises its own RecipientError / ValueError variants
        return False
    return True


def parse_recipients(texts: Sequence[str]) -> list[pyrage.x25519.Recipient]:
    out = []
    for text in texts:
        try:
            out.append(pyrage.x25519.Recipient.from_str(text.strip()))
        except Exception:
            raise BadInput(
                "A recipient is not an age public key.",
                hint="An age public key starts with age1 and is 62 characters long.",
            ) from None
    return out


# --- X25519 through pyrage -------------------------------------------------------------


class _Guarded:
    """Remembers an exception our reader or writer raised, which pyrage would wrap in its own."""

    def __init__(self, source: Source, sink: Sink) -> None:
        self._source = source
        self._sink = sink
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:  # pyrage may call again (e.g. flushing on drop)
            raise self.error
        try:
            return self._source.read(size)
        except BaseException as exc:
            self.error = exc
            raise

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def write(self, data: bytes) -> int | None:
        if self.error is not None:  # the first error is the one to report
            raise self.error
        try:
            return self._sink.write(data)
        except BaseException as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        pass


def encrypt_x25519(source: Source, sink: Sink, recipients: Sequence[str]) -> None:
    if not recipients:
        raise BadInput("A bundle needs at least one recipient.")
    guard = _Guarded(source, sink)
    try:
        pyrage.encrypt_io(guard, guard, parse_recipients(recipients))
    except Exception:
        if guard.error is not None:
            raise guard.error from None
        raise


def decrypt_x25519(source: Source, sink: Sink, identities: Sequence[str]) -> None:
    """Decrypt a binary age file to X25519 identities. The header is checked to the letter of
    the spec first (pyrage is lenient about a few malformed stanzas), then pyrage reads it."""
    header = read_header(source)
    if header.scrypt() is not None:
        raise WrongKey(
            "This bundle is protected by a passphrase, not addressed to a key.",
            hint="Import it with its passphrase (--bundle-passphrase-stdin).",
        )
    idents = [pyrage.x25519.Identity.from_str(i) for i in identities]
    guard = _Guarded(_Replay(header.raw, source), sink)
    try:
        try:
            pyrage.decrypt_io(guard, guard, idents)
        except Exception:
            if guard.error is not None:
                raise guard.error from None
            raise
    except pyrage.DecryptError as exc:
        if "No matching keys" in str(exc):
            raise WrongKey(
                "This bundle is not addressed to this vault's key.",
                hint="Ask the sender to export it to your public key (ohvault identity).",
            ) from None
        raise BadBundle("The bundle is damaged: its encryption does not verify.") from None
    except OSError:
        raise BadBundle(
            "The bundle is damaged or truncated: its encryption does not verify."
        ) from None


class _Replay:
    """Bytes already read (the header), then the rest of the source."""

    def __init__(self, prefix: bytes, inner: Source) -> None:
        self._prefix = prefix
        self._inner = inner

    def read(self, size: int = -1) -> bytes:
        if not self._prefix:
            return self._inner.read(size)
        if size < 0:
            data, self._prefix = self._prefix, b""
            return data + self._inner.read()
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        return data


# --- scrypt (passphrase) recipient -----------------------------------------------------


def _scrypt_key(passphrase: str, salt: bytes, log_n: int) -> bytes:
    return Scrypt(
        salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=1 << log_n, r=8, p=1
    ).derive(passphrase.encode("utf-8"))


def _header_mac(file_key: bytes, header_without_mac: bytes) -> bytes:
    mac_key = hkdf(file_key, salt=b"", info=b"header")
    return hmac.new(mac_key, header_without_mac, sha256).digest()


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt_passphrase(
    source: Source, sink: Sink, passphrase: str, *, log_n: int = SCRYPT_LOG_N
) -> None:
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrapped = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).encrypt(
        b"\x00" * 12, file_key, None
    )
    body = b64_encode(wrapped)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    if len(lines[-1]) == 64:
        lines.append(b"")
    header = (
        VERSION_LINE
        + b"\n-> scrypt "
        + b64_encode(salt)
        + b" "
        + str(log_n).encode()
        + b"\n"
        + b"\n".join(lines)
        + b"\n---"
    )
    sink.write(header + b" " + b64_encode(_header_mac(file_key, header)) + b"\n")
    nonce = os.urandom(16)
    sink.write(nonce)
    _stream_encrypt(source, sink, hkdf(file_key, salt=nonce, info=b"payload"))


def _read_exact(source: Source, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        got = source.read(n)
        if not got:
            break
        parts.append(got)
        n -= len(got)
    return b"".join(parts)


def _stream_encrypt(source: Source, sink: Sink, key: bytes) -> None:
    aead = ChaCha20Poly1305(key)
    counter = 0
    chunk = _read_exact(source, CHUNK)
    while True:
        following = _read_exact(source, CHUNK) if len(chunk) == CHUNK else b""
        last = not following
        sink.write(aead.encrypt(_nonce(counter, last), chunk, None))
        if last:
            return
        counter += 1
        chunk = following


def decrypt_passphrase(source: Source, sink: Sink, passphrase: str) -> None:
    header = read_header(source)
    stanza = header.scrypt()
    if stanza is None:
        if any(s.kind == b"X25519" for s in header.stanzas):
            raise WrongKey(
                "This bundle is encrypted to public keys, not to a passphrase.",
                hint="Import it in the vault whose public key it was addressed to.",
            )
        raise WrongKey("That passphrase does not open this bundle.")
    salt, log_n = scrypt_params(stanza)
    try:
        file_key = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).decrypt(
            b"\x00" * 12, stanza.body, None
        )
    except InvalidTag:
        raise WrongKey("That passphrase does not open this bundle.") from None
    _check_mac(header, file_key)
    nonce = _read_exact(source, 16)
    if len(nonce) != 16:
        raise BadBundle("The bundle is truncated.")
    _stream_decrypt(source, sink, hkdf(file_key, salt=nonce, info=b"payload"))


def _check_mac(header: Header, file_key: bytes) -> None:
    if not hmac.compare_digest(_header_mac(file_key, header.mac_input), header.mac):
        raise BadBundle("The bundle's encryption header has been modified.")


def _stream_decrypt(source: Source, sink: Sink, key: bytes) -> None:
    aead = ChaCha20Poly1305(key)
    counter = 0
    chunk = _read_exact(source, CHUNK + TAG)
    while True:
        following = _read_exact(source, CHUNK + TAG) if len(chunk) == CHUNK + TAG else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(counter, last), chunk, None)
        except InvalidTag:
            raise BadBundle(
                "The bundle is damaged or truncated: its encryption does not verify."
            ) from None
        if last and not plain and counter > 0:
            raise BadBundle("The bundle's encryption stream is malformed.")
        sink.write(plain)
        if last:
            if source.read(1):
                raise BadBundle("The bundle has data after its end.")
            return
        counter += 1
        chunk = following


# --- dispatch ----------------------------------------------------------------------------


HEAD_BYTES = 1024  # enough of a file, armored or not, to tell how it is encrypted


def recipient_kind(head: bytes) -> str:
    """'scrypt', 'x25519' or 'other' from the first HEAD_BYTES of an age file, armored or not."""
    if is_armored(head):
        head = dearmor_head(head)
    if not head.startswith(VERSION_LINE + b"\n"):
        raise BadBundle("The file is not an age-encrypted bundle (unknown format).")
    if b"\n-> scrypt " in head:
        return "scrypt"
    if b"\n-> X25519 " in head:
        return "x25519"
    return "other"


def unarmored(source: Source) -> Source:
    """The binary age file behind `source`: armored files (`age -a`) are decoded as read."""
    head = _read_exact(source, HEAD_BYTES)
    replay = _Replay(head, source)
    return ArmorReader(replay) if is_armored(head) else replay


def decrypt(
    source: Source,
    sink: Sink,
    *,
    identities: Sequence[str] = (),
    passphrase: str | None = None,
) -> None:
    """Decrypt an age file, binary or armored, with a passphrase or X25519 identities."""
    binary = unarmored(source)
    if passphrase is not None:
        decrypt_passphrase(binary, sink, passphrase)
    else:
        decrypt_x25519(binary, sink, identities)


class PrefixedReader:
    """A reader that first returns bytes already peeked from the underlying file."""

    def __init__(self, prefix: bytes, inner: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._prefix = prefix
        self._inner = inner
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                data, self._prefix = self._prefix, b""
                if size < 0:
                    data += self._inner.read()
            else:
                data, self._prefix = self._prefix[:size], self._prefix[size:]
        else:
            data = self._inner.read(size)
        self._on_read(len(data))
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)
