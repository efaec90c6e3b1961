"""The age v1 file format (age-encryption.org/v1), streamed.

Both recipient types (X25519 public keys and the scrypt passphrase) and the
STREAM payload are implemented here from the specification with `cryptography`
(X25519, scrypt, HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305) and checked
against pyrage and the `age` tool in the tests; pyrage only parses key strings.
Doing it ourselves rather than through `pyrage.encrypt_io`/`decrypt_io` is a
throughput decision: pyrage holds the GIL for the whole stream and calls back into
Python for every 64 KiB, so nothing else (reading blobs from SQLCipher, storing
them) could overlap with it, and its decrypt ran at about half the `age` tool's
speed. `cryptography` releases the GIL inside each chunk's AEAD call.
Both produce standard age v1 files.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from collections.abc import Callable, Sequence
from hashlib import sha256
from typing import BinaryIO, Protocol

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ohvault.errors import BadInput, WrongKey
from ohvault.keys.wrap import hkdf

VERSION_LINE = b"age-encryption.org/v1"
CHUNK = 64 * 1024
TAG = 16
SCRYPT_LOG_N = 18  # age's default work factor (about 1 s, 256 MiB)
MAX_SCRYPT_LOG_N = 22  # refuse files that would make us spend minutes or gigabytes
MAX_HEADER = 64 * 1024
_B64 = re.compile(rb"^[A-Za-z0-9+/]*$")


class BadBundle(BadInput):
    """The file is not an intact bundle (damaged, truncated, forged or not a bundle)."""


class Sink(Protocol):
    def write(self, data: bytes, /) -> int | None: ...


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _b64e(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64d(text: bytes) -> bytes:
    if not _B64.match(text) or len(text) % 4 == 1:
        raise BadBundle("The encrypted file's header is damaged.")
    return base64.b64decode(text + b"=" * (-len(text) % 4))


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


# --- bech32 key strings (BIP 173 checksum, no length limit, as age uses them) ---------

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _bech32_decode(text: str, hrp: str) -> bytes:
    """The 32-byte key inside an age key string; ValueError if it is not one."""
    lower = text.lower()
    if text not in (lower, text.upper()) or not lower.startswith(hrp + "1"):
        raise ValueError("not a key string")
    data = [_BECH32.find(c) for c in lower[len(hrp) + 1 :]]
    if len(data) < 6 or -1 in data:
        raise ValueError("not a key string")
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    if _bech32_polymod(expanded + data) != 1:
        raise ValueError("bad checksum")
    acc = bits = 0
    out = bytearray()
    for v in data[:-6]:
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        raise ValueError("bad padding")
    if len(out) != 32:
        raise ValueError("not a 32-byte key")
    return bytes(out)


def recipient_bytes(text: str) -> bytes:
    return _bech32_decode(text.strip(), "age")


def identity_key(text: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(_bech32_decode(text.strip(), "age-secret-key-"))


# --- X25519 recipients -------------------------------------------------------------------

X25519_INFO = b"age-encryption.org/v1/X25519"


def _x25519_wrap_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    return hkdf(shared, salt=share + recipient, info=X25519_INFO)


def _header(stanzas: Sequence[tuple[bytes, bytes]]) -> bytes:
    """The header up to and including '---' from (argument line, body) stanzas."""
    parts = [VERSION_LINE]
    for args, body in stanzas:
        encoded = _b64e(body)
        lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
        if not lines or len(lines[-1]) == 64:
            lines.append(b"")  # a body ends with a line shorter than 64 columns
        parts.append(b"-> " + args)
        parts.extend(lines)
    return b"\n".join(parts) + b"\n---"


def _start_payload(sink: Sink, file_key: bytes, stanzas: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Write header, MAC and payload nonce; return the payload key."""
    header = _header(stanzas)
    nonce = os.urandom(16)
    sink.write(header + b" " + _b64e(_header_mac(file_key, header)) + b"\n" + nonce)
    return hkdf(file_key, salt=nonce, info=b"payload")


def x25519_encryptor(sink: Sink, recipients: Sequence[str]) -> StreamEncryptor:
    """Write an age header for the recipients and return the payload writer."""
    if not recipients:
        raise BadInput("A bundle needs at least one recipient.")
    parse_recipients(recipients)  # one strict check and one clear error for all key strings
    file_key = os.urandom(16)
    stanzas = []
    for text in recipients:
        recipient = recipient_bytes(text)
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
        wrapped = ChaCha20Poly1305(_x25519_wrap_key(shared, share, recipient)).encrypt(
            b"\x00" * 12, file_key, None
        )
        stanzas.append((b"X25519 " + _b64e(share), wrapped))
    return StreamEncryptor(sink, _start_payload(sink, file_key, stanzas))


