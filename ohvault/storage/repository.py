"""Queries over the vault, each scoped to one profile, each audited.

This is the only module that reads or writes PHI tables. Every public method
that returns or changes PHI appends an audit entry (action, record type, id,
profile; never values). Deletion is a tombstone: the row stays with
`deleted = 1` so that sync and bundle merges can see it; tombstoned rows are
hidden from every read unless asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, Literal, TypeVar

from ohvault.changes import Change, changes
from ohvault.errors import BadInput, ConflictError, ReadOnlyRecord, RecordNotFound
from ohvault.mappings import NameMapping
from ohvault.model import (
    RECORD_CLASSES,
    DiagnosticReport,
    Document,
    Observation,
    Profile,
    Provenance,
    Record,
    RecordType,
    utcnow,
)
from ohvault.storage.audit import AuditLog
from ohvault.storage.codec import columns, from_row, quoted, row_encoder, row_values
from ohvault.storage.db import Database

R = TypeVar("R", bound=Record)

# FHIR administrative gender, the values a profile's sex may take.
PROFILE_SEXES = ("female", "male", "other", "unknown")


class _Unset:
    """Marks an argument that was not given (None means "clear it")."""


UNSET = _Unset()

# Records that arrived in a signed bundle are the sender's, not ours to edit.
READ_ONLY_PROVENANCE = {Provenance.BUNDLE}
# What identifies a record and where it came from: never changed by an edit.
FIXED_FIELDS = frozenset(
    {"id", "profile_id", "created_at", "updated_at", "provenance", "source_id"}
)


class ConcurrentEdit(ConflictError):
    """A field the person edited was changed elsewhere (another device, via sync) meanwhile."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(
            f"Changed on another device while you were editing: {', '.join(fields)}. "
            "Your change to that was not saved.",
            hint="Open the record again to see the new value, then edit it if needed.",
        )


# Records converted to rows per executemany in a bulk insert (see add_many).
INSERT_BATCH = 1000


