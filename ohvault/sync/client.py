"""SyncClient: the small API the GUI and CLI use to sync one vault.

    client = SyncClient(vault)
    client.enable("https://sync.example", "me@example.org", password, register=True)
    report = client.sync(progress=lambda p: ...)      # run on a worker thread in the GUI
    client.status()                                   # cheap, local only: for the status bar
    client.conflicts(); client.resolve(conflict_id, "other")
    code = client.pairing_code()                      # show on device 1
    SyncClient(other_vault).join(url, user, password, pairing_code=code)   # device 2

Every piece of local work is a *step* (a function of the vault's LocalStore) run
through `VaultSteps`: in place for the CLI, on the app's vault worker for the GUI,
so the thread that waits on the network never touches the database or the keys.
Each step is resumable: the cursor moves in the same transaction that merges a
bundle, an outgoing bundle is stored (outbox) before it is sent and retried with
the same id, so a crash or a dropped connection loses and duplicates nothing.
The vault never waits on the network: nothing here holds a database transaction
across a network call.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import logging
import secrets
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar, cast

from ohvault.errors import BadInput, Cancelled, OhvaultError, RecordNotFound, VaultLocked
from ohvault.keys import recovery
from ohvault.keys.wrap import recovery_kek, unwrap
from ohvault.model import utcnow
from ohvault.storage.migrations import LATEST_VERSION
from ohvault.sync import hlc, pairing
from ohvault.sync.crypto import SyncKeys, new_sync_secret, unwrap_secret, wrap_secret
from ohvault.sync.errors import (
    SyncError,
    SyncInternalError,
    SyncNotEnabled,
    SyncRefused,
    SyncVerifyFailed,
)
from ohvault.sync.local import BLOBS, ConflictInfo, Entry, LocalStore
from ohvault.sync.transport import Session, Transport, error_code, expect
from ohvault.vault import Vault

log = logging.getLogger(__name__)

MAX_ENTRIES = 2000
MAX_BUNDLE_BYTES = 4 * 1024 * 1024
SNAPSHOT_PART_ENTRIES = 20_000
SNAPSHOT_EVERY = 200  # bundles since the last snapshot
MAX_ROUNDS = 200
RECOVERY_SLOT = "recovery"
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


@dataclass
class SyncStatus:
    enabled: bool
    state: str  # "off" | "idle" | "syncing" | "error" | "offline" | "login-required"
    server_url: str | None = None
    username: str | None = None
    device_id: str | None = None
    vault_id: str | None = None
    cursor: int = 0
    pending_changes: int = 0
    open_conflicts: int = 0
    last_sync_at: str | None = None
    last_error: str | None = None
    recovery_join: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[SyncProgress], None]
F = TypeVar("F", bound=Callable[..., Any])


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


def guarded(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with server_answer():
            return fn(*args, **kwargs)

    return cast(F, wrapper)


T = TypeVar("T")
Step = Callable[[LocalStore], T]


class VaultSteps(Protocol):
    """Runs one step that needs the vault, on the thread that owns its connection.

    The CLI runs each step in place. The desktop app hands each one to its vault worker and
    waits for the result, so the sync lane itself never touches the database or the vault's
    keys: it only talks to the server and carries ciphertext, tokens and counts.
    """

    def __call__(self, step: Callable[[LocalStore], T], /) -> T: ...


def _require_enabled(s: LocalStore) -> None:
    if not s.enabled():
        raise SyncNotEnabled(
            "Sync is off for this vault.", hint="Turn it on with `ohvault sync enable`."
        )


def _vault_id(s: LocalStore) -> str:
    vault_id = s.get("vault_id")
    if not vault_id:
        raise SyncNotEnabled("Sync is not set up for this vault.")
    return vault_id


def _secret(s: LocalStore) -> bytes:
    secret = s.secret()
    if secret is None:
        raise SyncNotEnabled("This vault has no sync key.")
    return secret


def _keys(s: LocalStore) -> SyncKeys:
    return SyncKeys(_secret(s), _vault_id(s))


def _not_enabled_yet(s: LocalStore) -> None:
    if s.enabled():
        raise BadInput("Sync is already on for this vault.")


def _check_recovery_key(vault: Vault, recovery_key: str) -> None:
    slot = vault.header.slots.recovery
    if slot is None:
        raise BadInput("This vault has no recovery key.")
    kek = recovery_kek(recovery.parse(recovery_key), slot.salt)
    unwrap(
        slot,
        kek,
        aad=vault.header.aad("recovery", vault.header.slots.generation),
        what="recovery key",
    )


def _recovery_fp(vault: Vault) -> str | None:
    slot = vault.header.slots.recovery
    return hashlib.sha256(slot.salt + slot.ciphertext).hexdigest() if slot else None


def _status(s: LocalStore, syncing: bool) -> SyncStatus:
    if not s.enabled():
        return SyncStatus(enabled=False, state="off")
    error_kind = s.get("last_error_kind")
    state = (
        "syncing"
        if syncing
        else {
            None: "idle",
            "offline": "offline",
            "auth": "login-required",
        }.get(error_kind, "error")
    )
    return SyncStatus(
        enabled=True,
        state=state,
        server_url=s.get("server_url"),
        username=s.get("username"),
        device_id=s.get("device_id"),
        vault_id=s.get("vault_id"),
        cursor=s.cursor,
        pending_changes=s.pending_count(),
        open_conflicts=len(s.conflicts()),
        last_sync_at=s.get("last_sync_at"),
        last_error=s.get("last_error"),
        recovery_join=s.get("recovery_slot_fp") is not None,
    )


@dataclass(frozen=True)
class _Outgoing:
    """A sealed bundle ready to send: ciphertext and bookkeeping only, no record in clear."""

    bundle_id: str
    base_seq: int
    payload: bytes
    covered: list[list[str]]


class SyncClient:
    """Sync for one vault. `SyncClient(vault)` runs every vault step in place (CLI, tests);
    `SyncClient(steps=...)` hands each one to the thread that owns the vault (the app).

    Between steps the client only talks to the server. A step is one short piece of local
    work (read the settings, merge one bundle, seal the next outgoing batch, record the
    result), each in its own transaction, so no read elsewhere sees half a merge and nothing
    holds the database while the network is slow.
    """

    def __init__(
        self,
        vault: Vault | None = None,
        *,
        steps: VaultSteps | None = None,
        verify: bool | str = True,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (vault is None) == (steps is None):
            raise TypeError("SyncClient needs a vault or the steps that reach one, not both.")
        self._store = LocalStore(vault) if vault is not None else None
        self._steps: VaultSteps = steps if steps is not None else self._in_place
        self._verify = verify
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._lock = threading.Lock()
        self._syncing = False
        # Entries of the bundle sealed last, kept for the step that confirms its push, so they
        # are not decrypted again. Only vault steps touch it.
        self._sealed_entries: dict[str, list[Entry]] = {}
        self.last_transport: Transport | None = None

    @property
    def store(self) -> LocalStore:
        """The vault side, for a client made with a vault (the CLI and tests)."""
        if self._store is None:
            raise RuntimeError("This client reaches the vault only through its steps.")
        return self._store

    @property
    def vault(self) -> Vault:
        return self.store.vault

    def _in_place(self, step: Callable[[LocalStore], T], /) -> T:
        return step(self.store)

    def _db(self, step: Callable[[LocalStore], T]) -> T:
        return self._steps(step)

    # --- status (local only, cheap) ---------------------------------------------------------

    def status(self) -> SyncStatus:
        syncing = self._syncing
        return self._db(lambda s: _status(s, syncing))

    def conflicts(self, *, include_resolved: bool = False) -> list[ConflictInfo]:
        return self._db(lambda s: s.conflicts(include_resolved=include_resolved))

    def resolve(self, conflict_id: str, keep: str) -> None:
        self._db(lambda s: s.resolve(conflict_id, keep))

    def conflict_versions(self, c: ConflictInfo) -> dict[str, dict[str, Any]]:
        """Both versions of a conflict's fields: `current` (what the vault shows) and `other`."""
        return {
            "current": self._db(lambda s: s.current_values(c)),
            "other": {f: c.other.get(f) for f in c.fields},
        }

    # --- turning on --------------------------------------------------------------------------

    @guarded
    def enable(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        register: bool = False,
        device_name: str = "ohvault",
        recovery_key: str | None = None,
    ) -> SyncStatus:
        """First device: create the vault's log on the server and queue every record to go up."""

        def check(s: LocalStore) -> None:
            _not_enabled_yet(s)
            if recovery_key is not None:
                _check_recovery_key(s.vault, recovery_key)

        self._db(check)
        t = self._new_transport(server_url, Session(), persist=False)
        try:
            if register:
                t.register(username, password)
            t.login(username, password, device_name)
            vault_id = str(uuid.uuid4())
            expect(t.request("PUT", f"/v1/vaults/{vault_id}"), 201)
        finally:
            t.close()
        session = t.session  # not login's: a refresh during setup has already rotated it

        def turn_on(s: LocalStore) -> None:
            s.enable(new_sync_secret(), node=secrets.token_hex(6))
            _save_settings(s, server_url, username, session, vault_id)

        self._db(turn_on)
        if recovery_key is not None:
            self.store_recovery_slot(recovery_key)
        return self.status()

    @guarded
    def join(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        pairing_code: str | None = None,
        recovery_key: str | None = None,
        vault_id: str | None = None,
        device_name: str = "ohvault",
    ) -> SyncStatus:
        """Another device: fetch the sync secret with a pairing code or the recovery key."""
        self._db(_not_enabled_yet)
        if (pairing_code is None) == (recovery_key is None):
            raise BadInput("Join with either a pairing code or the recovery key.")
        t = self._new_transport(server_url, Session(), persist=False)
        try:
            t.login(username, password, device_name)
            if pairing_code is not None:
                offer, code_secret = pairing.parse(pairing_code)
                r = t.request("POST", f"/v1/pairings/{offer}/claim")
                if r.status_code == 404:
                    raise SyncRefused(
                        "That pairing code is unknown, expired or already used.",
                        hint="Show a new code on the other device.",
                    )
                body = expect(r, 200).json()
                vault_id = str(body["vault_id"])
                wrapped = base64.b64decode(body["payload"])
                unlock_with, context = code_secret, f"pair|{vault_id}|{offer}"
            else:
                assert recovery_key is not None
                data = recovery.parse(recovery_key)
                if vault_id is None:
                    vaults = expect(t.request("GET", "/v1/vaults"), 200).json()
                    if len(vaults) != 1:
                        raise BadInput(
                            f"This account has {len(vaults)} synced vaults; say which one (vault id)."
                        )
                    vault_id = str(vaults[0]["vault_id"])
                r = t.request("GET", f"/v1/vaults/{vault_id}/keyslots/{RECOVERY_SLOT}")
                if r.status_code == 404:
                    raise SyncRefused(
                        "This vault cannot be joined with the recovery key.",
                        hint="Use a pairing code from a device that already syncs.",
                    )
                body = expect(r, 200).json()
                wrapped = base64.b64decode(body["payload"])
                unlock_with, context = data, f"recovery|{vault_id}"
        finally:
            t.close()
        session = t.session  # not login's: a refresh during setup has already rotated it
        joined_id = vault_id

        def turn_on(s: LocalStore) -> None:
            # Unwrapped here, in the vault step: the sync secret never sits on the network side.
            secret = unwrap_secret(wrapped, unlock_with, salt_len=16, context=context)
            if secret is None:
                raise SyncVerifyFailed(
                    "That code or recovery key does not unlock this vault's sync key."
                )
            s.enable(secret, node=secrets.token_hex(6))
            _save_settings(s, server_url, username, session, joined_id)

        self._db(turn_on)
        return self.status()

    def _save_settings(
        self, server_url: str, username: str, session: Session, vault_id: str
    ) -> None:
        self._db(lambda s: _save_settings(s, server_url, username, session, vault_id))

    @guarded
    def login(self, password: str) -> None:
        """Log in again after the session ended (same server, account and device)."""
        self._db(_require_enabled)
        username, device_id = self._db(lambda s: (s.get("username") or "", s.get("device_id")))
        t = self._transport()
        try:
            t.login(username, password, "ohvault", device_id=device_id)
        finally:
            t.close()
        self._db(lambda s: s.set(last_error=None, last_error_kind=None))

    @guarded
    def change_password(self, password: str, new_password: str) -> None:
        """Change the sync account's password; the account's other sessions end (log in again there)."""
        self._db(_require_enabled)
        if len(new_password) < 10:
            raise BadInput("The new password needs at least 10 characters.")
        t = self._transport()
        try:
            r = t.request(
                "POST",
                "/v1/account/password",
                json={"password": password, "new_password": new_password},
            )
            if r.status_code == 403:
                raise SyncRefused("The current password is wrong; nothing was changed.")
            expect(r, 204)
        finally:
            t.close()

    @guarded
    def delete_account(self, password: str) -> None:
        """Delete the sync account and everything the server holds for it; sync turns off here.

        The records in this vault stay. Other devices of the account are signed out.
        """
        self._db(_require_enabled)
        t = self._transport()
        try:
            r = t.request("POST", "/v1/account/delete", json={"password": password})
            if r.status_code == 403:
                raise SyncRefused("The password is wrong; nothing was deleted.")
            expect(r, 204)
        finally:
            t.close()
        self._db(lambda s: s.disable())

    def logout(self) -> None:
        self._db(_require_enabled)
        t = self._transport()
        try:
            t.request("POST", "/v1/auth/logout")
        finally:
            t.close()
        self._db(lambda s: s.set(access_token=None, refresh_token=None))

    def disable(self, *, delete_remote: bool = False) -> None:
        """Turn sync off here (records stay). With delete_remote, the server's copy goes too."""
        self._db(_require_enabled)
        if delete_remote:
            vault_id = self._db(_vault_id)
            t = self._transport()
            try:
                r = t.request("DELETE", f"/v1/vaults/{vault_id}")
                expect(r, 204, 404)
            finally:
                t.close()
        self._db(lambda s: s.disable())

    # --- key material for other devices -----------------------------------------------------

    @guarded
    def pairing_code(self) -> str:
        """A one-time code (valid for the server's pairing TTL, 10 minutes by default)."""
        offer, code_secret, text = pairing.new_code()

        def wrap(s: LocalStore) -> tuple[str, bytes]:
            _require_enabled(s)
            vault_id = _vault_id(s)
            payload = wrap_secret(
                _secret(s),
                code_secret,
                salt=secrets.token_bytes(16),
                context=f"pair|{vault_id}|{offer}",
            )
            return vault_id, payload

        vault_id, payload = self._db(wrap)
        t = self._transport()
        try:
            r = t.request(
                "POST",
                "/v1/pairings",
                json={
                    "pairing_id": offer,
                    "vault_id": vault_id,
                    "payload": base64.b64encode(payload).decode(),
                },
            )
            expect(r, 204)
        finally:
            t.close()
        return text

    @guarded
    def store_recovery_slot(self, recovery_key: str) -> None:
        """Let another device join with this vault's recovery key (stores a wrap on the server)."""

        def wrap(s: LocalStore) -> tuple[str, bytes, str | None]:
            _require_enabled(s)
            _check_recovery_key(s.vault, recovery_key)
            vault_id = _vault_id(s)
            payload = wrap_secret(
                _secret(s),
                recovery.parse(recovery_key),
                salt=secrets.token_bytes(16),
                context=f"recovery|{vault_id}",
            )
            return vault_id, payload, _recovery_fp(s.vault)

        vault_id, payload, fingerprint = self._db(wrap)
        t = self._transport()
        try:
            r = t.request(
                "PUT",
                f"/v1/vaults/{vault_id}/keyslots/{RECOVERY_SLOT}",
                json={"payload": base64.b64encode(payload).decode()},
            )
            expect(r, 204)
        finally:
            t.close()
        self._db(lambda s: s.set(recovery_slot_fp=fingerprint))

    def _retire_stale_recovery_slot(self, t: Transport, vault_id: str) -> None:
        # A new recovery key (or a key rotation) must also retire the old key's power to join.
        def stale(s: LocalStore) -> bool:
            stored = s.get("recovery_slot_fp")
            return stored is not None and stored != _recovery_fp(s.vault)

        if not self._db(stale):
            return
        r = t.request("DELETE", f"/v1/vaults/{vault_id}/keyslots/{RECOVERY_SLOT}")
        expect(r, 204, 404)
        self._db(lambda s: s.set(recovery_slot_fp=None))

    # --- syncing -------------------------------------------------------------------------------

    def sync(self, progress: Progress | None = None, *, snapshot: bool | None = None) -> SyncReport:
        """Pull and merge, push what changed here, and compact the log now and then.

        snapshot=None makes one when enough bundles accumulated; True forces one; False never.
        """
        self._db(_require_enabled)
        if not self._lock.acquire(blocking=False):
            raise SyncError("A sync is already running.")
        started = time.perf_counter()
        report = SyncReport()
        notify = progress or (lambda _p: None)
        try:
            t = self._transport()
        except BaseException:
            self._lock.release()
            raise
        self._syncing = True
        try:
            with server_answer():
                vault_id = self._db(_vault_id)
                self._retire_stale_recovery_slot(t, vault_id)
                for _ in range(MAX_ROUNDS):
                    self._pull(t, vault_id, report, notify)
                    if not self._push_once(t, vault_id, report, notify):
                        break
                else:
                    raise SyncError("Sync did not settle: other devices kept pushing. Try again.")
                if snapshot is not False:
                    self._maybe_snapshot(t, vault_id, report, notify, force=bool(snapshot))
            self._db(
                lambda s: s.set(
                    last_sync_at=utcnow().isoformat(), last_error=None, last_error_kind=None
                )
            )
            notify(SyncProgress("done", 1, 1))
        except SyncError as exc:
            kind = {"SyncOffline": "offline", "SyncAuthRequired": "auth"}.get(
                type(exc).__name__, "error"
            )
            # The vault may have been locked meanwhile: then the error is not recorded.
            message = exc.message
            with contextlib.suppress(VaultLocked, Cancelled):
                self._db(lambda s: s.set(last_error=message, last_error_kind=kind))
            raise
        finally:
            self._syncing = False
            self._sealed_entries.clear()
            with contextlib.suppress(VaultLocked, Cancelled):  # a lock meanwhile: no count
                report.cursor = self._db(lambda s: s.cursor)
            report.bytes_up, report.bytes_down = t.bytes_up, t.bytes_down
            report.seconds = round(time.perf_counter() - started, 4)
            self.last_transport = t
            t.close()
            self._lock.release()
        return report

    def _pull(self, t: Transport, vault_id: str, report: SyncReport, notify: Progress) -> None:
        while True:
            cursor = self._db(lambda s: s.cursor)
            r = t.request(
                "GET", f"/v1/vaults/{vault_id}/bundles", params={"after": cursor, "limit": 200}
            )
            if r.status_code == 410:
                self._load_snapshot(t, vault_id, report, notify)
                continue
            if r.status_code == 409:
                raise SyncRefused(
                    "The server's copy is behind this device (was it restored from a backup?).",
                    hint="Turn sync off and on again to upload this vault afresh.",
                )
            body = expect(r, 200).json()
            head = int(body["head"])
            for b in body["bundles"]:
                # One step per bundle: opened and merged in one transaction on the vault's thread.
                self._db(
                    functools.partial(
                        self._merge_bundle, b=b, head=head, report=report, notify=notify
                    )
                )
            if not body["more"]:
                return

    def _merge_bundle(
        self, s: LocalStore, b: dict[str, Any], head: int, report: SyncReport, notify: Progress
    ) -> None:
        """(Vault step) Check, open and merge one pulled bundle, or settle our own push."""
        seq, bundle_id = int(b["seq"]), str(b["bundle_id"])
        self._check_place(s, bundle_id, seq)
        doc = _keys(s).open(
            "bundle", bundle_id, base64.b64decode(b["payload"]), bind=bundle_bind(seq)
        )
        self._check_doc(doc, bundle_id)
        entries = doc["entries"]
        outbox = s.outbox()
        if outbox is not None and outbox[0] == bundle_id:
            # Our own push landed although we never heard back: finish it, don't re-merge.
            with local_work():
                s.finish_outbox(seq, entries, outbox[3], bundle_id)
            report.pushed_bundles += 1
            report.pushed_records += len(entries)
            return
        with local_work():
            stats = s.apply(entries, seq=seq, bundle_id=bundle_id)
        report.pulled_bundles += 1
        report.pulled_records += stats.records
        report.conflicts += stats.conflicts
        notify(SyncProgress("pull", seq, head))

    @staticmethod
    def _check_place(s: LocalStore, bundle_id: str, seq: int) -> None:
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

    @staticmethod
    def _check_doc(doc: dict[str, Any], ident: str) -> None:
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

    def _outgoing(self, s: LocalStore) -> _Outgoing | None:
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
            payload = _keys(s).seal("bundle", bundle_id, doc, bind=bundle_bind(cursor + 1))
            s.save_outbox(bundle_id, cursor, payload, covered)
            self._sealed_entries = {bundle_id: entries}
            outbox = (bundle_id, cursor, payload, covered)
        return _Outgoing(*outbox)

    def _pushed(self, s: LocalStore, out: _Outgoing, seq: int) -> int:
        """(Vault step) The server holds our bundle at `seq`: settle it; the number of entries."""
        entries = self._sealed_entries.pop(out.bundle_id, None)
        if entries is None:
            entries = _keys(s).open(
                "bundle", out.bundle_id, out.payload, bind=bundle_bind(out.base_seq + 1)
            )["entries"]
        s.finish_outbox(seq, entries, out.covered, out.bundle_id)
        return len(entries)

    def _push_once(self, t: Transport, vault_id: str, report: SyncReport, notify: Progress) -> bool:
        """Push the outbox (or the next batch); False when nothing is left to push."""
        out = self._db(self._outgoing)
        if out is None:
            return False
        notify(SyncProgress("push", report.pushed_bundles, None))
        r = t.request(
            "POST",
            f"/v1/vaults/{vault_id}/bundles",
            json={
                "bundle_id": out.bundle_id,
                "base_seq": out.base_seq,
                "payload": base64.b64encode(out.payload).decode(),
            },
        )
        if r.status_code == 409 and error_code(r) == "stale":
            return True  # pull, merge, and try again
        if r.status_code == 507:
            raise SyncRefused(
                "The sync server's storage quota for this vault or account is used up."
            )
        body = expect(r, 200, 201).json()
        seq = int(body["seq"])
        pushed = self._db(lambda s: self._pushed(s, out, seq))
        report.pushed_bundles += 1
        report.pushed_records += pushed
        return True

    # --- snapshots ------------------------------------------------------------------------------

    def _load_snapshot(
        self, t: Transport, vault_id: str, report: SyncReport, notify: Progress
    ) -> None:
        r = t.request("GET", f"/v1/vaults/{vault_id}/snapshot")
        snap = expect(r, 200).json()
        sid, parts, upto = str(snap["snapshot_id"]), int(snap["parts"]), int(snap["upto_seq"])
        self._db(lambda s: _not_older(s, upto))
        for n in range(parts):
            part = expect(
                t.request("GET", f"/v1/vaults/{vault_id}/snapshots/{sid}/parts/{n}"), 200
            ).json()
            self._db(
                functools.partial(
                    self._merge_snapshot_part,
                    sid=sid,
                    n=n,
                    parts=parts,
                    upto=upto,
                    part=part,
                    report=report,
                )
            )
            notify(SyncProgress("snapshot-load", n + 1, parts))
        report.loaded_snapshot = True

    def _merge_snapshot_part(
        self,
        s: LocalStore,
        sid: str,
        n: int,
        parts: int,
        upto: int,
        part: dict[str, Any],
        report: SyncReport,
    ) -> None:
        """(Vault step) Open and merge part `n` of a snapshot; the last one moves the cursor."""
        doc = _keys(s).open(
            "snapshot",
            f"{sid}/{n}",
            base64.b64decode(part["payload"]),
            bind=snapshot_bind(upto),
        )
        self._check_doc(doc, f"{sid}/{n}")
        last = n == parts - 1
        if "last" in doc and bool(doc["last"]) != last:
            raise SyncVerifyFailed("The sync server left out part of a snapshot.")
        if n == 0:
            self._settle_outbox_from_snapshot(s, doc.get("bundles") or {})
        with local_work():
            stats = s.apply(doc["entries"], seq=upto if last else None, action="sync.snapshot")
        report.pulled_records += stats.records
        report.conflicts += stats.conflicts

    @staticmethod
    def _settle_outbox_from_snapshot(s: LocalStore, folded: dict[str, str]) -> None:
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
                entries = _keys(s).open(
                    "bundle", bundle_id, payload, bind=bundle_bind(base_seq + 1)
                )["entries"]
                with local_work():
                    s.finish_outbox(landed[0], entries, covered, bundle_id)
        with local_work():
            s.mark_folded(bundles)

    def _maybe_snapshot(
        self, t: Transport, vault_id: str, report: SyncReport, notify: Progress, *, force: bool
    ) -> None:
        info = expect(t.request("GET", f"/v1/vaults/{vault_id}"), 200).json()
        head, snapshot_seq = int(info["head"]), int(info["snapshot_seq"])
        due = force or head - snapshot_seq >= SNAPSHOT_EVERY
        if not due:
            return
        made = self._db(lambda s: _seal_snapshot(s, head, snapshot_seq))
        if made is None:
            return
        sid, cursor, sealed = made
        for n, payload in enumerate(sealed):
            r = t.request(
                "PUT",
                f"/v1/vaults/{vault_id}/snapshots/{sid}/parts/{n}",
                json={"payload": base64.b64encode(payload).decode()},
            )
            expect(r, 204)
            notify(SyncProgress("snapshot", n + 1, len(sealed)))
        r = t.request(
            "POST",
            f"/v1/vaults/{vault_id}/snapshots/{sid}/commit",
            json={"upto_seq": cursor, "parts": len(sealed)},
        )
        if r.status_code == 409:
            return  # someone else compacted past us; fine
        expect(r, 200)
        report.made_snapshot = True

    # --- plumbing -------------------------------------------------------------------------------

    def _new_transport(self, url: str, session: Session, *, persist: bool) -> Transport:
        return Transport(
            url,
            session,
            on_session=self._persist_session if persist else None,
            max_attempts=self._max_attempts,
            verify=self._verify,
            sleep=self._sleep,
        )

    def _persist_session(self, session: Session) -> None:
        self._db(
            lambda s: s.set(
                access_token=session.access_token,
                refresh_token=session.refresh_token,
                device_id=session.device_id,
            )
        )

    def _transport(self) -> Transport:
        def read(s: LocalStore) -> tuple[str | None, Session, bool]:
            session = Session(
                access_token=s.get("access_token"),
                refresh_token=s.get("refresh_token"),
                device_id=s.get("device_id"),
            )
            return s.get("server_url"), session, s.enabled()

        url, session, enabled = self._db(read)
        if not url:
            raise SyncNotEnabled("No sync server is set for this vault.")
        return self._new_transport(url, session, persist=enabled)


