"""Versioned, forward-only schema migrations.

The version lives in the database (`PRAGMA user_version`). Each migration is
frozen SQL: never edit one that has shipped; add the next. Opening an older
vault takes an automatic backup first, then runs the missing migrations in one
transaction; a vault from a newer ohvault is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ohvault.errors import SchemaTooNew
from ohvault.storage.db import Database

_COMMON = """
    id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    provenance TEXT NOT NULL,
    source_id TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
"""

V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    birth_date TEXT,
    sex TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE observations ({_COMMON},
    analyte TEXT NOT NULL, loinc TEXT, value_num REAL, value_text TEXT, unit TEXT,
    ref_low REAL, ref_high REAL, ref_text TEXT, flag TEXT, effective TEXT NOT NULL,
    performer TEXT, status TEXT NOT NULL, report_id TEXT, note TEXT);
CREATE INDEX observations_profile ON observations(profile_id, effective);
CREATE TABLE diagnostic_reports ({_COMMON},
    title TEXT NOT NULL, lab TEXT, effective TEXT, issued TEXT, document_id TEXT,
    status TEXT NOT NULL);
CREATE TABLE documents ({_COMMON},
    filename TEXT NOT NULL, media_type TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL);
CREATE TABLE document_blobs (
    document_id TEXT PRIMARY KEY REFERENCES documents(id), content BLOB NOT NULL);
CREATE TABLE medications ({_COMMON},
    name TEXT NOT NULL, dosage TEXT, status TEXT NOT NULL, start TEXT, "end" TEXT, note TEXT);
CREATE TABLE conditions ({_COMMON},
    name TEXT NOT NULL, code TEXT, clinical_status TEXT NOT NULL, onset TEXT, abatement TEXT,
    note TEXT);
CREATE TABLE allergies ({_COMMON},
    substance TEXT NOT NULL, reaction TEXT, criticality TEXT, recorded TEXT, note TEXT);
CREATE TABLE immunizations ({_COMMON},
    vaccine TEXT NOT NULL, occurrence TEXT NOT NULL, lot_number TEXT, performer TEXT, note TEXT);
CREATE TABLE notes ({_COMMON}, text TEXT NOT NULL, noted TEXT);
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT,
    record_id TEXT,
    profile_id TEXT,
    device TEXT NOT NULL,
    detail TEXT,
    mac TEXT NOT NULL
);
"""

# v2: observation categories (panel) for filtering, document descriptions, and an
# index that serves "latest value of every analyte" without a table scan.
V2 = """
ALTER TABLE observations ADD COLUMN category TEXT;
ALTER TABLE documents ADD COLUMN description TEXT;
CREATE INDEX observations_latest
    ON observations(profile_id, deleted, coalesce(loinc, analyte), effective);
CREATE INDEX documents_hash ON documents(profile_id, sha256);
"""

# v3 (bundles): trust-on-first-use of each patient's signing key, and the provenance
# of every imported bundle. Identity private keys live in `meta`, so need no table.
V3 = """
CREATE TABLE trusted_senders (
    profile_id TEXT PRIMARY KEY REFERENCES profiles(id),
    sender_vault_id TEXT NOT NULL,
    sender_profile_id TEXT NOT NULL,
    signing_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    previous_keys TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX trusted_senders_origin ON trusted_senders(sender_vault_id, sender_profile_id);
CREATE TABLE bundle_imports (
    bundle_id TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    sender_fingerprint TEXT NOT NULL,
    bundle_created_at TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    addressed_to_us INTEGER NOT NULL,
    key_changed INTEGER NOT NULL DEFAULT 0,
    counts TEXT NOT NULL
);
CREATE INDEX bundle_imports_profile ON bundle_imports(profile_id, imported_at);
"""


