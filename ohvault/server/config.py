"""Server configuration from environment variables, validated at start-up.

A server that starts with a weak or default secret, an absurd token lifetime or
a password hash cheaper than OWASP's minimum is worse than one that refuses to
start, so every check here raises ConfigError with the variable's name and what
to do about it (never the offending value).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ohvault.errors import OhvaultError

PREFIX = "OHVAULT_SERVER_"

# Values people paste from tutorials; refused whatever their length.
_WEAK_SECRETS = {
    "changeme",
    "change-me",
    "secret",
    "password",
    "default",
    "development",
    "test",
    "example",
    "your-secret-key",
    "supersecret",
}
MIN_SECRET_CHARS = 32
MIN_SECRET_DISTINCT = 12
# OWASP password storage cheat sheet: Argon2id with at least 19 MiB, 2 passes, 1 lane.
MIN_ARGON2_MEMORY_KIB = 19 * 1024
MIN_ARGON2_ITERATIONS = 2


class ConfigError(OhvaultError):
    """The server's environment is unusable; the message names the variable."""


@dataclass(frozen=True)
class ServerConfig:
    secret: str
    database_url: str
    access_ttl: int = 15 * 60
    refresh_ttl: int = 7 * 24 * 3600
    max_body_bytes: int = 16 * 1024 * 1024
    max_bundle_bytes: int = 8 * 1024 * 1024
    quota_bytes: int = 2 * 1024 * 1024 * 1024
    quota_bundles: int = 100_000
    login_max_failures: int = 5
    login_window: int = 15 * 60
    # Per client address, in the same window: failed logins over all accounts, account
    # registrations, token refreshes.
    ip_max_login_failures: int = 30
    ip_max_registrations: int = 5
    ip_max_refreshes: int = 300
    # Argon2 hashes at once in one worker (each takes ARGON2_MEMORY_KIB); more wait briefly.
    max_concurrent_hashes: int = 2
    # "first": only while the server has no account; "true"; "false".
    registration: str = "first"
    account_quota_bytes: int = 4 * 1024 * 1024 * 1024
    # A login's session ends this long after the login, however often it is refreshed.
    session_max_age: int = 90 * 24 * 3600
    enable_docs: bool = False
    argon2_memory_kib: int = 64 * 1024
    argon2_iterations: int = 3
    argon2_parallelism: int = 1
    pairing_ttl: int = 10 * 60

    def __repr__(self) -> str:  # the secret must not reach a log through repr()
        return f"ServerConfig(database_url=<{self.database_url.split(':', 1)[0]}>, ...)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerConfig:
        env = os.environ if env is None else env
        secret = env.get(PREFIX + "SECRET", "")
        check_secret(secret)
        config = cls(
            secret=secret,
            database_url=env.get(PREFIX + "DATABASE_URL") or default_database_url(),
            access_ttl=_int(env, "ACCESS_TTL", cls.access_ttl, 1, 3600),
            refresh_ttl=_int(env, "REFRESH_TTL", cls.refresh_ttl, 60, 30 * 24 * 3600),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", cls.max_body_bytes, 1024, 1 << 30),
            max_bundle_bytes=_int(env, "MAX_BUNDLE_BYTES", cls.max_bundle_bytes, 1024, 1 << 30),
            quota_bytes=_int(env, "QUOTA_BYTES", cls.quota_bytes, 1024, 1 << 44),
            quota_bundles=_int(env, "QUOTA_BUNDLES", cls.quota_bundles, 1, 1 << 31),
            login_max_failures=_int(env, "LOGIN_MAX_FAILURES", cls.login_max_failures, 1, 100),
            login_window=_int(env, "LOGIN_WINDOW", cls.login_window, 60, 24 * 3600),
            ip_max_login_failures=_int(
                env, "IP_MAX_LOGIN_FAILURES", cls.ip_max_login_failures, 1, 1_000_000
            ),
            ip_max_registrations=_int(
                env, "IP_MAX_REGISTRATIONS", cls.ip_max_registrations, 1, 1_000_000
            ),
            ip_max_refreshes=_int(env, "IP_MAX_REFRESHES", cls.ip_max_refreshes, 1, 1_000_000),
            max_concurrent_hashes=_int(
                env, "MAX_CONCURRENT_HASHES", cls.max_concurrent_hashes, 1, 64
            ),
            registration=_registration(env),
            account_quota_bytes=_int(
                env, "ACCOUNT_QUOTA_BYTES", cls.account_quota_bytes, 1024, 1 << 46
            ),
            session_max_age=_int(
                env, "SESSION_MAX_AGE", cls.session_max_age, 3600, 3650 * 24 * 3600
            ),
            enable_docs=_bool(env, "ENABLE_DOCS", False),
            argon2_memory_kib=_int(
                env, "ARGON2_MEMORY_KIB", cls.argon2_memory_kib, MIN_ARGON2_MEMORY_KIB, 4 << 20
            ),
            argon2_iterations=_int(
                env, "ARGON2_ITERATIONS", cls.argon2_iterations, MIN_ARGON2_ITERATIONS, 20
            ),
            argon2_parallelism=_int(env, "ARGON2_PARALLELISM", cls.argon2_parallelism, 1, 16),
            pairing_ttl=_int(env, "PAIRING_TTL", cls.pairing_ttl, 30, 24 * 3600),
        )
        # Base64 in JSON grows a bundle by a third; the body limit must leave room for it.
        if config.max_body_bytes < config.max_bundle_bytes * 4 // 3 + 4096:
            raise ConfigError(
                f"{PREFIX}MAX_BODY_BYTES must exceed 4/3 of {PREFIX}MAX_BUNDLE_BYTES "
                "(bundles travel base64-encoded)."
            )
        return config


def _registration(env: Mapping[str, str]) -> str:
    """ALLOW_REGISTRATION: first (default: until the first account exists), true, or false."""
    raw = (env.get(PREFIX + "ALLOW_REGISTRATION") or "first").lower()
    if raw == "first":
        return "first"
    return "true" if _bool(env, "ALLOW_REGISTRATION", False) else "false"


def default_database_url() -> str:
    directory = Path(platformdirs.user_data_dir("ohvault-server", appauthor=False))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"sqlite:///{directory / 'server.db'}"


def check_secret(secret: str) -> None:
    name = PREFIX + "SECRET"
    hint = (
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))' "
        "and keep it the same on every instance."
    )
    if not secret:
        raise ConfigError(f"{name} is not set; it signs access tokens.", hint=hint)
    lowered = secret.strip().lower()
    if lowered in _WEAK_SECRETS or any(lowered.startswith(w) for w in _WEAK_SECRETS):
        raise ConfigError(f"{name} is a well-known default; refusing to start.", hint=hint)
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"{name} must have at least {MIN_SECRET_CHARS} characters.", hint=hint)
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        raise ConfigError(f"{name} is too repetitive to be random.", hint=hint)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number.") from None
    if not low <= value <= high:
        raise ConfigError(f"{PREFIX}{name} must be between {low} and {high}.")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false.")