class Repository:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    # --- profiles --------------------------------------------------------------

    @changes(Change.PROFILE)
    def add_profile(self, profile: Profile) -> Profile:
        if not profile.name.strip():
            raise BadInput("A profile needs a name.")
        with self.db.transaction():
            cols = columns(Profile)
            self.db.execute(
                f"INSERT INTO profiles ({quoted(cols)}) VALUES ({','.join('?' * len(cols))})",
                row_values(profile),
            )
            self.audit.append(
                "create", record_type="profile", record_id=profile.id, profile_id=profile.id
            )
        return profile

    def upsert_profile(self, profile: Profile) -> None:
        cols = columns(Profile)
        with self.db.transaction():
            self.db.execute(
                f"INSERT OR REPLACE INTO profiles ({quoted(cols)}) VALUES ({','.join('?' * len(cols))})",
                row_values(profile),
            )
            self.audit.append(
                "merge", record_type="profile", record_id=profile.id, profile_id=profile.id
            )

    def profiles(self) -> list[Profile]:
        rows = self.db.execute(
            f"SELECT {quoted(columns(Profile))} FROM profiles ORDER BY created_at"
        ).fetchall()
        self.audit.append("list", record_type="profile", detail=f"count={len(rows)}")
        return [from_row(Profile, r) for r in rows]

    def profile(self, profile_id: str) -> Profile:
        row = self.db.execute(
            f"SELECT {quoted(columns(Profile))} FROM profiles WHERE id = ?", (profile_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound("No such profile.")
        self.audit.append(
            "read", record_type="profile", record_id=profile_id, profile_id=profile_id
        )
        return from_row(Profile, row)

    def find_profile(self, name_or_id: str) -> Profile:
        row = self.db.execute(
            f"SELECT {quoted(columns(Profile))} FROM profiles WHERE id = ? OR name = ? "
            "ORDER BY created_at LIMIT 1",
            (name_or_id, name_or_id),
        ).fetchone()
        if row is None:
            raise RecordNotFound("No profile with that name or id.")
        return from_row(Profile, row)

    def update_profile(self, profile: Profile) -> None:
        profile.updated_at = utcnow()
        cols = [c for c in columns(Profile) if c != "id"]
        assignments = ", ".join(f'"{c}" = ?' for c in cols)
        with self.db.transaction():
            cur = self.db.execute(
                f"UPDATE profiles SET {assignments} WHERE id = ?",
                [*(row_values(profile)[1:]), profile.id],
            )
            if cur.rowcount == 0:
                raise RecordNotFound("No such profile.")
            self.audit.append(
                "update", record_type="profile", record_id=profile.id, profile_id=profile.id
            )

    def rename_profile(self, profile_id: str, name: str) -> Profile:
        """Give a profile a new name; names stay unique so `--profile NAME` finds one person."""
        return self.edit_profile(profile_id, name=name)

    @changes(Change.PROFILE)
    def edit_profile(
        self,
        profile_id: str,
        *,
        name: str | None = None,
        birth_date: date | _Unset | None = UNSET,
        sex: str | _Unset | None = UNSET,
    ) -> Profile:
        """Change a profile's name, birth date or sex (each only when given); audited."""
        current = self.profile(profile_id)
        if name is not None:
            name = name.strip()
            if not name:
                raise BadInput("A profile needs a name.")
            clash = self.db.execute(
                "SELECT 1 FROM profiles WHERE name = ? AND id != ?", (name, profile_id)
            ).fetchone()
            if clash:
                raise BadInput(
                    "Another profile already has that name.",
                    hint="Choose a different name so each profile can be found by name.",
                )
            current.name = name
        if not isinstance(birth_date, _Unset):
            if birth_date is not None and birth_date > date.today():
                raise BadInput("A birth date cannot be in the future.")
            current.birth_date = birth_date
        if not isinstance(sex, _Unset):
            if sex is not None and sex not in PROFILE_SEXES:
                raise BadInput(f"Sex must be one of: {', '.join(PROFILE_SEXES)}.")
            current.sex = sex
        self.update_profile(current)
        return current

    @changes(Change.PROFILE)
    def delete_profile(self, profile_id: str, *, confirm_name: str) -> dict[str, int]:
        """Remove a profile and everything kept for it, in one transaction; returns counts.

        `confirm_name` must be the profile's name exactly as typed by the person: deleting
        a profile cannot be undone, so callers ask for it rather than passing it through.
        The audit keeps a "delete" entry with counts (never values). Deletion is local:
        profiles carry no tombstone, so other synced devices keep their copy.
        """
        current = self.profile(profile_id)
        if confirm_name != current.name:
            raise BadInput(
                "The name typed does not match the profile's name; nothing was deleted.",
                hint="Type the profile's name exactly to confirm.",
            )
        others = self.db.execute(
            "SELECT count(*) FROM profiles WHERE id != ?", (profile_id,)
        ).fetchone()[0]
        if not others:
            raise BadInput(
                "This is the vault's only profile; nothing was deleted.",
                hint="Add another profile first, or rename this one.",
            )
        removed: dict[str, int] = {}
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM document_blobs WHERE document_id IN "
                "(SELECT id FROM documents WHERE profile_id = ?)",
                (profile_id,),
            )
            for record_type, cls in RECORD_CLASSES.items():
                ids = [
                    r[0]
                    for r in self.db.execute(
                        f"SELECT id FROM {cls.TABLE} WHERE profile_id = ?", (profile_id,)
                    ).fetchall()
                ]
                self._forget_sync_rows(cls.TABLE, ids)
                if cls is Document:
                    self._forget_sync_rows("document_blobs", ids)
                self.db.execute(f"DELETE FROM {cls.TABLE} WHERE profile_id = ?", (profile_id,))
                removed[record_type.value] = len(ids)
            for table in ("trusted_senders", "bundle_imports", "sync_conflicts"):
                if self._has_table(table):
                    self.db.execute(f"DELETE FROM {table} WHERE profile_id = ?", (profile_id,))
            self._forget_sync_rows("profiles", [profile_id])
            self.db.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))
            detail = ",".join(f"{k}={v}" for k, v in sorted(removed.items()))
            self.audit.append(
                "delete",
                record_type="profile",
                record_id=profile_id,
                profile_id=profile_id,
                detail=detail,
            )
        return removed

    def _has_table(self, name: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def _forget_sync_rows(self, table: str, ids: list[str]) -> None:
        # Pending sync changes of rows that no longer exist would be pushed as empty rows.
        if not ids or not self._has_table("sync_changes"):
            return
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for side in ("sync_changes", "sync_shadow"):
                self.db.execute(
                    f"DELETE FROM {side} WHERE tbl = ? AND record_id IN ({marks})",
                    (table, *chunk),
                )

    # --- generic records ----------------------------------------------------------

    def add(self, record: R, *, audit: bool = True) -> R:
        self._require_profile(record.profile_id)
        cls = type(record)
        cols = columns(cls)
        with self.db.transaction():
            self.db.execute(
                f"INSERT INTO {cls.TABLE} ({quoted(cols)}) VALUES ({','.join('?' * len(cols))})",
                row_values(record),
            )
            if audit:
                self.audit.append(
                    "create",
                    record_type=cls.TYPE.value,
                    record_id=record.id,
                    profile_id=record.profile_id,
                )
        return record

    def add_many(self, records: Sequence[Record], *, action: str = "import") -> None:
        """Insert many records of one type in one transaction with one audit entry."""
        if not records:
            return
        cls = type(records[0])
        profile_ids = {r.profile_id for r in records}
        for pid in profile_ids:
            self._require_profile(pid)
        cols = columns(cls)
        sql = f"INSERT INTO {cls.TABLE} ({quoted(cols)}) VALUES ({','.join('?' * len(cols))})"
        encode = row_encoder(cls)
        with self.db.transaction():
            # Rows are converted a batch at a time, not one between each SQLite insert: the
            # alternation cost a tenth of a 100,000-row import (benchmarks.baselines).
            for start in range(0, len(records), INSERT_BATCH):
                batch = list(map(encode, records[start : start + INSERT_BATCH]))
                self.db.executemany(sql, batch)
            for pid in sorted(profile_ids):
                self.audit.append(
                    action,
                    record_type=cls.TYPE.value,
                    profile_id=pid,
                    detail=f"count={len(records)}",
                )

    def upsert(self, record: Record, *, action: str = "merge") -> None:
        """Insert or replace by id (bundle and sync merges), keeping the profile scope."""
        cls = type(record)
        cols = columns(cls)
        with self.db.transaction():
            existing = self.db.execute(
                f"SELECT profile_id FROM {cls.TABLE} WHERE id = ?", (record.id,)
            ).fetchone()
            if existing is not None and existing[0] != record.profile_id:
                raise BadInput("A record id already belongs to another profile; refusing to merge.")
            self.db.execute(
                f"INSERT OR REPLACE INTO {cls.TABLE} ({quoted(cols)}) VALUES ({','.join('?' * len(cols))})",
                row_values(record),
            )
            self.audit.append(
                action,
                record_type=cls.TYPE.value,
                record_id=record.id,
                profile_id=record.profile_id,
            )

    def get(
        self, cls: type[R], profile_id: str, record_id: str, *, include_deleted: bool = False
    ) -> R:
        sql = f"SELECT {quoted(columns(cls))} FROM {cls.TABLE} WHERE id = ? AND profile_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        row = self.db.execute(sql, (record_id, profile_id)).fetchone()
        if row is None:
            raise RecordNotFound(
                f"No {cls.TYPE.value.replace('_', ' ')} with that id in this profile."
            )
        self.audit.append(
            "read", record_type=cls.TYPE.value, record_id=record_id, profile_id=profile_id
        )
        return from_row(cls, row)

    def records(
        self,
        cls: type[R],
        profile_id: str,
        *,
        include_deleted: bool = False,
        where: str = "",
        params: Sequence[Any] = (),
        order: str = "created_at",
        audit: bool = True,
    ) -> list[R]:
        sql = f"SELECT {quoted(columns(cls))} FROM {cls.TABLE} WHERE profile_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        if where:
            sql += f" AND ({where})"
        sql += f" ORDER BY {order}"
        rows = self.db.execute(sql, (profile_id, *params)).fetchall()
        if audit:
            self.audit.append(
                "list",
                record_type=cls.TYPE.value,
                profile_id=profile_id,
                detail=f"count={len(rows)}",
            )
        return [from_row(cls, r) for r in rows]

    def update(self, record: Record) -> None:
        cls = type(record)
        current = self._current(cls, record.profile_id, record.id)
        if current.provenance in READ_ONLY_PROVENANCE:
            raise ReadOnlyRecord("Records imported from a signed bundle are read-only.")
        if (
            isinstance(record, Observation)
            and isinstance(current, Observation)
            and (record.value_num, record.unit) != (current.value_num, current.unit)
            and (record.value_canonical, record.unit_canonical)
            == (current.value_canonical, current.unit_canonical)
        ):
            # The value changed but its canonical copy did not: drop it rather than keep a stale one.
            record.value_canonical = record.unit_canonical = None
        record.updated_at = utcnow()
        cols = [c for c in columns(cls) if c != "id"]
        values = row_values(record)[1:]
        assignments = ", ".join(f'"{c}" = ?' for c in cols)
        with self.db.transaction():
            self.db.execute(
                f"UPDATE {cls.TABLE} SET {assignments} WHERE id = ? AND profile_id = ?",
                [*values, record.id, record.profile_id],
            )
            self.audit.append(
                "update",
                record_type=cls.TYPE.value,
                record_id=record.id,
                profile_id=record.profile_id,
            )

    def update_fields(
        self, record: Record, changed: set[str], *, expected: Record | None = None
    ) -> None:
        """Write only the fields in `changed` (what the person edited), leaving the rest as they
        are now, so that a field another device changed meanwhile (via sync) is not reverted.

        With `expected` (the record as the person saw it before editing), a field in `changed`
        that no longer holds the expected value, and not already the new one, was changed
        elsewhere meanwhile: nothing is written and `ConcurrentEdit` names the fields.
        """
        cls = type(record)
        cols = columns(cls)
        unknown = sorted(changed - set(cols))
        if unknown:
            raise BadInput(f"No such field on this record: {', '.join(unknown)}.")
        fixed = sorted(changed & FIXED_FIELDS)
        if fixed:
            raise BadInput(f"These fields cannot be edited: {', '.join(fixed)}.")
        if expected is not None and (type(expected) is not cls or expected.id != record.id):
            raise BadInput("The expected version is of another record.")
        canonical = {"value_canonical", "unit_canonical"}
        if changed & {"value_num", "unit"} and canonical <= set(cols) and not changed & canonical:
            # The value changed but its canonical copy was not recomputed: drop it rather than
            # keep a stale one (the same rule as `update`).
            for f in canonical:
                setattr(record, f, None)
            changed = changed | canonical
        with self.db.transaction():
            # Read and write in one transaction: nothing can slip in between the check and the write.
            current = self._current(cls, record.profile_id, record.id)
            if current.provenance in READ_ONLY_PROVENANCE:
                raise ReadOnlyRecord("Records imported from a signed bundle are read-only.")
            if not changed:
                return
            new = dict(zip(cols, row_values(record), strict=True))
            now = dict(zip(cols, row_values(current), strict=True))
            if expected is not None:
                was = dict(zip(cols, row_values(expected), strict=True))
                moved = sorted(f for f in changed if now[f] != was[f] and now[f] != new[f])
                if moved:
                    raise ConcurrentEdit(moved)
            fields = sorted(changed)
            record.updated_at = utcnow()
            assignments = ", ".join(f'"{c}" = ?' for c in [*fields, "updated_at"])
            self.db.execute(
                f"UPDATE {cls.TABLE} SET {assignments} WHERE id = ? AND profile_id = ?",
                [
                    *(new[f] for f in fields),
                    record.updated_at.isoformat(),
                    record.id,
                    record.profile_id,
                ],
            )
            self.audit.append(
                "update",
                record_type=cls.TYPE.value,
                record_id=record.id,
                profile_id=record.profile_id,
                detail=f"fields={','.join(fields)}",
            )

    def delete(self, record_type: RecordType, profile_id: str, record_id: str) -> None:
        cls = RECORD_CLASSES[record_type]
        current = self._current(cls, profile_id, record_id)
        if current.provenance in READ_ONLY_PROVENANCE:
            raise ReadOnlyRecord("Records imported from a signed bundle are read-only.")
        with self.db.transaction():
            self.db.execute(
                f"UPDATE {cls.TABLE} SET deleted = 1, updated_at = ? WHERE id = ? AND profile_id = ?",
                (utcnow().isoformat(), record_id, profile_id),
            )
            if cls is Document:
                # The original file goes too; only its tombstone remains.
                self.db.execute("DELETE FROM document_blobs WHERE document_id = ?", (record_id,))
            self.audit.append(
                "delete", record_type=record_type.value, record_id=record_id, profile_id=profile_id
            )

    def restore_deleted(self, record_type: RecordType, profile_id: str, record_id: str) -> None:
        """Undo a delete (the GUI's undo); documents cannot come back once their bytes are gone."""
        cls = RECORD_CLASSES[record_type]
        with self.db.transaction():
            cur = self.db.execute(
                f"UPDATE {cls.TABLE} SET deleted = 0, updated_at = ? WHERE id = ? AND profile_id = ? AND deleted = 1",
                (utcnow().isoformat(), record_id, profile_id),
            )
            if cur.rowcount == 0:
                raise RecordNotFound("Nothing to undo.")
            self.audit.append(
                "undelete",
                record_type=record_type.value,
                record_id=record_id,
                profile_id=profile_id,
            )

    def _current(self, cls: type[R], profile_id: str, record_id: str) -> R:
        row = self.db.execute(
            f"SELECT {quoted(columns(cls))} FROM {cls.TABLE} WHERE id = ? AND profile_id = ? AND deleted = 0",
            (record_id, profile_id),
        ).fetchone()
        if row is None:
            raise RecordNotFound(
                f"No {cls.TYPE.value.replace('_', ' ')} with that id in this profile."
            )
        return from_row(cls, row)

    def _require_profile(self, profile_id: str) -> None:
        if self.db.execute("SELECT 1 FROM profiles WHERE id = ?", (profile_id,)).fetchone() is None:
            raise RecordNotFound("No such profile.")

    # --- observations ----------------------------------------------------------------

    def observations(
        self,
        profile_id: str,
        *,
        analyte: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[Observation]:
        clauses: list[str] = []
        params: list[Any] = []
        if analyte:
            clauses.append("(analyte = ? COLLATE NOCASE OR loinc = ?)")
            params += [analyte, analyte]
        if since:
            clauses.append("effective >= ?")
            params.append(since.isoformat())
        if until:
            clauses.append("effective <= ?")
            params.append(until.isoformat())
        return self.records(
            Observation,
            profile_id,
            where=" AND ".join(clauses),
            params=params,
            order="effective, analyte",
        )

    def latest_observations(self, profile_id: str) -> list[Observation]:
        """The most recent value of each analyte (by LOINC where known, else by name)."""
        # A loose index scan over observations_latest: hop from one analyte key to the next,
        # then seek that key's newest row, so the cost grows with the number of analytes,
        # not with the number of observations.
        cols = ", ".join(f'o."{c}"' for c in columns(Observation))
        sql = f"""
            WITH RECURSIVE keys(k) AS (
                SELECT min(coalesce(loinc, analyte)) FROM observations
                    WHERE profile_id = ?1 AND deleted = 0
                UNION ALL
                SELECT (SELECT min(coalesce(loinc, analyte)) FROM observations
                        WHERE profile_id = ?1 AND deleted = 0 AND coalesce(loinc, analyte) > keys.k)
                FROM keys WHERE k IS NOT NULL
            )
            SELECT {cols} FROM keys JOIN observations o ON o.rowid = (
                SELECT rowid FROM observations
                WHERE profile_id = ?1 AND deleted = 0 AND coalesce(loinc, analyte) = keys.k
                ORDER BY effective DESC, rowid DESC LIMIT 1
            )
            ORDER BY o.analyte
        """
        rows = self.db.execute(sql, (profile_id,)).fetchall()
        self.audit.append(
            "list",
            record_type="observation",
            profile_id=profile_id,
            detail=f"latest count={len(rows)}",
        )
        return [from_row(Observation, r) for r in rows]

    def find_duplicate_observation(self, profile_id: str, obs: Observation) -> Observation | None:
        """Same analyte, date and value already stored (from any source)."""
        row = self.db.execute(
            f"SELECT {quoted(columns(Observation))} FROM observations WHERE profile_id = ? AND deleted = 0 "
            "AND coalesce(loinc, analyte) = coalesce(?, ?) AND effective = ? "
            "AND value_num IS ? AND value_text IS ? LIMIT 1",
            (
                profile_id,
                obs.loinc,
                obs.analyte,
                obs.effective.isoformat(),
                obs.value_num,
                obs.value_text,
            ),
        ).fetchone()
        return from_row(Observation, row) if row else None

    # --- documents ----------------------------------------------------------------------

    def add_document(self, doc: Document, content: bytes) -> Document:
        if hashlib.sha256(content).hexdigest() != doc.sha256 or len(content) != doc.size:
            raise BadInput("Document content does not match its recorded hash and size.")
        with self.db.transaction():
            self.add(doc)
            self.db.execute(
                "INSERT INTO document_blobs (document_id, content) VALUES (?, ?)", (doc.id, content)
            )
        return doc

    def document_content(self, profile_id: str, document_id: str, *, audit: bool = True) -> bytes:
        """The document's bytes. `audit=False` is for a caller reading many documents that
        records the reads together afterwards with `audit_document_reads` (one commit, not one
        per document)."""
        content = self._document_blob(profile_id, document_id, "content")
        if audit:
            self.audit_document_reads(profile_id, [document_id])
        return bytes(content)

    def document_pieces(
        self, profile_id: str, document_id: str, piece_bytes: int
    ) -> Iterator[bytes]:
        """The document's bytes in pieces of `piece_bytes`, each read from the database when it
        is asked for, so a large document is never whole in memory and the reading overlaps
        whatever the caller does with each piece. Not audited: the caller records the reads
        with `audit_document_reads`. No blob handle stays open between pieces, so an iterator
        given up half-way (a failed export) holds nothing, whenever it is collected."""
        rowid = self._document_blob(profile_id, document_id, "rowid")
        offset = 0
        while True:
            with self.db.conn.open_blob("document_blobs", "content", rowid, readonly=True) as blob:
                blob.seek(offset)
                piece = blob.read(piece_bytes)
            if not piece:
                return
            offset += len(piece)
            yield piece

    def _document_blob(
        self, profile_id: str, document_id: str, column: Literal["content", "rowid"]
    ) -> Any:
        """A column of the document's blob row, if the document is this profile's and not deleted."""
        row = self.db.execute(
            f"SELECT b.{column} FROM document_blobs b JOIN documents d ON d.id = b.document_id "
            "WHERE d.id = ? AND d.profile_id = ? AND d.deleted = 0",
            (document_id, profile_id),
        ).fetchone()
        if row is None:
            raise RecordNotFound("No document with that id in this profile.")
        return row[0]

    def audit_document_reads(self, profile_id: str, document_ids: Iterable[str]) -> None:
        """The audit entries of document reads, in one transaction. RecordNotFound, and nothing
        recorded, if a document is not this profile's (an entry must not name the wrong person)."""
        ids = list(document_ids)
        with self.db.transaction():
            for document_id in ids:
                if not self.db.execute(
                    "SELECT 1 FROM documents WHERE id = ? AND profile_id = ?",
                    (document_id, profile_id),
                ).fetchone():
                    raise RecordNotFound("No document with that id in this profile.")
            for document_id in ids:
                self.audit.append(
                    "read",
                    record_type="document",
                    record_id=document_id,
                    profile_id=profile_id,
                    detail="content",
                )

    def find_document_by_hash(self, profile_id: str, sha256: str) -> Document | None:
        row = self.db.execute(
            f"SELECT {quoted(columns(Document))} FROM documents WHERE profile_id = ? AND sha256 = ? AND deleted = 0",
            (profile_id, sha256),
        ).fetchone()
        return from_row(Document, row) if row else None

    # --- taught name mappings (vault-wide) ----------------------------------------------------

    _MAPPING_COLUMNS = "id, printed_name, lab, analyte, analyte_id, loinc, own_test, created_at"

    @staticmethod
    def _mapping(row: Sequence[Any]) -> NameMapping:
        from datetime import datetime

        return NameMapping(
            id=row[0],
            printed_name=row[1],
            lab=row[2],
            analyte=row[3],
            analyte_id=row[4],
            loinc=row[5],
            own_test=bool(row[6]),
            created_at=datetime.fromisoformat(row[7]),
        )

    def name_mappings(self, *, audit: bool = True) -> list[NameMapping]:
        rows = self.db.execute(
            f"SELECT {self._MAPPING_COLUMNS} FROM name_mappings ORDER BY printed_key, lab_key"
        ).fetchall()
        if audit:
            self.audit.append("list", record_type="name_mapping", detail=f"count={len(rows)}")
        return [self._mapping(r) for r in rows]

    def add_name_mapping(self, mapping: NameMapping) -> NameMapping:
        """Store a mapping; one for the same printed name and laboratory is replaced."""
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM name_mappings WHERE printed_key = ? AND lab_key = ?",
                (mapping.printed_key, mapping.lab_key),
            )
            self.db.execute(
                "INSERT INTO name_mappings (id, printed_key, printed_name, lab_key, lab, analyte, "
                "analyte_id, loinc, own_test, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    mapping.id,
                    mapping.printed_key,
                    mapping.printed_name,
                    mapping.lab_key,
                    mapping.lab,
                    mapping.analyte,
                    mapping.analyte_id,
                    mapping.loinc,
                    int(mapping.own_test),
                    mapping.created_at.isoformat(),
                ),
            )
            self.audit.append("create", record_type="name_mapping", record_id=mapping.id)
        return mapping

    def delete_name_mapping(self, mapping_id: str) -> None:
        with self.db.transaction():
            cur = self.db.execute("DELETE FROM name_mappings WHERE id = ?", (mapping_id,))
            if cur.rowcount == 0:
                raise RecordNotFound("No name mapping with that id.")
            self.audit.append("delete", record_type="name_mapping", record_id=mapping_id)

    def find_name_mapping(self, printed_name: str, lab: str | None = None) -> NameMapping | None:
        """The mapping for this printed name at this laboratory, else at any laboratory."""
        from ohvault.mappings import normalise

        row = self.db.execute(
            f"SELECT {self._MAPPING_COLUMNS} FROM name_mappings WHERE printed_key = ? "
            "AND lab_key IN (?, '') ORDER BY lab_key = '' LIMIT 1",
            (normalise(printed_name), normalise(lab)),
        ).fetchone()
        if row is None:
            return None
        mapping = self._mapping(row)
        self.audit.append("read", record_type="name_mapping", record_id=mapping.id)
        return mapping

    def document_reports(self, profile_id: str) -> dict[str, DiagnosticReport]:
        """The diagnostic report read from each document (lab PDFs), by document id."""
        rows = self.db.execute(
            f"SELECT {quoted(columns(DiagnosticReport))} FROM diagnostic_reports "
            "WHERE profile_id = ? AND deleted = 0 AND document_id IS NOT NULL",
            (profile_id,),
        ).fetchall()
        reports = [from_row(DiagnosticReport, r) for r in rows]
        self.audit.append(
            "list",
            record_type="diagnostic_report",
            profile_id=profile_id,
            detail=f"count={len(reports)}",
        )
        return {r.document_id: r for r in reports if r.document_id}

    # --- counts (no PHI) ---------------------------------------------------------------

    def counts(self, profile_id: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {
            "profiles": int(self.db.execute("SELECT count(*) FROM profiles").fetchone()[0])
        }
        for record_type, cls in RECORD_CLASSES.items():
            sql = f"SELECT count(*) FROM {cls.TABLE} WHERE deleted = 0"
            params: tuple[Any, ...] = ()
            if profile_id:
                sql += " AND profile_id = ?"
                params = (profile_id,)
            out[record_type.value] = int(self.db.execute(sql, params).fetchone()[0])
        return out
