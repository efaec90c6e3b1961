"""The server's tables and their versioned migrations (SQLAlchemy Core).

Each migration builds its tables from its own frozen definition, so a later
change to the live tables never alters what version 1 created. The live tables
(`TABLES`) are the latest shape; `migrate()` brings any database up to it. On
PostgreSQL an advisory lock keeps several instances starting together from
migrating at once; on SQLite the write lock does the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

ID = 36  # a UUID's text form


def build_v1(md: MetaData) -> dict[str, Table]:
    """The schema as of version 1. Frozen: add build_v2 for changes, never edit this."""
    t: dict[str, Table] = {}
    t["accounts"] = Table(
        "accounts",
        md,
        Column("id", String(ID), primary_key=True),
        Column("username", String(200), nullable=False, unique=True),
        Column("password_hash", String(200), nullable=False),
        Column("created_at", BigInteger, nullable=False),
    )
    t["devices"] = Table(
        "devices",
        md,
        Column("id", String(ID), primary_key=True),
        Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
        Column("name", String(100), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("last_seen_at", BigInteger, nullable=False),
        Column("revoked_at", BigInteger),
    )
    t["token_families"] = Table(
        "token_families",
        md,
        Column("id", String(ID), primary_key=True),
        Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
        Column("device_id", String(ID), ForeignKey("devices.id"), nullable=False, index=True),
        Column("created_at", BigInteger, nullable=False),
        Column("revoked_at", BigInteger),
        Column("revoked_reason", String(40)),
    )
    t["refresh_tokens"] = Table(
        "refresh_tokens",
        md,
        Column("token_hash", String(64), primary_key=True),
        Column(
            "family_id", String(ID), ForeignKey("token_families.id"), nullable=False, index=True
        ),
        Column("expires_at", BigInteger, nullable=False),
        Column("used_at", BigInteger),
    )
    t["login_failures"] = Table(
        "login_failures",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("username_key", String(64), nullable=False),
        Column("at", BigInteger, nullable=False),
        Index("login_failures_key_at", "username_key", "at"),
    )
    t["vaults"] = Table(
        "vaults",
        md,
        Column("id", String(ID), primary_key=True),
        Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
        Column("created_at", BigInteger, nullable=False),
        Column("head", BigInteger, nullable=False),
        Column("snapshot_seq", BigInteger, nullable=False),
        Column("snapshot_id", String(ID)),
        Column("bytes_used", BigInteger, nullable=False),
        Column("bundle_count", BigInteger, nullable=False),
    )
    t["bundles"] = Table(
        "bundles",
        md,
        Column("vault_id", String(ID), ForeignKey("vaults.id"), primary_key=True),
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("bundle_id", String(ID), nullable=False),
        Column("device_id", String(ID), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        UniqueConstraint("vault_id", "bundle_id", name="bundles_vault_bundle_id"),
    )
    t["snapshots"] = Table(
        "snapshots",
        md,
        Column("id", String(ID), primary_key=True),
        Column("vault_id", String(ID), ForeignKey("vaults.id"), nullable=False, index=True),
        Column("upto_seq", BigInteger),
        Column("parts", Integer),
        Column("size", BigInteger, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("committed_at", BigInteger),
    )
    t["snapshot_parts"] = Table(
        "snapshot_parts",
        md,
        Column("snapshot_id", String(ID), ForeignKey("snapshots.id"), primary_key=True),
        Column("n", Integer, primary_key=True, autoincrement=False),
        Column("payload", LargeBinary, nullable=False),
    )
    t["keyslots"] = Table(
        "keyslots",
        md,
        Column("vault_id", String(ID), ForeignKey("vaults.id"), primary_key=True),
        Column("name", String(40), primary_key=True),
        Column("payload", LargeBinary, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
    )
    t["pairings"] = Table(
        "pairings",
        md,
        Column("id", String(64), primary_key=True),
        Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
        Column("vault_id", String(ID), ForeignKey("vaults.id"), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
    )
    return t


METADATA = MetaData()
TABLES = build_v1(METADATA)
accounts = TABLES["accounts"]
devices = TABLES["devices"]
token_families = TABLES["token_families"]
refresh_tokens = TABLES["refresh_tokens"]
login_failures = TABLES["login_failures"]
vaults = TABLES["vaults"]
bundles = TABLES["bundles"]
snapshots = TABLES["snapshots"]
snapshot_parts = TABLES["snapshot_parts"]
keyslots = TABLES["keyslots"]
pairings = TABLES["pairings"]

_version_md = MetaData()
schema_versions = Table(
    "server_schema_versions",
    _version_md,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class ServerMigration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    md = MetaData()
    build_v1(md)
    md.create_all(conn)


MIGRATIONS: tuple[ServerMigration, ...] = (
    ServerMigration(1, "accounts, devices, tokens, vault logs, snapshots, pairing", _v1),
)
LATEST = MIGRATIONS[-1].version
_PG_LOCK_ID = 0x0F7A_5C01  # arbitrary, constant: the advisory lock for migrations


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema_versions.name):
        return 0
    value = conn.execute(
        select(schema_versions.c.version).order_by(schema_versions.c.version.desc())
    ).scalar()
    return int(value or 0)


def migrate(engine: Engine) -> list[int]:
    """Apply missing migrations in one transaction; returns the versions applied."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
        _version_md.create_all(conn)
        version = current_version(conn)
        if version > LATEST:
            raise RuntimeError(
                f"The server database is at schema version {version}, newer than this server "
                f"({LATEST}); upgrade the server."
            )
        applied = []
        for m in MIGRATIONS:
            if m.version > version:
                m.apply(conn)
                conn.execute(
                    insert(schema_versions).values(
                        version=m.version, description=m.description, applied_at=int(time.time())
                    )
                )
                applied.append(m.version)
        return applied
