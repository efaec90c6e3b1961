"""The sync engine: pull and merge, push, compact the log; network between vault steps.

Every piece of local work is a *step*, a function of the vault's `LocalStore`, run
through `VaultSteps`: in place for the CLI, on the app's vault worker for the GUI
(see ohvault.gui.sync_ui), so the thread that waits on the network never touches the
database or the keys; between steps the engine carries ciphertext, tokens and counts.
Each step is one transaction and resumable: the cursor moves in the same transaction
that merges a bundle, an outgoing bundle is stored (outbox) before it is sent and
retried with the same id, so a crash or a dropped connection loses and duplicates
nothing, and no database transaction is ever held across a network call.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import logging
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from ohvault.errors import OhvaultError
from ohvault.storage.migrations import LATEST_VERSION
from ohvault.sync import hlc
from ohvault.sync.api import (
    BundlePage,
    OutgoingBundle,
    PulledBundle,
    Pushed,
    SyncApi,
)
from ohvault.sync.crypto import SyncKeys
from ohvault.sync.errors import (
    SyncError,
    SyncInternalError,
    SyncNotEnabled,
    SyncRefused,
    SyncVerifyFailed,
)
from ohvault.sync.local import BLOBS, Entry, LocalStore

log = logging.getLogger(__name__)

MAX_ENTRIES = 2000
MAX_BUNDLE_BYTES = 4 * 1024 * 1024
SNAPSHOT_PART_ENTRIES = 20_000
SNAPSHOT_EVERY = 200  # bundles since the last snapshot
MAX_ROUNDS = 200
# Bundle ids a snapshot lists as folded into it (newest first): enough to recognise a
# device's own unanswered push after any realistic time offline.
SNAPSHOT_FOLDED_IDS = 20_000


def bundle_bind(seq: int) -> str:
    """What a bundle's encryption is bound to: the only log position it can land at.

    The server appends a push only when its `base_seq` is the head, so a bundle made at
    cursor c lands at c + 1 or nowhere.
    """
    return f"seq={seq}"


def snapshot_bind(upto: int) -> str:
    return f"upto={upto}"


@dataclass
@dataclass
class SyncProgress:
    phase: str  # "pull" | "snapshot-load" | "push" | "snapshot" | "done"
    done: int
    total: int | None = None


@dataclass
class SyncReport:
    pulled_bundles: int = 0
    pulled_records: int = 0
    pushed_bundles: int = 0
    pushed_records: int = 0
    conflicts: int = 0
    loaded_snapshot: bool = False
    made_snapshot: bool = False
    cursor: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


T = TypeVar("T")


@contextlib.contextmanager
def local_work() -> Iterator[None]:
    """Merging and bookkeeping in the vault: a failure here is our bug, never the server's.

    It is reported as an internal error with its traceback in the log (no values: the
    traceback names code, not records), so it is not mistaken for a bad answer.
    """
    try:
        yield
    except (OhvaultError, binascii.Error, zlib.error):
        raise
    except Exception as exc:
        log.error("internal error while merging sync changes", exc_info=exc)
        raise SyncInternalError(
            f"Sync stopped on an internal error in ohvault ({type(exc).__name__}); nothing was "
            "half-merged and nothing was lost.",
            hint="The log has the details; please report it.",
        ) from None


@contextlib.contextmanager
def server_answer() -> Iterator[None]:
    """A malformed answer from the server (or a bundle we cannot read) is a clear error.

    Everything it interrupts runs in a transaction that rolls back, so nothing half-merges.
    """
    try:
        yield
    except (
        KeyError,
        TypeError,
        ValueError,  # includes JSON and Unicode decoding errors
        IndexError,
        AttributeError,
        binascii.Error,
        zlib.error,
    ) as exc:
        raise SyncRefused(
            "The sync server sent an answer this version cannot read; nothing was changed.",
            hint=f"({type(exc).__name__})",
        ) from None


class VaultSteps(Protocol):
    """Runs one step that needs the vault, on the thread that owns its connection.

    The CLI runs each step in place. The desktop app hands each one to its vault worker and
    waits for the result, so the sync lane itself never touches the database or the vault's
    keys: it only talks to the server and carries ciphertext, tokens and counts.
    """

    def __call__(self, step: Callable[[LocalStore], T], /) -> T: ...


def require_enabled(s: LocalStore) -> None:
    if not s.enabled():
        raise SyncNotEnabled(
            "Sync is off for this vault.", hint="Turn it on with `ohvault sync enable`."
        )


def vault_id_of(s: LocalStore) -> str:
    vault_id = s.get("vault_id")
    if not vault_id:
        raise SyncNotEnabled("Sync is not set up for this vault.")
    return vault_id


def secret_of(s: LocalStore) -> bytes:
    secret = s.secret()
    if secret is None:
        raise SyncNotEnabled("This vault has no sync key.")
    return secret


def keys(s: LocalStore) -> SyncKeys:
    return SyncKeys(secret_of(s), vault_id_of(s))


Progress = Callable[[SyncProgress], None]


class SyncEngine:
    """One sync run: `run()` pulls, pushes until nothing is left, and snapshots when due."""

    def __init__(self, steps: VaultSteps, api: SyncApi, notify: Progress) -> None:
        self._db = steps
        self.api = api
        self.notify = notify
        self.report = SyncReport()
        # Entries of the bundle sealed last, kept for the step that confirms its push, so
        # they are not decrypted again. Only vault steps touch it.
        self._sealed_entries: dict[str, list[Entry]] = {}

    def run(self, vault_id: str, *, snapshot: bool | None) -> SyncReport:
        """snapshot=None makes one when enough bundles accumulated; True forces one; False never."""
        for _ in range(MAX_ROUNDS):
            self.pull(vault_id)
            if not self.push_once(vault_id):
                break
        else:
            raise SyncError("Sync did not settle: other devices kept pushing. Try again.")
        if snapshot is not False:
            self.maybe_snapshot(vault_id, force=bool(snapshot))
        return self.report

    # --- pulling -------------------------------------------------------------------------------

    def pull(self, vault_id: str) -> None:
        while True:
            cursor = self._db(lambda s: s.cursor)
            page = self.api.bundles(vault_id, cursor)
            if not isinstance(page, BundlePage):  # compacted before our cursor
                self.load_snapshot(vault_id)
                continue
            for bundle in page.bundles:
                # One step per bundle: opened and merged in one transaction on the vault's thread.
                self._db(functools.partial(self._merge_bundle, b=bundle, head=page.head))
            if not page.more:
                return

    def _merge_bundle(self, s: LocalStore, b: PulledBundle, head: int) -> None:
        """(Vault step) Check, open and merge one pulled bundle, or settle our own push."""
        report = self.report
        check_place(s, b.bundle_id, b.seq)
        doc = keys(s).open("bundle", b.bundle_id, b.payload, bind=bundle_bind(b.seq))
        check_doc(doc, b.bundle_id)
        entries = doc["entries"]
        outbox = s.outbox()
        if outbox is not None and outbox[0] == b.bundle_id:
            # Our own push landed although we never heard back: finish it, don't re-merge.
            with local_work():
                s.finish_outbox(b.seq, entries, outbox[3], b.bundle_id)
            report.pushed_bundles += 1
            report.pushed_records += len(entries)
            return
        with local_work():
            stats = s.apply(entries, seq=b.seq, bundle_id=b.bundle_id)
        report.pulled_bundles += 1
        report.pulled_records += stats.records
        report.conflicts += stats.conflicts
        self.notify(SyncProgress("pull", b.seq, head))

    # --- pushing -------------------------------------------------------------------------------

    def _outgoing(self, s: LocalStore) -> tuple[OutgoingBundle, list[list[str]]] | None:
        """(Vault step) The unanswered outbox, or the next batch sealed and stored as the outbox."""
        cursor = s.cursor
        outbox = s.outbox()
        if outbox is not None and outbox[1] != cursor:
            # Others pushed since it was built and the pull did not find it: it never landed.
            s.drop_outbox()
            outbox = None
        if outbox is None:
            with local_work():
                entries, covered = s.collect(MAX_ENTRIES, MAX_BUNDLE_BYTES)
            if not covered:
                return None
            bundle_id = str(uuid.uuid4())
            doc = {
                "v": 1,
                "kind": "changes",
                "id": bundle_id,
                "schema": LATEST_VERSION,
                "base_seq": cursor,
                "entries": entries,
            }
            payload = keys(s).seal("bundle", bundle_id, doc, bind=bundle_bind(cursor + 1))
            s.save_outbox(bundle_id, cursor, payload, covered)
            self._sealed_entries = {bundle_id: entries}
            outbox = (bundle_id, cursor, payload, covered)
        bundle_id, base_seq, payload, covered = outbox
        return OutgoingBundle(bundle_id, base_seq, payload), covered

    def _pushed(
        self, s: LocalStore, out: OutgoingBundle, covered: list[list[str]], seq: int
    ) -> int:
        """(Vault step) The server holds our bundle at `seq`: settle it; the number of entries."""
        entries = self._sealed_entries.pop(out.bundle_id, None)
        if entries is None:
            entries = keys(s).open(
                "bundle", out.bundle_id, out.payload, bind=bundle_bind(out.base_seq + 1)
            )["entries"]
        s.finish_outbox(seq, entries, covered, out.bundle_id)
        return len(entries)

    def push_once(self, vault_id: str) -> bool:
        """Push the outbox (or the next batch); False when nothing is left to push."""
        outgoing = self._db(self._outgoing)
        if outgoing is None:
            return False
        out, covered = outgoing
        self.notify(SyncProgress("push", self.report.pushed_bundles, None))
        answer = self.api.push(vault_id, out)
        if not isinstance(answer, Pushed):
            return True  # stale: pull, merge, and try again
        pushed = self._db(lambda s: self._pushed(s, out, covered, answer.seq))
        self.report.pushed_bundles += 1
        self.report.pushed_records += pushed
        return True

    # --- snapshots ------------------------------------------------------------------------------

    def load_snapshot(self, vault_id: str) -> None:
        snap = self.api.snapshot(vault_id)
        self._db(lambda s: not_older(s, snap.upto_seq))
        for n in range(snap.parts):
            payload = self.api.snapshot_part(vault_id, snap.snapshot_id, n)
            self._db(
                functools.partial(
                    self._merge_snapshot_part,
                    sid=snap.snapshot_id,
                    n=n,
                    parts=snap.parts,
                    upto=snap.upto_seq,
                    payload=payload,
                )
            )
            self.notify(SyncProgress("snapshot-load", n + 1, snap.parts))
        self.report.loaded_snapshot = True

    def _merge_snapshot_part(
        self, s: LocalStore, sid: str, n: int, parts: int, upto: int, payload: bytes
    ) -> None:
        """(Vault step) Open and merge part `n` of a snapshot; the last one moves the cursor."""
        doc = keys(s).open("snapshot", f"{sid}/{n}", payload, bind=snapshot_bind(upto))
        check_doc(doc, f"{sid}/{n}")
        last = n == parts - 1
        if "last" in doc and bool(doc["last"]) != last:
            raise SyncVerifyFailed("The sync server left out part of a snapshot.")
        if n == 0:
            settle_outbox_from_snapshot(s, doc.get("bundles") or {})
        with local_work():
            stats = s.apply(doc["entries"], seq=upto if last else None, action="sync.snapshot")
        self.report.pulled_records += stats.records
        self.report.conflicts += stats.conflicts

    def maybe_snapshot(self, vault_id: str, *, force: bool) -> None:
        info = self.api.vault_info(vault_id)
        due = force or info.head - info.snapshot_seq >= SNAPSHOT_EVERY
        if not due:
            return
        made = self._db(lambda s: seal_snapshot(s, info.head, info.snapshot_seq))
        if made is None:
            return
        sid, cursor, sealed = made
        for n, payload in enumerate(sealed):
            self.api.put_snapshot_part(vault_id, sid, n, payload)
            self.notify(SyncProgress("snapshot", n + 1, len(sealed)))
        if self.api.commit_snapshot(vault_id, sid, cursor, len(sealed)):
            self.report.made_snapshot = True
        # else someone else compacted past us; fine


# --- checks and steps ----------------------------------------------------------------------------


def check_place(s: LocalStore, bundle_id: str, seq: int) -> None:
    """A bundle is merged once, at the next place in the log; anything else is the server's fault."""
    first = s.applied_seq(bundle_id)
    if first is not None:
        raise SyncRefused(
            f"The sync server sent bundle {bundle_id} again (merged before at position "
            f"{first}, now offered at {seq}): a server fault or an attempt to roll records "
            "back. Nothing was merged from it.",
            hint="Tell whoever runs the sync server; your records here are unchanged.",
        )
    if seq != s.cursor + 1:
        raise SyncRefused(
            f"The sync server skipped part of its log (expected position "
            f"{s.cursor + 1}, got {seq}). Nothing was merged from it.",
            hint="Tell whoever runs the sync server; your records here are unchanged.",
        )