def encrypt_x25519(source: Source, sink: Sink, recipients: Sequence[str]) -> None:
    encryptor = x25519_encryptor(sink, recipients)
    while chunk := source.read(1 << 20):
        encryptor.write(chunk)
    encryptor.close()


def _x25519_file_key(
    stanzas: list[list[bytes]], identities: Sequence[X25519PrivateKey]
) -> bytes | None:
    for stanza in stanzas:
        if stanza[0] != b"X25519":
            continue  # age ignores stanzas of other recipient types
        if len(stanza) != 3:
            raise BadBundle("The bundle's encryption header is damaged.")
        share, body = _b64d(stanza[1]), stanza[2]
        if len(share) != 32 or len(body) != 32:
            raise BadBundle("The bundle's encryption header is damaged.")
        for ident in identities:
            try:
                shared = ident.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:  # a low-order point: an all-zero shared secret
                raise BadBundle("The bundle's encryption header is damaged.") from None
            mine = ident.public_key().public_bytes_raw()
            try:
                return ChaCha20Poly1305(_x25519_wrap_key(shared, share, mine)).decrypt(
                    b"\x00" * 12, body, None
                )
            except InvalidTag:
                continue
    return None


def decrypt_x25519(source: Source, sink: Sink, identities: Sequence[str]) -> None:
    keys = [identity_key(i) for i in identities]
    stanzas, header, mac = read_header_stanzas(source)
    if any(s[0] == b"scrypt" for s in stanzas):
        # age: an scrypt stanza must be alone, and it needs a passphrase, not a key.
        raise WrongKey(
            "This bundle is protected by a passphrase, not addressed to a key.",
            hint="Give the passphrase with --passphrase-stdin.",
        )
    file_key = _x25519_file_key(stanzas, keys)
    if file_key is None:
        raise WrongKey(
            "This bundle is not addressed to this vault's key.",
            hint="Ask the sender to export it to your public key (ohvault identity).",
        )
    if not hmac.compare_digest(_header_mac(file_key, header), mac):
        raise BadBundle("The bundle's encryption header has been modified.")
    nonce = _read_exact(source, 16)
    if len(nonce) != 16:
        raise BadBundle("The bundle is truncated.")
    _stream_decrypt(source, sink, hkdf(file_key, salt=nonce, info=b"payload"))


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
    encryptor = passphrase_encryptor(sink, passphrase, log_n=log_n)
    while chunk := source.read(1 << 20):
        encryptor.write(chunk)
    encryptor.close()


def passphrase_encryptor(
    sink: Sink, passphrase: str, *, log_n: int = SCRYPT_LOG_N
) -> StreamEncryptor:
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrapped = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).encrypt(
        b"\x00" * 12, file_key, None
    )
    stanza = (b"scrypt " + _b64e(salt) + b" " + str(log_n).encode(), wrapped)
    return StreamEncryptor(sink, _start_payload(sink, file_key, [stanza]))