# v4 (sync): change capture by triggers, so that the Repository needs no change.
# Every insert or update of a synced table stamps (table, id) with a hybrid logical
# clock kept in `sync_clock`; the first update of a row that has no pending change
# keeps the row as it was (`sync_shadow`), the base of a three-way merge with what
# other devices did meanwhile. Triggers fire only while sync is enabled and not
# while the sync engine itself applies remote changes (`applying`). The column
# lists are frozen with this version: a later migration that adds a column to a
# synced table must drop and recreate that table's `sync_*_upd` trigger.
# fmt: off
V4_SYNCED_COLUMNS: dict[str, tuple[str, ...]] = {
    "profiles": ("id", "name", "birth_date", "sex", "created_at", "updated_at"),
    "observations": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "analyte", "loinc", "value_num", "value_text", "unit", "ref_low", "ref_high",
        "ref_text", "flag", "effective", "performer", "status", "category", "report_id", "note",
    ),
    "diagnostic_reports": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "title", "lab", "effective", "issued", "document_id", "status",
    ),
    "documents": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "filename", "media_type", "sha256", "size", "description",
    ),
    "medications": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "name", "dosage", "status", "start", "end", "note",
    ),
    "conditions": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "name", "code", "clinical_status", "onset", "abatement", "note",
    ),
    "allergies": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "substance", "reaction", "criticality", "recorded", "note",
    ),
    "immunizations": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "vaccine", "occurrence", "lot_number", "performer", "note",
    ),
    "notes": (
        "id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted",
        "text", "noted",
    ),
}
# fmt: on

V4_TABLES = """
CREATE TABLE sync_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    enabled INTEGER NOT NULL DEFAULT 0,
    applying INTEGER NOT NULL DEFAULT 0,
    wall INTEGER NOT NULL DEFAULT 0,
    counter INTEGER NOT NULL DEFAULT 0,
    node TEXT NOT NULL DEFAULT ''
);
INSERT INTO sync_clock (id) VALUES (1);
CREATE TABLE sync_changes (
    tbl TEXT NOT NULL, record_id TEXT NOT NULL, hlc TEXT NOT NULL, PRIMARY KEY (tbl, record_id)
);
CREATE TABLE sync_shadow (
    tbl TEXT NOT NULL, record_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, record_id)
);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sync_outbox (
    bundle_id TEXT PRIMARY KEY,
    base_seq INTEGER NOT NULL,
    payload BLOB NOT NULL,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY,
    tbl TEXT NOT NULL,
    record_id TEXT NOT NULL,
    profile_id TEXT,
    fields TEXT NOT NULL,
    winner_hlc TEXT NOT NULL,
    loser_hlc TEXT NOT NULL,
    loser TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0,
    resolution TEXT
);
CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved, tbl, record_id)
"""

_V4_ACTIVE = "(SELECT enabled = 1 AND applying = 0 FROM sync_clock WHERE id = 1)"
_V4_NOW = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
_V4_STAMP = (
    f"UPDATE sync_clock SET counter = CASE WHEN {_V4_NOW} > wall THEN 0 ELSE counter + 1 END, "
    f"wall = max(wall, {_V4_NOW}) WHERE id = 1; "
    "INSERT OR REPLACE INTO sync_changes (tbl, record_id, hlc) "
    "SELECT '{table}', NEW.{key}, printf('%015d-%010d-%s', wall, counter, node) "
    "FROM sync_clock WHERE id = 1;"
)


def v4_update_trigger(table: str, cols: tuple[str, ...]) -> str:
    stamp = _V4_STAMP.format(table=table, key="id")
    old_json = ", ".join(f"'{c}', OLD.\"{c}\"" for c in cols)
    return (
        f"CREATE TRIGGER sync_{table}_upd AFTER UPDATE ON {table} WHEN {_V4_ACTIVE} BEGIN "
        f"INSERT OR IGNORE INTO sync_shadow (tbl, record_id, data) "
        f"SELECT '{table}', OLD.id, json_object({old_json}) WHERE NOT EXISTS "
        f"(SELECT 1 FROM sync_changes WHERE tbl = '{table}' AND record_id = OLD.id); "
        f"{stamp} END"
    )


def v4_insert_trigger(table: str, key: str = "id") -> str:
    stamp = _V4_STAMP.format(table=table, key=key)
    return (
        f"CREATE TRIGGER sync_{table}_ins AFTER INSERT ON {table} WHEN {_V4_ACTIVE} "
        f"BEGIN {stamp} END"
    )


# A document's bytes travel once, when they are first stored: that table has no update trigger.
V4_BLOB_TABLE = "document_blobs"


def v4_trigger_names(tables: Iterable[str] = tuple(V4_SYNCED_COLUMNS)) -> list[str]:
    """The capture triggers of `tables` (each has an insert and an update trigger) and of
    the document bytes (insert only)."""
    names = [f"sync_{t}_{kind}" for t in tables for kind in ("ins", "upd")]
    return [*names, f"sync_{V4_BLOB_TABLE}_ins"]


