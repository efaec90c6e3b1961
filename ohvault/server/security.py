"""Password hashing (Argon2id), access tokens (JWT, HS256) and refresh tokens.

Refresh tokens are 256-bit random strings; only their SHA-256 is stored, so a
copy of the database cannot be replayed as a session. Each login starts a token
family: every refresh returns a new refresh token and marks the old one used;
presenting a used one means it was copied, and the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ohvault.server.config import ServerConfig
from ohvault.server.limits import HashGate

ALGORITHM = "HS256"
ISSUER = "ohvault-sync"


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def username_key(username: str) -> str:
    """What the login limiter stores: attempted names, even mistyped ones, stay out of the DB."""
    return hashlib.sha256(normalize_username(username).encode("utf-8")).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


class Passwords:
    def __init__(self, config: ServerConfig) -> None:
        self._hasher = PasswordHasher(
            time_cost=config.argon2_iterations,
            memory_cost=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
        )
        self.gate = HashGate(config.max_concurrent_hashes)
        # Verifying against this when the account does not exist keeps timing uniform.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        with self.gate.slot():
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            with self.gate.slot():
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class Principal:
    account_id: str
    device_id: str
    family_id: str


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


class Tokens:
    def __init__(self, config: ServerConfig) -> None:
        self._secret = config.secret
        self.access_ttl = config.access_ttl
        self.refresh_ttl = config.refresh_ttl

    def access(self, principal: Principal) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": principal.account_id,
            "dev": principal.device_id,
            "fam": principal.family_id,
            "iat": now,
            "exp": now + self.access_ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired from None
        except jwt.PyJWTError:
            raise TokenInvalid from None
        try:
            return Principal(str(claims["sub"]), str(claims["dev"]), str(claims["fam"]))
        except KeyError:
            raise TokenInvalid from None

    @staticmethod
    def new_refresh() -> str:
        return secrets.token_urlsafe(32)
