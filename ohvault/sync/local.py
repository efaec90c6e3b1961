# ruff: noqa: S608 - table names come from SYNCED_TABLES (checked); every value is bound.
"""The vault side of sync: captured changes, the outbox, merging pulled entries, conflicts.

Every write here runs inside `db.transaction()`, which holds the database lock
only for the length of that transaction, and no network call ever happens inside
one: the GUI keeps saving while a sync waits on the network. Pulled entries are
written with `sync_clock.applying = 1` so that the capture triggers do not send
them straight back.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ohvault.model import utcnow
from ohvault.storage import capture
from ohvault.storage.migrations import V4_SYNCED_COLUMNS
from ohvault.sync import hlc
from ohvault.sync.errors import SyncError
from ohvault.sync.merge import three_way
from ohvault.vault import Vault

RECORD_TABLES = tuple(V4_SYNCED_COLUMNS)
BLOBS = "document_blobs"
CONFLICTS = "sync_conflicts"
# Parents before children: profiles before records, documents before their bytes.
SYNCED_TABLES = (
    "profiles",
    "documents",
    BLOBS,
    "diagnostic_reports",
    "observations",
    "medications",
    "conditions",
    "allergies",
    "immunizations",
    "notes",
    CONFLICTS,
)
RANK = {t: i for i, t in enumerate(SYNCED_TABLES)}
CONFLICT_COLUMNS = (
    "id",
    "tbl",
    "record_id",
    "profile_id",
    "fields",
    "winner_hlc",
    "loser_hlc",
    "loser",
    "detected_at",
    "resolved",
    "resolution",
)
SECRET_KEY = "sync_secret"  # noqa: S105 - the meta key name, not a secret

Entry = dict[str, Any]


@dataclass(frozen=True)
class ConflictInfo:
    """A record two devices changed at once. `other` is the version that lost (PHI: show, never log)."""

    id: str
    table: str
    record_id: str
    profile_id: str | None
    fields: list[str]
    detected_at: str
    other: dict[str, Any]
    resolved: bool
    resolution: str | None


@dataclass
class ApplyStats:
    records: int = 0
    conflicts: int = 0
    blobs: int = 0
    stale: int = 0  # entries older than the version held here: not applied


def _q(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


class LocalStore:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._columns: dict[str, tuple[str, ...]] = {}
        self._restamp: set[tuple[str, str]] = set()

    @property
    def db(self) -> Any:
        return self.vault.db  # re-read: key rotation swaps the Database object

    # --- settings ------------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set(self, **values: str | int | None) -> None:
        with self.db.transaction():
            for key, value in values.items():
                if value is None:
                    self.db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
                else:
                    self.db.execute(
                        "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
                        (key, str(value)),
                    )

    @property
    def cursor(self) -> int:
        return int(self.get("cursor", "0") or 0)

    def enabled(self) -> bool:
        return bool(self.db.execute("SELECT enabled FROM sync_clock WHERE id = 1").fetchone()[0])

    def secret(self) -> bytes | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (SECRET_KEY,)).fetchone()
        return bytes.fromhex(row[0]) if row else None

    def columns(self, table: str) -> tuple[str, ...]:
        if table not in self._columns:
            rows = self.db.execute(f'PRAGMA table_info("{table}")').fetchall()
            self._columns[table] = tuple(str(r[1]) for r in rows)
        return self._columns[table]

    # --- turning sync on and off -------------------------------------------------------------

    def enable(self, secret: bytes, node: str) -> None:
        """Start capturing changes; everything already in the vault is queued to go up once."""
        with self.db.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (SECRET_KEY, secret.hex())
            )
            self.db.execute(
                "UPDATE sync_clock SET enabled = 1, applying = 0, node = ? WHERE id = 1", (node,)
            )
            capture.install(self.db)
            stamp = hlc.tick(self.db)
            for table in RECORD_TABLES:
                self.db.execute(
                    f"INSERT OR IGNORE INTO sync_changes (tbl, record_id, hlc) SELECT ?, id, ? FROM {table}",
                    (table, stamp),
                )
            self.db.execute(
                "INSERT OR IGNORE INTO sync_changes (tbl, record_id, hlc) "
                "SELECT ?, document_id, ? FROM document_blobs",
                (BLOBS, stamp),
            )
            self.vault.audit.append("sync.enable")

    def disable(self) -> None:
        """Stop syncing and forget the sync secret and session; the records stay."""
        with self.db.transaction():
            self.db.execute("UPDATE sync_clock SET enabled = 0, applying = 0 WHERE id = 1")
            capture.remove(self.db)
            for table in (
                "sync_changes",
                "sync_shadow",
                "sync_outbox",
                "sync_state",
                "sync_applied",
                "sync_versions",
            ):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM meta WHERE key = ?", (SECRET_KEY,))
            self.vault.audit.append("sync.disable")

    # --- outgoing ------------------------------------------------------------------------------

    def pending_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM sync_changes").fetchone()[0])

    def collect(self, max_entries: int, max_bytes: int) -> tuple[list[Entry], list[list[str]]]:
        """The next batch of pending changes as entries, parents first; and the (tbl, id, hlc) covered."""
        entries: list[Entry] = []
        covered: list[list[str]] = []
        size = 0
        for table in SYNCED_TABLES:
            for entry, change in self._pending_entries(table, max_entries - len(covered)):
                covered.append(change)
                if entry is None:
                    continue
                entries.append(entry)
                size += 200 + len(entry.get("b", "")) + 40 * len(entry.get("d", ()))
                if len(covered) >= max_entries or size >= max_bytes:
                    return entries, covered
        return entries, covered

    def _pending_entries(self, table: str, limit: int) -> Iterator[tuple[Entry | None, list[str]]]:
        if table == BLOBS:
            cur = self.db.execute(
                "SELECT c.record_id, c.hlc, b.content FROM sync_changes c "
                "LEFT JOIN document_blobs b ON b.document_id = c.record_id "
                "WHERE c.tbl = ? ORDER BY c.hlc LIMIT ?",
                (BLOBS, limit),
            )
            for rid, stamp, content in cur.fetchall():
                entry = None
                if content is not None:
                    entry = {
                        "t": BLOBS,
                        "id": rid,
                        "h": stamp,
                        "b": base64.b64encode(content).decode(),
                    }
                yield entry, [BLOBS, rid, stamp]
            return
        cols = self.columns(table)
        cur = self.db.execute(
            f"SELECT c.record_id, c.hlc, x.id, {', '.join(f'x.{c}' for c in _qcols(cols))} "
            f"FROM sync_changes c LEFT JOIN {table} x ON x.id = c.record_id "
            "WHERE c.tbl = ? ORDER BY c.hlc LIMIT ?",
            (table, limit),
        )
        for row in cur.fetchall():
            rid, stamp, present = row[0], row[1], row[2]
            entry = None
            if present is not None:
                entry = {
                    "t": table,
                    "id": rid,
                    "h": stamp,
                    "d": dict(zip(cols, row[3:], strict=True)),
                }
            yield entry, [table, rid, stamp]

    def outbox(self) -> tuple[str, int, bytes, list[list[str]]] | None:
        row = self.db.execute(
            "SELECT bundle_id, base_seq, payload, changes FROM sync_outbox ORDER BY created_at LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), int(row[1]), bytes(row[2]), json.loads(row[3])

    def save_outbox(
        self, bundle_id: str, base_seq: int, payload: bytes, covered: list[list[str]]
    ) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM sync_outbox")
            self.db.execute(
                "INSERT INTO sync_outbox (bundle_id, base_seq, payload, changes, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (bundle_id, base_seq, payload, json.dumps(covered), utcnow().isoformat()),
            )

    def drop_outbox(self) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM sync_outbox")

    def finish_outbox(
        self, seq: int, entries: list[Entry], covered: list[list[str]], bundle_id: str
    ) -> None:
        """The server holds our bundle at `seq`: those changes are no longer pending."""
        with self.db.transaction():
            self._mark_applied(bundle_id, seq)
            for table, rid, stamp in covered:
                self.db.execute(
                    "DELETE FROM sync_changes WHERE tbl = ? AND record_id = ? AND hlc = ?",
                    (table, rid, stamp),
                )
            self._set_versions([(t, r, h) for t, r, h in covered if t in RECORD_TABLES])
            for e in entries:
                if e["t"] not in RECORD_TABLES:
                    continue
                still = self.db.execute(
                    "SELECT 1 FROM sync_changes WHERE tbl = ? AND record_id = ?", (e["t"], e["id"])
                ).fetchone()
                if still:
                    # Edited again while the push was under way: the new base is what we pushed.
                    self.db.execute(
                        "INSERT OR REPLACE INTO sync_shadow (tbl, record_id, data) VALUES (?, ?, ?)",
                        (e["t"], e["id"], json.dumps(e["d"])),
                    )
                else:
                    self.db.execute(
                        "DELETE FROM sync_shadow WHERE tbl = ? AND record_id = ?", (e["t"], e["id"])
                    )
            self.db.execute("DELETE FROM sync_outbox")
            self._advance(seq)
            self.vault.audit.append("sync.push", detail=f"seq={seq} records={len(entries)}")

    # --- what was already merged ------------------------------------------------------------------

    def applied_seq(self, bundle_id: str) -> int | None:
        """The sequence number a bundle had when this device merged or pushed it, if it did."""
        row = self.db.execute(
            "SELECT seq FROM sync_applied WHERE bundle_id = ?", (bundle_id,)
        ).fetchone()
        return int(row[0]) if row else None

    def _mark_applied(self, bundle_id: str, seq: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sync_applied (bundle_id, seq, applied_at) VALUES (?, ?, ?)",
            (bundle_id, seq, utcnow().isoformat()),
        )

    def mark_folded(self, bundles: dict[int, str]) -> None:
        """Bundles a snapshot says it contains: merged here too, from now on."""
        with self.db.transaction():
            for seq, bundle_id in bundles.items():
                self._mark_applied(bundle_id, seq)

    def applied_bundles(self, limit: int) -> dict[int, str]:
        """The newest `limit` merged bundles by sequence number (carried in snapshots)."""
        rows = self.db.execute(
            "SELECT seq, bundle_id FROM sync_applied ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return {int(seq): str(bid) for seq, bid in rows}

    def _set_versions(self, rows: list[tuple[str, str, str]]) -> None:
        # Versions only move forward, whatever order the evidence arrives in.
        self.db.executemany(
            "INSERT INTO sync_versions (tbl, record_id, hlc) VALUES (?, ?, ?) "
            "ON CONFLICT(tbl, record_id) DO UPDATE SET hlc = max(hlc, excluded.hlc)",
            rows,
        )

    def _versions(self, entries: list[Entry]) -> dict[tuple[str, str], str]:
        wanted: dict[str, list[str]] = {}
        for e in entries:
            t, rid = e.get("t"), e.get("id")
            if t in RECORD_TABLES and isinstance(rid, str):
                wanted.setdefault(t, []).append(rid)
        out: dict[tuple[str, str], str] = {}
        for table, ids in wanted.items():
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                rows = self.db.execute(
                    "SELECT record_id, hlc FROM sync_versions WHERE tbl = ? AND record_id IN "
                    f"({', '.join('?' * len(chunk))})",
                    (table, *chunk),
                ).fetchall()
                out.update({(table, str(r)): str(h) for r, h in rows})
        return out

    def _advance(self, seq: int) -> None:
        if seq > self.cursor:
            self.db.execute(
                "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)", (str(seq),)
            )

    # --- incoming ------------------------------------------------------------------------------

    def apply(
        self,
        entries: list[Entry],
        *,
        seq: int | None,
        action: str = "sync.pull",
        bundle_id: str | None = None,
    ) -> ApplyStats:
        """Merge pulled entries in one transaction and move the cursor to `seq` with them.

        An entry whose clock stamp is not newer than the version of that record already
        held here is older news (a replay, or a snapshot made before a change we have):
        it is counted in `stale` and changes nothing.
        """
        stats = ApplyStats()
        newest = ""
        self._restamp = set()
        with self.db.transaction():
            self.db.execute("UPDATE sync_clock SET applying = 1 WHERE id = 1")
            if bundle_id is not None and seq is not None:
                self._mark_applied(bundle_id, seq)
            pending = {
                (str(t), str(r)): str(h)
                for t, r, h in self.db.execute(
                    "SELECT tbl, record_id, hlc FROM sync_changes"
                ).fetchall()
            }
            versions = self._versions(entries)
            batch: list[Entry] = []
            for e in sorted(entries, key=lambda e: RANK.get(e.get("t", ""), 99)):
                newest = max(newest, str(e.get("h", "")))
                held = versions.get((e.get("t"), e.get("id")))  # type: ignore[arg-type]
                if held is not None and str(e.get("h", "")) <= held:
                    stats.stale += 1
                    continue
                if e.get("t") in RECORD_TABLES and isinstance(e.get("id"), str):
                    versions[(e["t"], e["id"])] = str(e.get("h", ""))
                plain = e.get("t") in RECORD_TABLES and (e.get("t"), e.get("id")) not in pending
                if batch and (not plain or e["t"] != batch[0]["t"]):
                    self._upsert_many(batch, stats)
                    batch = []
                if plain:
                    batch.append(e)
                else:
                    self._apply_entry(e, pending, stats)
            if batch:
                self._upsert_many(batch, stats)
            if newest:
                hlc.receive(self.db, newest)
            self._set_versions([(t, r, h) for (t, r), h in versions.items()])
            # A local change merged with a newer remote version is a newer version itself:
            # stamp it past what it was merged with, so no device takes it for older news.
            for key in self._restamp:
                self.db.execute(
                    "UPDATE sync_changes SET hlc = ? WHERE tbl = ? AND record_id = ?",
                    (hlc.tick(self.db), *key),
                )
            self._restamp.clear()
            self.db.execute("UPDATE sync_clock SET applying = 0 WHERE id = 1")
            if seq is not None:
                self._advance(seq)
            self.vault.audit.append(
                action,
                detail=f"seq={seq} records={stats.records} conflicts={stats.conflicts} files={stats.blobs}",
            )
        return stats

    def _apply_entry(
        self, e: Entry, pending: dict[tuple[str, str], str], stats: ApplyStats
    ) -> None:
        table, rid = e.get("t"), e.get("id")
        if not isinstance(table, str) or not isinstance(rid, str) or table not in RANK:
            raise SyncError(
                "A pulled bundle holds an entry this version cannot read; update ohvault."
            )
        if table == BLOBS:
            alive = self.db.execute(
                "SELECT 1 FROM documents WHERE id = ? AND deleted = 0", (rid,)
            ).fetchone()
            if alive:
                self.db.execute(
                    "INSERT OR IGNORE INTO document_blobs (document_id, content) VALUES (?, ?)",
                    (rid, base64.b64decode(e["b"])),
                )
                stats.blobs += 1
            return
        if table == CONFLICTS:
            self._upsert_conflict(e["d"])
            stats.conflicts += 1
            return
        cols = self.columns(table)
        theirs = {c: e["d"].get(c) for c in cols}
        theirs["id"] = rid
        stats.records += 1
        ours_hlc = pending.get((table, rid))
        if ours_hlc is None:
            self._upsert(table, theirs)
            return
        ours = self._row(table, rid)
        shadow = self.db.execute(
            "SELECT data FROM sync_shadow WHERE tbl = ? AND record_id = ?", (table, rid)
        ).fetchone()
        base = json.loads(shadow[0]) if shadow else None
        if ours is None:  # cannot happen with tombstones; be safe
            self._upsert(table, theirs)
            return
        result = three_way(base, ours, theirs, our_hlc=ours_hlc, their_hlc=str(e["h"]))
        # Nothing of ours survives the merge: take theirs exactly (bookkeeping fields too),
        # or this device would keep a value no other device has.
        self._upsert(table, result.merged if result.local_pending else theirs)
        if result.conflict_fields:
            loser, loser_hlc, winner_hlc = (
                (theirs, str(e["h"]), ours_hlc)
                if result.local_wins
                else (ours, ours_hlc, str(e["h"]))
            )
            self._record_conflict(table, rid, result.conflict_fields, loser, loser_hlc, winner_hlc)
            stats.conflicts += 1
        if result.local_pending:
            self.db.execute(
                "INSERT OR REPLACE INTO sync_shadow (tbl, record_id, data) VALUES (?, ?, ?)",
                (table, rid, json.dumps(theirs)),
            )
            self._restamp.add((table, rid))
        else:
            self.db.execute(
                "DELETE FROM sync_changes WHERE tbl = ? AND record_id = ?", (table, rid)
            )
            self.db.execute("DELETE FROM sync_shadow WHERE tbl = ? AND record_id = ?", (table, rid))
            pending.pop((table, rid), None)

    def _upsert_many(self, entries: list[Entry], stats: ApplyStats) -> None:
        """Entries of one table with no local change pending here: theirs, as they are."""
        table = entries[0]["t"]
        cols = self.columns(table)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != "id")
        rows = []
        for e in entries:
            if not isinstance(e.get("id"), str) or not isinstance(e.get("d"), dict):
                raise SyncError("A pulled bundle holds an entry this version cannot read.")
            d = e["d"]
            rows.append([e["id"] if c == "id" else d.get(c) for c in cols])
        self.db.executemany(
            f"INSERT INTO {table} ({_q(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            rows,
        )
        if table == "documents":
            gone = [(r[0],) for r, e in zip(rows, entries, strict=True) if e["d"].get("deleted")]
            self.db.executemany("DELETE FROM document_blobs WHERE document_id = ?", gone)
        stats.records += len(entries)

    def _row(self, table: str, rid: str) -> dict[str, Any] | None:
        cols = self.columns(table)
        row = self.db.execute(f"SELECT {_q(cols)} FROM {table} WHERE id = ?", (rid,)).fetchone()
        return dict(zip(cols, row, strict=True)) if row else None

    def _upsert(self, table: str, data: dict[str, Any]) -> None:
        cols = [c for c in self.columns(table) if c in data]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != "id")
        self.db.execute(
            f"INSERT INTO {table} ({_q(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            [data[c] for c in cols],
        )
        if table == "documents" and data.get("deleted"):
            self.db.execute("DELETE FROM document_blobs WHERE document_id = ?", (data["id"],))

    # --- conflicts -------------------------------------------------------------------------------

    def _record_conflict(
        self,
        table: str,
        rid: str,
        fields: list[str],
        loser: dict[str, Any],
        loser_hlc: str,
        winner_hlc: str,
    ) -> None:
        cid = str(uuid.uuid4())
        self.db.execute(
            f"INSERT INTO sync_conflicts ({_q(CONFLICT_COLUMNS)}) VALUES ({', '.join('?' * len(CONFLICT_COLUMNS))})",
            (
                cid,
                table,
                rid,
                loser.get("profile_id") or (rid if table == "profiles" else None),
                json.dumps(fields),
                winner_hlc,
                loser_hlc,
                json.dumps(loser),
                utcnow().isoformat(),
                0,
                None,
            ),
        )
        # The conflict itself travels, so every device shows it.
        self.db.execute(
            "INSERT OR REPLACE INTO sync_changes (tbl, record_id, hlc) VALUES (?, ?, ?)",
            (CONFLICTS, cid, hlc.tick(self.db)),
        )

    def _upsert_conflict(self, data: dict[str, Any]) -> None:
        values = [data.get(c) for c in CONFLICT_COLUMNS]
        self.db.execute(
            f"INSERT INTO sync_conflicts ({_q(CONFLICT_COLUMNS)}) VALUES ({', '.join('?' * len(CONFLICT_COLUMNS))}) "
            "ON CONFLICT(id) DO UPDATE SET resolved = max(resolved, excluded.resolved), "
            # Two devices resolving differently must still agree on what was recorded.
            "resolution = CASE WHEN resolution IS NULL THEN excluded.resolution "
            "WHEN excluded.resolution IS NULL THEN resolution "
            "ELSE max(resolution, excluded.resolution) END",
            values,
        )

    def conflicts(self, *, include_resolved: bool = False) -> list[ConflictInfo]:
        sql = f"SELECT {_q(CONFLICT_COLUMNS)} FROM sync_conflicts"
        if not include_resolved:
            sql += " WHERE resolved = 0"
        rows = self.db.execute(sql + " ORDER BY detected_at, id").fetchall()
        out = []
        for r in rows:
            d = dict(zip(CONFLICT_COLUMNS, r, strict=True))
            out.append(
                ConflictInfo(
                    id=d["id"],
                    table=d["tbl"],
                    record_id=d["record_id"],
                    profile_id=d["profile_id"],
                    fields=json.loads(d["fields"]),
                    detected_at=d["detected_at"],
                    other=json.loads(d["loser"]),
                    resolved=bool(d["resolved"]),
                    resolution=d["resolution"],
                )
            )
        return out

    def current_values(self, c: ConflictInfo) -> dict[str, Any]:
        """What the vault holds now for a conflict's fields (the version that won); PHI."""
        if c.table not in RECORD_TABLES:
            return {}
        row = self._row(c.table, c.record_id)
        return {f: (row or {}).get(f) for f in c.fields}

    def resolve(self, conflict_id: str, keep: str) -> None:
        """keep='current' accepts what the vault shows; keep='other' restores the losing version's fields."""
        if keep not in ("current", "other"):
            raise SyncError("Resolve a conflict by keeping 'current' or 'other'.")
        found = [c for c in self.conflicts(include_resolved=True) if c.id == conflict_id]
        if not found:
            from ohvault.errors import RecordNotFound

            raise RecordNotFound("No sync conflict with that id.")
        c = found[0]
        if c.table not in RECORD_TABLES:
            raise SyncError("That conflict names a table this version does not know.")
        with self.db.transaction():
            if keep == "other" and not c.resolved:
                fields = [f for f in c.fields if f in self.columns(c.table)]
                if "updated_at" in self.columns(c.table):
                    fields.append("updated_at")
                values = [c.other.get(f) for f in fields if f != "updated_at"]
                if "updated_at" in fields:
                    values.append(utcnow().isoformat())
                if fields:
                    # A normal local edit: the capture trigger queues it like any other.
                    self.db.execute(
                        f"UPDATE {c.table} SET {', '.join(f'{_q([f])} = ?' for f in fields)} WHERE id = ?",
                        [*values, c.record_id],
                    )
            self.db.execute(
                "UPDATE sync_conflicts SET resolved = 1, resolution = ? WHERE id = ?",
                (keep, conflict_id),
            )
            self.db.execute(
                "INSERT OR REPLACE INTO sync_changes (tbl, record_id, hlc) VALUES (?, ?, ?)",
                (CONFLICTS, conflict_id, hlc.tick(self.db)),
            )
            self.vault.audit.append(
                "sync.resolve",
                record_type=c.table,
                record_id=c.record_id,
                profile_id=c.profile_id,
                detail=f"keep={keep}",
            )

    # --- snapshots ------------------------------------------------------------------------------

    def snapshot_entries(self, stamp: str) -> Iterator[Entry]:
        """Every synced row, tombstones included, stamped with the snapshot's clock."""
        for table in SYNCED_TABLES:
            if table == BLOBS:
                cur = self.db.execute(
                    "SELECT b.document_id, b.content FROM document_blobs b "
                    "JOIN documents d ON d.id = b.document_id WHERE d.deleted = 0"
                )
                while rows := cur.fetchmany(200):
                    for rid, content in rows:
                        yield {
                            "t": BLOBS,
                            "id": rid,
                            "h": stamp,
                            "b": base64.b64encode(content).decode(),
                        }
                continue
            cols = self.columns(table) if table != CONFLICTS else CONFLICT_COLUMNS
            # Each record keeps the stamp of its version, so a device holding a newer one
            # keeps it; rows synced before versions were kept get the snapshot's stamp.
            cur = self.db.execute(
                f"SELECT {', '.join(f'x.{c}' for c in _qcols(tuple(cols)))}, v.hlc "
                f"FROM {table} x LEFT JOIN sync_versions v ON v.tbl = ? AND v.record_id = x.id",
                (table,),
            )
            while rows := cur.fetchmany(2000):
                for row in rows:
                    d = dict(zip(cols, row[:-1], strict=True))
                    yield {"t": table, "id": d["id"], "h": row[-1] or stamp, "d": d}


def _qcols(cols: tuple[str, ...]) -> list[str]:
    return [f'"{c}"' for c in cols]