def check_doc(doc: dict[str, Any], ident: str) -> None:
    if doc.get("schema", 0) > LATEST_VERSION:
        raise SyncRefused(
            "Another device runs a newer ohvault; update this one to keep syncing.",
        )
    if doc.get("id") != ident:
        raise SyncVerifyFailed("A bundle from the server is not the one it claims to be.")
    entries = doc.get("entries")
    if not isinstance(entries, list) or not all(map(_readable_entry, entries)):
        # Authenticated, so made by one of this vault's devices: a newer or buggy version.
        raise SyncRefused(
            "Another device sent changes this version cannot read; nothing was merged.",
            hint="Update ohvault on every device.",
        )


def settle_outbox_from_snapshot(s: LocalStore, folded: dict[str, str]) -> None:
    """Our unanswered push may be inside the snapshot: if so it landed, and is no longer ours.

    Without this, the change would be merged against an outdated base and pushed again,
    undoing whatever another device did after seeing it (a correction, say).
    """
    bundles = {int(seq): str(bid) for seq, bid in folded.items()}
    outbox = s.outbox()
    if outbox is not None:
        bundle_id, base_seq, payload, covered = outbox
        landed = [seq for seq, bid in bundles.items() if bid == bundle_id]
        if landed:
            entries = keys(s).open("bundle", bundle_id, payload, bind=bundle_bind(base_seq + 1))[
                "entries"
            ]
            with local_work():
                s.finish_outbox(landed[0], entries, covered, bundle_id)
    with local_work():
        s.mark_folded(bundles)


