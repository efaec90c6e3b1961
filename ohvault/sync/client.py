"""SyncClient: the small API the GUI and CLI use to sync one vault.

    client = SyncClient(vault)
    client.enable("https://sync.example", "me@example.org", password, register=True)
    report = client.sync(progress=lambda p: ...)      # the GUI runs it on its sync lane
    client.status()                                   # cheap, local only: for the status bar
    client.conflicts(); client.resolve(conflict_id, "other")
    code = client.pairing_code()                      # show on device 1
    SyncClient(other_vault).join(url, user, password, pairing_code=code)   # device 2

The parts: `api.py` is the server's REST API as typed calls, `engine.py` the sync
itself (pull, push, snapshots) as network calls between vault steps, `keyexchange.py`
the wraps that hand the sync secret to another device; this module is the account
side (turning sync on and off, logging in) and the one object callers hold.
`SyncClient(vault)` runs every vault step in place (CLI, tests); the app makes
`SyncClient(steps=...)`, whose steps run on its vault worker, so the thread that
waits on the network never touches the database or the keys.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar, cast

from ohvault.changes import RECORD_CHANGES, Change, changes
from ohvault.errors import BadInput, Cancelled, RecordNotFound, VaultLocked
from ohvault.keys import recovery
from ohvault.model import utcnow
from ohvault.sync import keyexchange, pairing
from ohvault.sync.api import SyncApi
from ohvault.sync.crypto import new_sync_secret
from ohvault.sync.engine import (
    MAX_BUNDLE_BYTES,
    MAX_ENTRIES,
    SNAPSHOT_EVERY,
    Progress,
    SyncEngine,
    SyncProgress,
    SyncReport,
    VaultSteps,
    bundle_bind,
    local_work,
    require_enabled,
    server_answer,
    snapshot_bind,
    vault_id_of,
)
from ohvault.sync.errors import SyncError, SyncNotEnabled, SyncRefused
from ohvault.sync.keyexchange import RECOVERY_SLOT
from ohvault.sync.local import ConflictInfo, LocalStore
from ohvault.sync.transport import Session, Transport
from ohvault.vault import Vault

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_ENTRIES",
    "RECOVERY_SLOT",
    "SNAPSHOT_EVERY",
    "SyncClient",
    "SyncProgress",
    "SyncReport",
    "SyncStatus",
    "VaultSteps",
    "bundle_bind",
    "find_conflict",
    "local_work",
    "server_answer",
    "snapshot_bind",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


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


def guarded(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with server_answer():
            return fn(*args, **kwargs)

    return cast(F, wrapper)


class SyncClient:
    """Sync for one vault. `SyncClient(vault)` runs every vault step in place (CLI, tests);
    `SyncClient(steps=...)` hands each one to the thread that owns the vault (the app).
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

    @changes(*RECORD_CHANGES, Change.PROFILE)
    def resolve(self, conflict_id: str, keep: str) -> None:
        self._db(lambda s: s.resolve(conflict_id, keep))

    def conflict_versions(self, c: ConflictInfo) -> dict[str, dict[str, Any]]:
        """Both versions of a conflict's fields: `current` (what the vault shows) and `other`."""
        return {
            "current": self._db(lambda s: s.current_values(c)),
            "other": {f: c.other.get(f) for f in c.fields},
        }

    # --- turning on --------------------------------------------------------------------------

    @changes(Change.SETTINGS)
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
                keyexchange.check_recovery_key(s.vault, recovery_key)

        self._db(check)
        vault_id = str(uuid.uuid4())
        with self._api(server_url, Session(), persist=False) as api:
            if register:
                api.register(username, password)
            api.login(username, password, device_name)
            api.create_vault(vault_id)
        # Not login's session: a refresh during setup has already rotated it.
        session = api.transport.session

        def turn_on(s: LocalStore) -> None:
            s.enable(new_sync_secret(), node=secrets.token_hex(6))
            _save_settings(s, server_url, username, session, vault_id)

        self._db(turn_on)
        if recovery_key is not None:
            self.store_recovery_slot(recovery_key)
        return self.status()

    @changes(Change.SETTINGS)
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
        with self._api(server_url, Session(), persist=False) as api:
            api.login(username, password, device_name)
            if pairing_code is not None:
                offer, code_secret = pairing.parse(pairing_code)
                claim = api.claim_pairing(offer)
                if claim is None:
                    raise SyncRefused(
                        "That pairing code is unknown, expired or already used.",
                        hint="Show a new code on the other device.",
                    )
                vault_id, wrapped = claim.vault_id, claim.payload
                unlock_with = code_secret
                context = keyexchange.pairing_context(vault_id, offer)
            else:
                assert recovery_key is not None
                unlock_with = recovery.parse(recovery_key)
                if vault_id is None:
                    vaults = api.vault_ids()
                    if len(vaults) != 1:
                        raise BadInput(
                            f"This account has {len(vaults)} synced vaults; say which one (vault id)."
                        )
                    vault_id = vaults[0]
                slot = api.keyslot(vault_id, RECOVERY_SLOT)
                if slot is None:
                    raise SyncRefused(
                        "This vault cannot be joined with the recovery key.",
                        hint="Use a pairing code from a device that already syncs.",
                    )
                wrapped, context = slot, keyexchange.recovery_context(vault_id)
        session = api.transport.session
        joined = vault_id

        def turn_on(s: LocalStore) -> None:
            # Unwrapped in the vault step: the sync secret never sits on the network side.
            secret = keyexchange.unwrap_joined(wrapped, unlock_with, context)
            s.enable(secret, node=secrets.token_hex(6))
            _save_settings(s, server_url, username, session, joined)

        self._db(turn_on)
        return self.status()

    def _save_settings(
        self, server_url: str, username: str, session: Session, vault_id: str
    ) -> None:
        self._db(lambda s: _save_settings(s, server_url, username, session, vault_id))

    # --- the account -------------------------------------------------------------------------

    @guarded
    def login(self, password: str) -> None:
        """Log in again after the session ended (same server, account and device)."""
        self._db(require_enabled)
        username, device_id = self._db(lambda s: (s.get("username") or "", s.get("device_id")))
        with self._server() as api:
            api.login(username, password, "ohvault", device_id=device_id)
        self._db(lambda s: s.set(last_error=None, last_error_kind=None))

    @guarded
    def change_password(self, password: str, new_password: str) -> None:
        """Change the sync account's password; the account's other sessions end (log in again there)."""
        self._db(require_enabled)
        if len(new_password) < 10:
            raise BadInput("The new password needs at least 10 characters.")
        with self._server() as api:
            api.change_password(password, new_password)

    @guarded
    def delete_account(self, password: str) -> None:
        """Delete the sync account and everything the server holds for it; sync turns off here.

        The records in this vault stay. Other devices of the account are signed out.
        """
        self._db(require_enabled)
        with self._server() as api:
            api.delete_account(password)
        self._db(lambda s: s.disable())

    def logout(self) -> None:
        self._db(require_enabled)
        with self._server() as api:
            api.logout()
        self._db(lambda s: s.set(access_token=None, refresh_token=None))

    @changes(Change.SETTINGS)
    def disable(self, *, delete_remote: bool = False) -> None:
        """Turn sync off here (records stay). With delete_remote, the server's copy goes too."""
        self._db(require_enabled)
        if delete_remote:
            vault_id = self._db(vault_id_of)
            with self._server() as api:
                api.delete_vault(vault_id)
        self._db(lambda s: s.disable())

    # --- key material for other devices -----------------------------------------------------

    @guarded
    def pairing_code(self) -> str:
        """A one-time code (valid for the server's pairing TTL, 10 minutes by default)."""
        offer, code_secret, text = pairing.new_code()
        vault_id, payload = self._db(lambda s: keyexchange.wrap_for_pairing(s, offer, code_secret))
        with self._server() as api:
            api.offer_pairing(offer, vault_id, payload)
        return text

    @guarded
    def store_recovery_slot(self, recovery_key: str) -> None:
        """Let another device join with this vault's recovery key (stores a wrap on the server)."""
        vault_id, payload, fingerprint = self._db(
            lambda s: keyexchange.wrap_for_recovery(s, recovery_key)
        )
        with self._server() as api:
            api.put_keyslot(vault_id, RECOVERY_SLOT, payload)
        self._db(lambda s: s.set(recovery_slot_fp=fingerprint))

    def _retire_stale_recovery_slot(self, api: SyncApi, vault_id: str) -> None:
        # A new recovery key (or a key rotation) must also retire the old key's power to join.
        if not self._db(keyexchange.recovery_slot_is_stale):
            return
        api.delete_keyslot(vault_id, RECOVERY_SLOT)
        self._db(lambda s: s.set(recovery_slot_fp=None))

    # --- syncing -------------------------------------------------------------------------------

    @changes(*RECORD_CHANGES, Change.PROFILE)
    def sync(self, progress: Progress | None = None, *, snapshot: bool | None = None) -> SyncReport:
        """Pull and merge, push what changed here, and compact the log now and then.

        snapshot=None makes one when enough bundles accumulated; True forces one; False never.
        """
        self._db(require_enabled)
        if not self._lock.acquire(blocking=False):
            raise SyncError("A sync is already running.")
        started = time.perf_counter()
        notify = progress or (lambda _p: None)
        try:
            api = self._server_api()
        except BaseException:
            self._lock.release()
            raise
        engine = SyncEngine(self._steps, api, notify)
        report = engine.report
        self._syncing = True
        try:
            with server_answer():
                vault_id = self._db(vault_id_of)
                self._retire_stale_recovery_slot(api, vault_id)
                engine.run(vault_id, snapshot=snapshot)
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
            message = exc.message
            # The vault may have been locked meanwhile: then the error is not recorded.
            with contextlib.suppress(VaultLocked, Cancelled):
                self._db(lambda s: s.set(last_error=message, last_error_kind=kind))
            raise
        finally:
            self._syncing = False
            with contextlib.suppress(VaultLocked, Cancelled):  # a lock meanwhile: no count
                report.cursor = self._db(lambda s: s.cursor)
            t = api.transport
            report.bytes_up, report.bytes_down = t.bytes_up, t.bytes_down
            report.seconds = round(time.perf_counter() - started, 4)
            self.last_transport = t
            api.close()
            self._lock.release()
        return report

    # --- plumbing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _api(self, url: str, session: Session, *, persist: bool) -> Iterator[SyncApi]:
        api = SyncApi(
            Transport(
                url,
                session,
                on_session=self._persist_session if persist else None,
                max_attempts=self._max_attempts,
                verify=self._verify,
                sleep=self._sleep,
            )
        )
        try:
            yield api
        finally:
            api.close()

    def _persist_session(self, session: Session) -> None:
        self._db(
            lambda s: s.set(
                access_token=session.access_token,
                refresh_token=session.refresh_token,
                device_id=session.device_id,
            )
        )

    def _server_api(self) -> SyncApi:
        """The API for this vault's server and session (refreshed tokens are kept in the vault)."""

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
        return SyncApi(
            Transport(
                url,
                session,
                on_session=self._persist_session if enabled else None,
                max_attempts=self._max_attempts,
                verify=self._verify,
                sleep=self._sleep,
            )
        )

    @contextlib.contextmanager
    def _server(self) -> Iterator[SyncApi]:
        api = self._server_api()
        try:
            yield api
        finally:
            api.close()


def _not_enabled_yet(s: LocalStore) -> None:
    if s.enabled():
        raise BadInput("Sync is already on for this vault.")


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


def find_conflict(client: SyncClient, conflict_id: str) -> ConflictInfo:
    for c in client.conflicts(include_resolved=True):
        if c.id == conflict_id or c.id.startswith(conflict_id):
            return c
    raise RecordNotFound("No sync conflict with that id.")