def _v4_statements() -> list[str]:
    out = [s for s in V4_TABLES.split(";") if s.strip()]
    for table, cols in V4_SYNCED_COLUMNS.items():
        out.append(v4_insert_trigger(table))
        out.append(v4_update_trigger(table, cols))
    out.append(v4_insert_trigger(V4_BLOB_TABLE, key="document_id"))
    return out


def _apply_v4(db: Database) -> None:
    for statement in _v4_statements():
        db.execute(statement)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Database], None]


def _script(sql: str) -> Callable[[Database], None]:
    def run(db: Database) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                db.execute(statement)

    return run


# v5: bulk imports write every index once per row; observations_latest already serves
# (profile_id, deleted, analyte key, effective) lookups, so the older (profile_id,
# effective) index only cost insert time (about a quarter of a 100,000-row import).
V5 = """
DROP INDEX IF EXISTS observations_profile;
"""

# v6 (import review): taught name mappings, and what the importer used to drop from each
# observation: the name as the lab printed it and the canonical value and unit the parser
# computes (charts read them instead of recomputing). Mappings are vault-wide (a test name
# means the same for every profile), keyed by the normalised printed name and, optionally,
# the normalised laboratory name ('' = any laboratory).
V6 = """
CREATE TABLE name_mappings (
    id TEXT PRIMARY KEY,
    printed_key TEXT NOT NULL,
    printed_name TEXT NOT NULL,
    lab_key TEXT NOT NULL DEFAULT '',
    lab TEXT,
    analyte TEXT NOT NULL,
    analyte_id TEXT,
    loinc TEXT,
    own_test INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX name_mappings_key ON name_mappings(printed_key, lab_key);
ALTER TABLE observations ADD COLUMN printed_name TEXT;
ALTER TABLE observations ADD COLUMN value_canonical REAL;
ALTER TABLE observations ADD COLUMN unit_canonical TEXT
"""


def _apply_v6(db: Database) -> None:
    _script(V6)(db)
    # The v4 update trigger keeps the pre-change row as the merge base; its column list
    # is frozen, so it is rebuilt from the table's columns as they are now.
    recreate_update_trigger(db, "observations")


# v7 (FHIR from other systems, vital signs): every coding of a coded record (JSON), the
# observation's FHIR category, time of day, components (blood pressure as one reading)
# and panel; statuses that change meaning (verification, allergy clinical status,
# immunization not-done with its reason); "no known ..." statements; and the keys that
# make a FHIR re-import update in place instead of duplicating (a local index: record
# ids are derived from the same keys, so a synced copy is recognised too).
V7 = """
ALTER TABLE observations ADD COLUMN codings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE observations ADD COLUMN category_code TEXT;
ALTER TABLE observations ADD COLUMN effective_at TEXT;
ALTER TABLE observations ADD COLUMN components TEXT NOT NULL DEFAULT '[]';
ALTER TABLE observations ADD COLUMN panel_id TEXT;
ALTER TABLE medications ADD COLUMN codings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE medications ADD COLUMN no_known INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conditions ADD COLUMN verification_status TEXT;
ALTER TABLE conditions ADD COLUMN codings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conditions ADD COLUMN no_known INTEGER NOT NULL DEFAULT 0;
ALTER TABLE allergies ADD COLUMN clinical_status TEXT;
ALTER TABLE allergies ADD COLUMN verification_status TEXT;
ALTER TABLE allergies ADD COLUMN codings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE allergies ADD COLUMN no_known INTEGER NOT NULL DEFAULT 0;
ALTER TABLE immunizations ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
ALTER TABLE immunizations ADD COLUMN status_reason TEXT;
ALTER TABLE immunizations ADD COLUMN codings TEXT NOT NULL DEFAULT '[]';
CREATE TABLE fhir_import_keys (
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    key TEXT NOT NULL,
    record_table TEXT NOT NULL,
    record_id TEXT NOT NULL,
    resource_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (profile_id, key)
);
CREATE INDEX fhir_import_keys_record ON fhir_import_keys(record_id)
"""
V7_TABLES = ("observations", "medications", "conditions", "allergies", "immunizations")