def _read_exact(source: Source, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        got = source.read(n)
        if not got:
            break
        parts.append(got)
        n -= len(got)
    return b"".join(parts)


class StreamEncryptor:
    """age's STREAM payload, pushed: write() any sizes, close() seals the final chunk.

    One chunk (64 KiB) is always held back, because only the last chunk's nonce
    is marked final and a full chunk may turn out to be the last one. Input is
    encrypted from memoryview slices, so a large write costs no extra copies.
    """

    def __init__(self, sink: Sink, key: bytes) -> None:
        self._sink = sink
        self._aead = ChaCha20Poly1305(key)
        self._counter = 0
        self._pending = bytearray()
        self._closed = False

    def _seal(self, chunk: bytes | bytearray | memoryview, last: bool) -> bytes:
        out = self._aead.encrypt(_nonce(self._counter, last), chunk, None)
        self._counter += 1
        return out

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise ValueError("write after close")
        view = memoryview(data)
        pos = 0
        if self._pending:
            take = min(CHUNK - len(self._pending), len(view))
            self._pending += view[:take]
            pos = take
            if len(view) == pos:  # the pending chunk may still be the last one
                return
            self._sink.write(self._seal(self._pending, last=False))
            self._pending.clear()
        # Strictly more than one chunk left: this one is not the last.
        sealed = []
        while len(view) - pos > CHUNK:
            sealed.append(self._seal(view[pos : pos + CHUNK], last=False))
            pos += CHUNK
        if sealed:
            self._sink.write(b"".join(sealed))
        self._pending += view[pos:]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sink.write(self._seal(self._pending, last=True))
            self._pending.clear()


def _read_header_line(source: Source, budget: list[int]) -> bytes:
    out = bytearray()
    while True:
        c = source.read(1)
        budget[0] -= 1
        if not c or budget[0] < 0:
            raise BadBundle("The file is not an age-encrypted bundle or its header is damaged.")
        if c == b"\n":
            return bytes(out)
        out += c


def read_header_stanzas(source: Source) -> tuple[list[list[bytes]], bytes, bytes]:
    """(stanzas as [args..., body], header bytes up to '---', mac) from an age header."""
    budget = [MAX_HEADER]
    first = _read_header_line(source, budget)
    if first != VERSION_LINE:
        raise BadBundle("The file is not an age-encrypted bundle (unknown format).")
    raw = bytearray(first + b"\n")
    stanzas: list[list[bytes]] = []
    line = _read_header_line(source, budget)
    while line.startswith(b"-> "):
        raw += line + b"\n"
        args = line[3:].split(b" ")
        body = bytearray()
        while True:
            bline = _read_header_line(source, budget)
            raw += bline + b"\n"
            body += bline
            if len(bline) < 64:
                break
        stanzas.append([*args, _b64d(bytes(body))])
        line = _read_header_line(source, budget)
    if not line.startswith(b"--- "):
        raise BadBundle("The bundle's encryption header is damaged.")
    raw += b"---"
    return stanzas, bytes(raw), _b64d(line[4:])


def decrypt_passphrase(source: Source, sink: Sink, passphrase: str) -> None:
    stanzas, header, mac = read_header_stanzas(source)
    if len(stanzas) != 1 or stanzas[0][0] != b"scrypt":
        if any(s[0] == b"X25519" for s in stanzas):
            raise WrongKey(
                "This bundle is encrypted to public keys, not to a passphrase.",
                hint="Import it in the vault whose public key it was addressed to.",
            )
        raise BadBundle("The bundle's encryption header is damaged.")
    stanza = stanzas[0]
    if len(stanza) != 4:
        raise BadBundle("The bundle's encryption header is damaged.")
    salt, log_n_text, body = stanza[1], stanza[2], stanza[3]
    salt = _b64d(salt)
    if not log_n_text.isdigit() or len(salt) != 16 or len(body) != 32:
        raise BadBundle("The bundle's encryption header is damaged.")
    log_n = int(log_n_text)
    if log_n > MAX_SCRYPT_LOG_N:
        raise BadBundle("The bundle asks for an unreasonably expensive passphrase check.")
    if log_n < 1:
        raise BadBundle("The bundle's encryption header is damaged (invalid work factor).")
    try:
        file_key = ChaCha20Poly1305(_scrypt_key(passphrase, salt, log_n)).decrypt(
            b"\x00" * 12, body, None
        )
    except InvalidTag:
        raise WrongKey("That passphrase does not open this bundle.") from None
    if not hmac.compare_digest(_header_mac(file_key, header), mac):
        raise BadBundle("The bundle's encryption header has been modified.")
    nonce = _read_exact(source, 16)
    if len(nonce) != 16:
        raise BadBundle("The bundle is truncated.")
    _stream_decrypt(source, sink, hkdf(file_key, salt=nonce, info=b"payload"))


READ_CHUNKS = 16  # payload chunks read and decrypted per round (about 1 MiB)


def _stream_decrypt(source: Source, sink: Sink, key: bytes) -> None:
    """Decrypt age's STREAM payload about 1 MiB at a time; sink.write gets whole rounds.

    Reading one round ahead is what tells which chunk is the last one (it is the
    one at the end of the file); only that chunk may carry the final-nonce flag.
    """
    aead = ChaCha20Poly1305(key)
    block = CHUNK + TAG
    counter = 0
    pending = _read_exact(source, READ_CHUNKS * block)
    if not pending:
        raise BadBundle("The bundle is truncated.")
    while True:
        following = (
            _read_exact(source, READ_CHUNKS * block) if len(pending) == READ_CHUNKS * block else b""
        )
        view = memoryview(pending)
        plain: list[bytes] = []
        for start in range(0, len(view), block):
            last = not following and start + block >= len(view)
            try:
                piece = aead.decrypt(_nonce(counter, last), view[start : start + block], None)
            except InvalidTag:
                raise BadBundle(
                    "The bundle is damaged or truncated: its encryption does not verify."
                ) from None
            if last and not piece and counter > 0:
                raise BadBundle("The bundle's encryption stream is malformed.")
            plain.append(piece)
            counter += 1
        sink.write(b"".join(plain) if len(plain) > 1 else plain[0])
        if not following:
            return
        pending = following


# --- dispatch ----------------------------------------------------------------------------


def recipient_kind(head: bytes) -> str:
    """'scrypt', 'x25519' or 'other' from the first bytes of an age file."""
    if not head.startswith(VERSION_LINE + b"\n"):
        raise BadBundle("The file is not an age-encrypted bundle (unknown format).")
    if b"\n-> scrypt " in head:
        return "scrypt"
    if b"\n-> X25519 " in head:
        return "x25519"
    return "other"


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