def _save_settings(
    s: LocalStore, server_url: str, username: str, session: Session, vault_id: str
) -> None:
    s.set(
        server_url=server_url,
        username=username,
        vault_id=vault_id,
        device_id=session.device_id,
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        cursor=0,
    )


def _not_older(s: LocalStore, upto: int) -> None:
    if upto < s.cursor:
        raise SyncRefused(
            f"The sync server offered a snapshot older than what this device has merged "
            f"(up to {upto}, merged {s.cursor}): a server fault or an attempt to "
            "roll records back. Nothing was merged from it.",
            hint="Tell whoever runs the sync server; your records here are unchanged.",
        )


def _seal_snapshot(
    s: LocalStore, head: int, snapshot_seq: int
) -> tuple[str, int, list[bytes]] | None:
    """(Vault step) The vault's state at the server's head, sealed in parts; None if not due.

    One transaction, so the snapshot is exactly the state at the cursor with nothing pending.
    """
    cursor = s.cursor
    if cursor != head or cursor <= snapshot_seq:
        return None
    sid = str(uuid.uuid4())
    keys = _keys(s)
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
                _seal_part(
                    keys,
                    sid,
                    n,
                    part,
                    upto=cursor,
                    last=n == len(docs) - 1,
                    folded=folded if n == 0 else None,
                )
            )
    return sid, cursor, sealed


def _seal_part(
    keys: SyncKeys,
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
    return keys.seal("snapshot", ident, doc, bind=snapshot_bind(upto))


def _readable_entry(e: Any) -> bool:
    """The shape every merge step relies on, checked before any of it runs."""
    if not isinstance(e, dict):
        return False
    if not all(isinstance(e.get(k), str) for k in ("t", "id", "h")):
        return False
    return isinstance(e.get("b"), str) if e["t"] == BLOBS else isinstance(e.get("d"), dict)


def find_conflict(client: SyncClient, conflict_id: str) -> ConflictInfo:
    for c in client.conflicts(include_resolved=True):
        if c.id == conflict_id or c.id.startswith(conflict_id):
            return c
    raise RecordNotFound("No sync conflict with that id.")