def recreate_update_trigger(db: Database, table: str) -> None:
    """Rebuild `sync_{table}_upd` so that its shadow copy holds every column the table has now.

    The column list is read from the table itself, so migrations that each add columns
    to the same table compose in any order."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (f"sync_{table}_upd",)
    ).fetchone()
    if exists is None:
        return
    cols = tuple(str(r[1]) for r in db.execute(f'PRAGMA table_info("{table}")').fetchall())
    db.execute(f"DROP TRIGGER sync_{table}_upd")
    db.execute(v4_update_trigger(table, cols))


def _apply_v7(db: Database) -> None:
    _script(V7)(db)
    for table in V7_TABLES:
        recreate_update_trigger(db, table)


# v8 (sync): what a device has already merged, so that a server cannot roll records back.
# `sync_applied` remembers every bundle id merged or pushed (with its sequence number):
# a bundle served twice is a server fault, not a change. `sync_versions` holds, per
# record, the clock stamp of the version the vault holds as last synced: an entry whose
# stamp is not newer is older news and never overwrites the row.
V8 = """
CREATE TABLE sync_applied (
    bundle_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, applied_at TEXT NOT NULL
);
CREATE INDEX sync_applied_seq ON sync_applied(seq);
CREATE TABLE sync_versions (
    tbl TEXT NOT NULL, record_id TEXT NOT NULL, hlc TEXT NOT NULL, PRIMARY KEY (tbl, record_id)
)
"""


# v9: any document can be attached, so a document says what it is: a title, a kind
# (letter, imaging report, discharge summary...) and the date it was written. The
# columns sync by themselves (the sync store reads a table's columns); the v4 update
# trigger keeps the row as it was for three-way merges, so it is recreated with every
# column the table has.
V9_DOCUMENT_COLUMNS = ("title", "kind", "document_date")


def _apply_v9(db: Database) -> None:
    for column in V9_DOCUMENT_COLUMNS:
        db.execute(f"ALTER TABLE documents ADD COLUMN {column} TEXT")
    recreate_update_trigger(db, "documents")


# v10: the change capture triggers exist only while sync is on (storage/capture.py creates
# them when sync is turned on and drops them when it is turned off). A trigger costs every
# inserted row a sub-program even when its WHEN clause says no: about a tenth of a
# 100,000-row import, paid by every vault that never syncs.
def _apply_v10(db: Database) -> None:
    if not db.execute("SELECT enabled FROM sync_clock WHERE id = 1").fetchone()[0]:
        for name in v4_trigger_names():
            db.execute(f"DROP TRIGGER IF EXISTS {name}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _script(V1)),
    Migration(2, "observation categories, document descriptions, latest-value index", _script(V2)),
    Migration(3, "bundles: trusted senders (TOFU) and bundle import provenance", _script(V3)),
    Migration(4, "sync: change capture triggers, clock, shadows, outbox, conflicts", _apply_v4),
    Migration(5, "drop an index that the latest-value index makes redundant", _script(V5)),
    Migration(
        6, "taught name mappings; printed name and canonical value on observations", _apply_v6
    ),
    Migration(7, "FHIR meaning: codings, statuses, components, no-known, import keys", _apply_v7),
    Migration(8, "sync: bundles already merged, per-record synced versions", _script(V8)),
    Migration(9, "documents: title, kind and date of any attached document", _apply_v9),
    Migration(10, "sync: change capture triggers only while sync is on", _apply_v10),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(version: int) -> None:
    if version > LATEST_VERSION:
        raise SchemaTooNew(
            f"This vault uses schema version {version}, newer than this ohvault "
            f"understands (up to {LATEST_VERSION}).",
            hint="Upgrade ohvault to open it; nothing was changed.",
        )


def migrate(db: Database, target: int = LATEST_VERSION) -> list[int]:
    """Apply pending migrations up to `target` in one transaction; returns those applied."""
    version = current_version(db)
    check_not_newer(version)
    pending = [m for m in MIGRATIONS if version < m.version <= target]
    if not pending:
        return []
    with db.transaction():
        for migration in pending:
            migration.apply(db)
            # user_version is part of the transaction, so a crash leaves old schema and old number.
            db.execute(f"PRAGMA user_version = {int(migration.version)}")
    return [m.version for m in pending]
