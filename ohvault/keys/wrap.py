"""Wrapping the data key: AES-256-GCM under a key-encryption key (KEK).

The passphrase KEK comes from Argon2id (memory-hard, parameters kept in the
header so they can be raised later); the recovery key KEK from HKDF, since a
recovery key already carries 160 random bits. The vault id and the wrap's
purpose are authenticated as associated data, so a wrap cannot be moved to
another vault or slot.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ohvault.errors import BadInput, WrongKey
from ohvault.keys.secret import SecretKey


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters. Defaults: 128 MiB, 3 passes, 2 lanes ≈ 0.55 s on 2 cores."""

    memory_kib: int = 128 * 1024
    iterations: int = 3
    parallelism: int = 2

    MIN_MEMORY_KIB = 64 * 1024
    # Bounds for parameters read from a header: far above anything ohvault writes (the
    # default is 128 MiB, 3 passes), far below what would hang or exhaust a desktop.
    MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
    MAX_ITERATIONS = 64
    MAX_PARALLELISM = 64

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": "argon2id",
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "parallelism": self.parallelism,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KdfParams:
        if data.get("algorithm") != "argon2id":
            raise BadInput("The vault header names an unknown key-derivation function.")
        params = cls(
            memory_kib=_whole(data["memory_kib"]),
            iterations=_whole(data["iterations"]),
            parallelism=_whole(data["parallelism"]),
        )
        params.check()
        return params

    def check(self) -> None:
        """BadInput unless Argon2id can run with these parameters in bounded time and memory."""
        if not 1 <= self.parallelism <= self.MAX_PARALLELISM:
            raise BadInput(f"its Argon2 lane count {self.parallelism} is out of range.")
        if not 1 <= self.iterations <= self.MAX_ITERATIONS:
            raise BadInput(f"its Argon2 pass count {self.iterations} is out of range.")
        if not 8 * self.parallelism <= self.memory_kib <= self.MAX_MEMORY_KIB:
            raise BadInput(f"its Argon2 memory size {self.memory_kib} KiB is out of range.")


def _whole(value: Any) -> int:
    """An integer from JSON: bools, floats and strings are a damaged header, not a number."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("its Argon2 parameters are not whole numbers.")
    return value


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def passphrase_kek(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=params.iterations,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def hkdf(material: bytes, *, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(material)


def recovery_kek(recovery_bytes: bytes, salt: bytes) -> bytes:
    return hkdf(recovery_bytes, salt=salt, info=b"ohvault recovery-key wrap v1")


@dataclass(frozen=True)
class WrappedKey:
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "salt": b64e(self.salt),
            "nonce": b64e(self.nonce),
            "ciphertext": b64e(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WrappedKey:
        return cls(b64d(data["salt"]), b64d(data["nonce"]), b64d(data["ciphertext"]))


def wrap(key: SecretKey, kek: bytes, *, salt: bytes, aad: bytes) -> WrappedKey:
    nonce = secrets.token_bytes(12)
    return WrappedKey(salt, nonce, AESGCM(kek).encrypt(nonce, key.raw(), aad))


def unwrap(wrapped: WrappedKey, kek: bytes, *, aad: bytes, what: str) -> SecretKey:
    try:
        return SecretKey(AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, aad))
    except InvalidTag:
        raise WrongKey(f"That {what} does not unlock this vault.") from None


def new_salt() -> bytes:
    return secrets.token_bytes(16)