def not_older(s: LocalStore, upto: int) -> None:
    if upto < s.cursor:
        raise SyncRefused(
            f"The sync server offered a snapshot older than what this device has merged "
            f"(up to {upto}, merged {s.cursor}): a server fault or an attempt to "
            "roll records back. Nothing was merged from it.",
            hint="Tell whoever runs the sync server; your records here are unchanged.",
        )


def seal_snapshot(
    s: LocalStore, head: int, snapshot_seq: int
) -> tuple[str, int, list[bytes]] | None:
    """(Vault step) The vault's state at the server's head, sealed in parts; None if not due.

    One transaction, so the snapshot is exactly the state at the cursor with nothing pending.
    """
    cursor = s.cursor
    if cursor != head or cursor <= snapshot_seq:
        return None
    sid = str(uuid.uuid4())
    sync_keys = keys(s)
    sealed: list[bytes] = []
    with local_work(), s.db.transaction():
        if s.pending_count() or s.cursor != cursor:
            return None
        stamp = hlc.tick(s.db)
        batch: list[Entry] = []
        size = 0
        folded = s.applied_bundles(SNAPSHOT_FOLDED_IDS)
        docs: list[list[Entry]] = []
        for entry in s.snapshot_entries(stamp):
            batch.append(entry)
            size += 200 + len(entry.get("b", ""))
            if len(batch) >= SNAPSHOT_PART_ENTRIES or size >= MAX_BUNDLE_BYTES:
                docs.append(batch)
                batch, size = [], 0
        if batch or not docs:
            docs.append(batch)
        for n, part in enumerate(docs):
            sealed.append(
                seal_part(
                    sync_keys,
                    sid,
                    n,
                    part,
                    upto=cursor,
                    last=n == len(docs) - 1,
                    folded=folded if n == 0 else None,
                )
            )
    return sid, cursor, sealed


def seal_part(
    sync_keys: SyncKeys,
    sid: str,
    n: int,
    entries: list[Entry],
    *,
    upto: int,
    last: bool,
    folded: dict[int, str] | None,
) -> bytes:
    ident = f"{sid}/{n}"
    doc: dict[str, Any] = {
        "v": 1,
        "kind": "snapshot",
        "id": ident,
        "schema": LATEST_VERSION,
        "last": last,
        "entries": entries,
    }
    if folded is not None:
        doc["bundles"] = {str(seq): bid for seq, bid in folded.items()}
    return sync_keys.seal("snapshot", ident, doc, bind=snapshot_bind(upto))


def _readable_entry(e: Any) -> bool:
    """The shape every merge step relies on, checked before any of it runs."""
    if not isinstance(e, dict):
        return False
    if not all(isinstance(e.get(k), str) for k in ("t", "id", "h")):
        return False
    return isinstance(e.get("b"), str) if e["t"] == BLOBS else isinstance(e.get("d"), dict)
