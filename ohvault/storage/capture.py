"""Change capture for sync: the triggers that record what changed, present only while sync is on.

The triggers are the ones schema v4 defined (migrations.py): every insert or update of a
synced table stamps (table, id) with the hybrid logical clock, and the first update of a
row with no pending change keeps the row as it was (the base of a three-way merge). Since
v10 they are created when sync is turned on and dropped when it is turned off: even with
its WHEN clause false, a trigger runs a sub-program for every inserted row, a tenth of a
100,000-row import that vaults which never sync should not pay.

Both calls belong inside the transaction that turns sync on or off, so the triggers and
`sync_clock.enabled` never disagree.
"""

from __future__ import annotations

from ohvault.storage.db import Database
from ohvault.storage.migrations import (
    V4_BLOB_TABLE,
    V4_SYNCED_COLUMNS,
    v4_insert_trigger,
    v4_trigger_names,
    v4_update_trigger,
)

# The tables whose changes sync carries (a new record type adds its table here), and the
# table of document bytes, which travel once, when first stored (no update trigger).
TABLES: tuple[str, ...] = tuple(V4_SYNCED_COLUMNS)
BLOB_TABLE = V4_BLOB_TABLE


def trigger_names() -> list[str]:
    return v4_trigger_names(TABLES)


def install(db: Database) -> None:
    """Create the capture triggers; an update trigger's shadow copy holds every column its
    table has now, whatever migrations added since v4."""
    remove(db)
    for table in TABLES:
        cols = tuple(str(r[1]) for r in db.execute(f'PRAGMA table_info("{table}")').fetchall())
        db.execute(v4_insert_trigger(table))
        db.execute(v4_update_trigger(table, cols))
    db.execute(v4_insert_trigger(BLOB_TABLE, key="document_id"))


def remove(db: Database) -> None:
    for name in trigger_names():
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed(db: Database) -> list[str]:
    """The names of the capture triggers the database holds (all or none, outside a transaction)."""
    wanted = trigger_names()
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    present = {str(r[0]) for r in rows}
    return [name for name in wanted if name in present]
