"""One-time pairing codes: `<10-char offer id>-<128-bit secret>` in Crockford base32.

The offer id names the wrapped sync secret parked on the server; the secret
part never leaves the two devices. Typing mistakes are caught because the
unwrap (AES-GCM) fails rather than producing a wrong key.
"""

from __future__ import annotations

import secrets

from ohvault.errors import BadInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {ch: i for i, ch in enumerate(ALPHABET)} | {"O": 0, "I": 1, "L": 1}
ID_CHARS = 10
SECRET_BYTES = 16
SECRET_CHARS = 26  # ceil(128 / 5)


def _encode(data: bytes, nchars: int) -> str:
    value = int.from_bytes(data, "big") << (nchars * 5 - len(data) * 8)
    return "".join(ALPHABET[(value >> (5 * (nchars - 1 - i))) & 31] for i in range(nchars))


def _decode(text: str, nbytes: int) -> bytes:
    value = 0
    for ch in text:
        value = (value << 5) | _DECODE[ch]
    return (value >> (len(text) * 5 - nbytes * 8)).to_bytes(nbytes, "big")


def new_code() -> tuple[str, bytes, str]:
    """(offer id, secret bytes, the code to show)."""
    offer = "".join(secrets.choice(ALPHABET) for _ in range(ID_CHARS))
    secret = secrets.token_bytes(SECRET_BYTES)
    text = offer + _encode(secret, SECRET_CHARS)
    return offer, secret, "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse(code: str) -> tuple[str, bytes]:
    cleaned = "".join(ch for ch in code.upper() if ch not in " -\t\r\n")
    if len(cleaned) != ID_CHARS + SECRET_CHARS:
        raise BadInput(
            f"A pairing code has {ID_CHARS + SECRET_CHARS} characters; this one has {len(cleaned)}."
        )
    bad = [ch for ch in cleaned if ch not in _DECODE]
    if bad:
        raise BadInput(f"A pairing code cannot contain {bad[0]!r}.")
    offer = "".join(ALPHABET[_DECODE[ch]] for ch in cleaned[:ID_CHARS])
    return offer, _decode(cleaned[ID_CHARS:], SECRET_BYTES)
