"""A secret held in a bytearray so that it can be wiped when the vault locks.

Python copies bytes freely, so wiping is best effort: it removes the copy we own
for certain and keeps the key out of long-lived objects.
"""

from __future__ import annotations

import hmac
import secrets


class SecretKey:
    __slots__ = ("_buf",)

    def __init__(self, material: bytes | bytearray) -> None:
        self._buf = bytearray(material)

    @classmethod
    def generate(cls, size: int = 32) -> SecretKey:
        return cls(secrets.token_bytes(size))

    @classmethod
    def from_hex(cls, text: str) -> SecretKey:
        return cls(bytes.fromhex(text.strip()))

    def hex(self) -> str:
        return self._buf.hex()

    def raw(self) -> bytes:
        if self.wiped:
            raise ValueError("key has been wiped")
        return bytes(self._buf)

    @property
    def wiped(self) -> bool:
        return len(self._buf) == 0

    def wipe(self) -> None:
        for i in range(len(self._buf)):
            self._buf[i] = 0
        self._buf = bytearray()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(bytes(self._buf), bytes(other._buf))

    def __hash__(self) -> int:  # pragma: no cover - keys are not dict keys
        raise TypeError("SecretKey is unhashable")

    def __repr__(self) -> str:
        return "SecretKey(<redacted>)"
