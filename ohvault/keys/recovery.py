"""Recovery keys: 160 random bits shown as nine groups of four characters.

Crockford base32 (no I, L, O, U; case-insensitive, O→0 and I/L→1 when typed),
followed by a 20-bit checksum from SHA-256 so that a typo is caught before any
unlock is attempted.
"""

from __future__ import annotations

import hashlib
import secrets

from ohvault.errors import BadInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {ch: i for i, ch in enumerate(ALPHABET)}
_DECODE.update({"O": 0, "I": 1, "L": 1})
DATA_BYTES = 20
DATA_CHARS = 32
CHECK_CHARS = 4


def _encode_bits(data: bytes, nchars: int) -> str:
    value = int.from_bytes(data, "big")
    total_bits = len(data) * 8
    value <<= nchars * 5 - total_bits
    return "".join(ALPHABET[(value >> (5 * (nchars - 1 - i))) & 31] for i in range(nchars))


def _checksum(data: bytes) -> str:
    digest = hashlib.sha256(b"ohvault-recovery" + data).digest()[:3]
    return _encode_bits(digest, 5)[:CHECK_CHARS]


def generate() -> str:
    return format_key(secrets.token_bytes(DATA_BYTES))


def format_key(data: bytes) -> str:
    text = _encode_bits(data, DATA_CHARS) + _checksum(data)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse(text: str) -> bytes:
    """The key's 20 bytes, or BadInput saying what is wrong with what was typed."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if len(cleaned) != DATA_CHARS + CHECK_CHARS:
        raise BadInput(
            f"A recovery key has {DATA_CHARS + CHECK_CHARS} characters; "
            f"this one has {len(cleaned)}."
        )
    try:
        digits = [_DECODE[ch] for ch in cleaned[:DATA_CHARS]]
    except KeyError as exc:
        raise BadInput(f"A recovery key cannot contain {exc.args[0]!r}.") from None
    value = 0
    for digit in digits:
        value = (value << 5) | digit
    data = value.to_bytes(DATA_BYTES, "big")
    typed_check = "".join(ALPHABET[_DECODE.get(ch, 0)] for ch in cleaned[DATA_CHARS:])
    if typed_check != _checksum(data):
        raise BadInput("That recovery key has a typo: its checksum does not match.")
    return data
