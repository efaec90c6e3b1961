"""The audit log: an append-only HMAC chain inside the encrypted database.

Each entry's MAC covers the previous entry's MAC and the entry's own fields, so
editing, deleting or reordering any entry breaks the chain from that point.
The chain key is derived from the data key with HKDF: only someone who can open
the vault can extend the chain. Entries name actions, record types and ids,
never PHI values.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from ohvault.errors import OhvaultError
from ohvault.keys.secret import SecretKey
from ohvault.keys.wrap import hkdf
from ohvault.storage.db import Database

GENESIS = "0" * 64
BROKEN_PREFIX = "broken:"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    action: str
    record_type: str | None
    record_id: str | None
    profile_id: str | None
    device: str
    detail: str | None
    mac: str

    def to_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "profile_id": self.profile_id,
            "device": self.device,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


def chain_key(data_key: SecretKey) -> bytes:
    return hkdf(data_key.raw(), salt=None, info=b"ohvault audit chain v1")


def _mac(key: bytes | bytearray, prev: str, entry: AuditEntry) -> str:
    fields = [
        prev,
        str(entry.seq),
        entry.ts,
        entry.action,
        entry.record_type or "",
        entry.record_id or "",
        entry.profile_id or "",
        entry.device,
        entry.detail or "",
    ]
    return hmac.new(key, "\x1f".join(fields).encode("utf-8"), sha256).hexdigest()


_COLUMNS = "seq, ts, action, record_type, record_id, profile_id, device, detail, mac"


def _row_to_entry(row: tuple[object, ...]) -> AuditEntry:
    return AuditEntry(*row)  # type: ignore[arg-type]


def entry_digest(entry: AuditEntry) -> str:
    """A key-independent fingerprint of an entry's fields (it survives a key rotation's re-MAC).

    The vault header records the last entry's seq and digest: entries removed from the
    end, or removed and replaced by newer ones, then no longer match it.
    """
    fields = ["" if v is None else str(v) for v in entry.to_json().values()]
    return sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, db: Database, data_key: SecretKey, device: str) -> None:
        self._db = db
        # A bytearray, so that wipe() can zero it when the vault locks.
        self._key = bytearray(chain_key(data_key))
        self.device = device
        # Where the vault keeps the chain's head outside the database (the header's MAC):
        # returns (seq, digest) or None, raises OhvaultError if that place fails its check.
        self.anchor: Callable[[], tuple[int, str] | None] | None = None

    def wipe(self) -> None:
        """Zero the chain key (on lock); the log cannot be appended to or verified afterwards."""
        for i in range(len(self._key)):
            self._key[i] = 0
        self._key = bytearray()

    def append(
        self,
        action: str,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        profile_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        with self._db.transaction():
            row = self._db.execute(
                "SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
            entry = AuditEntry(
                seq=seq,
                ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
                action=action,
                record_type=record_type,
                record_id=record_id,
                profile_id=profile_id,
                device=self.device,
                detail=detail,
                mac="",
            )
            mac = _mac(self._key, prev, entry)
            self._db.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    seq,
                    entry.ts,
                    action,
                    record_type,
                    record_id,
                    profile_id,
                    self.device,
                    detail,
                    mac,
                ),
            )
            # The head pointer makes a removed tail of the chain visible too.
            self._db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('audit_head', ?)",
                (f"{seq}:{mac}",),
            )

    def entries(
        self,
        *,
        action: str | None = None,
        profile_id: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE 1=1"
        params: list[object] = []
        if action:
            sql += " AND action = ?"
            params.append(action)
        if profile_id:
            sql += " AND profile_id = ?"
            params.append(profile_id)
        sql += " ORDER BY seq DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [_row_to_entry(r) for r in self._db.execute(sql, params).fetchall()]

    def head(self) -> tuple[int, str] | None:
        """The last entry's seq and digest (None for an empty log)."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        entry = _row_to_entry(row)
        return entry.seq, entry_digest(entry)

    def next_anchor(self, recorded: dict[str, Any] | None) -> dict[str, Any] | None:
        """What the vault header should record as the chain's head, given what it records now.

        The last entry, unless that would move back or paper over a recorded entry that is
        gone or replaced: `verify` must go on reporting that.
        """
        head = self.head()
        if head is None:
            return recorded
        if recorded is not None:
            try:
                seq, digest = int(recorded["seq"]), str(recorded["digest"])
            except (KeyError, TypeError, ValueError):
                return recorded
            if seq >= head[0] or self.digest_at(seq) != digest:
                return recorded
        return {"seq": head[0], "digest": head[1]}

    def digest_at(self, seq: int) -> str | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else entry_digest(_row_to_entry(row))

    def verify(self) -> ChainReport:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY rowid").fetchall()
        report = verify_chain(self._key, (_row_to_entry(r) for r in rows))
        if not report.ok:
            return report
        head = self._db.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
        if head is not None:
            last = f"{rows[-1][0]}:{rows[-1][8]}" if rows else ""
            if head[0] != last:
                return ChainReport(False, report.entries, None, "entries were removed from the end")
        if self.anchor is None:
            return report
        try:
            anchor = self.anchor()
        except OhvaultError:
            return ChainReport(
                False,
                report.entries,
                None,
                "the vault header that records the chain's head fails its check",
            )
        if anchor is not None:
            seq, digest = anchor
            found = self.digest_at(seq)
            if found is None:
                return ChainReport(
                    False,
                    report.entries,
                    None,
                    f"entries were removed from the end (the vault header records entry {seq})",
                )
            if found != digest:
                return ChainReport(
                    False,
                    report.entries,
                    seq,
                    "entries were removed and replaced (the entry the vault header records differs)",
                )
        return report

    def rekey(self, new_data_key: SecretKey) -> None:
        """Re-MAC the chain under a new data key (key rotation), keeping any break visible."""
        new_key = chain_key(new_data_key)
        rows = [
            _row_to_entry(r)
            for r in self._db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq").fetchall()
        ]
        prev_old, prev_new, broken = GENESIS, GENESIS, False
        with self._db.transaction():
            for entry in rows:
                if not broken and (entry.mac != _mac(self._key, prev_old, entry)):
                    broken = True
                new_mac = BROKEN_PREFIX + entry.mac if broken else _mac(new_key, prev_new, entry)
                self._db.execute("UPDATE audit_log SET mac = ? WHERE seq = ?", (new_mac, entry.seq))
                prev_old, prev_new = entry.mac, new_mac
            if rows:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('audit_head', ?)",
                    (f"{rows[-1].seq}:{prev_new}",),
                )
        self.wipe()
        self._key = bytearray(new_key)


def verify_chain(key: bytes | bytearray, entries: Iterable[AuditEntry]) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return ChainReport(False, count, entry.seq, "an entry is missing or out of order")
        if not hmac.compare_digest(entry.mac, _mac(key, prev, entry)):
            return ChainReport(False, count, entry.seq, "an entry was altered")
        prev = entry.mac
        expected_seq += 1
    return ChainReport(True, count, None, "audit chain intact")
