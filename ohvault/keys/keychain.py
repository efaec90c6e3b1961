"""The OS keychain, through `keyring`, failing closed.

Only a real OS store counts: Secret Service, macOS Keychain, Windows Credential
Manager (or KWallet). keyring's `fail` and `null` backends and the keyrings.alt
file backends count as "no keychain": the vault then runs in passphrase mode and
says so, rather than writing its key to a plaintext file. keyring's own
configuration (`PYTHON_KEYRING_BACKEND`, keyringrc.cfg) is respected: it decides
the backend; we only decide whether to trust it.

Everything that keeps a key between unlocks takes a `KeyStore`: `Keychain` (the OS
store) in the app, the CLI and the tests about the keychain; `MemoryKeychain` in
tests that are about something else and need no D-Bus.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ohvault.errors import KeychainUnavailable
from ohvault.keys.secret import SecretKey

SERVICE = "ohvault"
log = logging.getLogger(__name__)
T = TypeVar("T")
_RETRY_DELAY_S = 0.2

# Backends that keep secrets in an OS-managed, access-controlled store.
TRUSTED_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.kwallet",
)


@dataclass(frozen=True)
class KeychainStatus:
    available: bool
    backend: str
    reason: str


class KeyStore(Protocol):
    """Where a vault's data key is kept between unlocks, by vault id and rotation slot.

    `get` and `set` raise KeychainUnavailable when the store cannot be used (`status`
    says why); `delete` of a key that is not there, or of an unavailable store, is a
    no-op. `get` returns a fresh copy: the caller may wipe it.
    """

    def status(self) -> KeychainStatus: ...

    def get(self, vault_id: str, slot: str = "current") -> SecretKey | None: ...

    def set(self, vault_id: str, key: SecretKey, slot: str = "current") -> None: ...

    def delete(self, vault_id: str, slot: str = "current") -> None: ...


class MemoryKeychain:
    """A KeyStore in this process's memory, for tests that are not about the keychain.

    Never used by the app: a key kept here is gone when the process ends. `available=False`
    behaves like a machine without a keychain.
    """

    def __init__(self, *, available: bool = True) -> None:
        self.available = available
        self._keys: dict[tuple[str, str], str] = {}

    def status(self) -> KeychainStatus:
        if not self.available:
            return KeychainStatus(False, "memory", "no OS keychain is available")
        return KeychainStatus(True, "memory", "in-memory keychain (tests)")

    def _require(self) -> None:
        if not self.available:
            raise KeychainUnavailable(
                "The OS keychain cannot be used: no OS keychain is available (backend memory).",
                hint="Unlock with your passphrase or recovery key instead.",
            )

    def get(self, vault_id: str, slot: str = "current") -> SecretKey | None:
        self._require()
        text = self._keys.get((vault_id, slot))
        return SecretKey.from_hex(text) if text is not None else None

    def set(self, vault_id: str, key: SecretKey, slot: str = "current") -> None:
        self._require()
        self._keys[(vault_id, slot)] = key.hex()

    def delete(self, vault_id: str, slot: str = "current") -> None:
        self._keys.pop((vault_id, slot), None)


class Keychain:
    """The OS keychain (a KeyStore): the data key of one vault, by vault id and rotation slot."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def status(self) -> KeychainStatus:
        try:
            import keyring
            from keyring.backends import chainer

            backend = keyring.get_keyring()
        except Exception as exc:  # keyring raises many kinds on broken setups
            return KeychainStatus(False, "none", f"keyring failed to load ({type(exc).__name__})")
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        candidates = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
        trusted = [b for b in candidates if type(b).__module__.startswith(TRUSTED_BACKEND_MODULES)]
        if not trusted:
            return KeychainStatus(False, name, "no OS keychain is available")
        return KeychainStatus(True, name, "OS keychain available")

    def _require(self) -> None:
        status = self.status()
        if not status.available:
            raise KeychainUnavailable(
                f"The OS keychain cannot be used: {status.reason} (backend {status.backend}).",
                hint="Unlock with your passphrase or recovery key instead.",
            )

    @staticmethod
    def _user(vault_id: str, slot: str) -> str:
        return vault_id if slot == "current" else f"{vault_id}#{slot}"

    def get(self, vault_id: str, slot: str = "current") -> SecretKey | None:
        self._require()
        import keyring

        text = self._call(
            lambda: keyring.get_password(self.service, self._user(vault_id, slot)),
            "The OS keychain refused the request",
            hint="Use your passphrase or recovery key.",
        )
        if text is None:
            return None
        try:
            return SecretKey.from_hex(text)
        except ValueError:
            log.warning("keychain entry for this vault is not a valid key; ignoring it")
            return None

    def set(self, vault_id: str, key: SecretKey, slot: str = "current") -> None:
        self._require()
        import keyring

        # Text-encoded: Secret Service hands values back as UTF-8 strings.
        self._call(
            lambda: keyring.set_password(self.service, self._user(vault_id, slot), key.hex()),
            "The key could not be saved in the OS keychain",
        )

    def delete(self, vault_id: str, slot: str = "current") -> None:
        if not self.status().available:
            return
        import keyring
        import keyring.errors

        def remove() -> None:
            # Nothing stored means already gone, which is what we want.
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(self.service, self._user(vault_id, slot))

        self._call(remove, "The key could not be removed from the OS keychain")

    @staticmethod
    def _call(op: Callable[[], T], failure: str, *, hint: str | None = None) -> T:
        """Run one keyring call; retry once when the keychain service hiccups.

        A Secret Service daemon can answer one call with a D-Bus error (a collection
        path it has just replaced, a dropped connection) and the next one normally;
        secretstorage raises those as its own exceptions, not keyring's. A second
        failure becomes KeychainUnavailable so callers show one clear error.
        """
        import keyring.errors

        for attempt in (1, 2):
            try:
                return op()
            except keyring.errors.KeyringLocked:
                raise KeychainUnavailable(
                    "The OS keychain is locked.",
                    hint="Unlock your keychain (log in again) or use your passphrase or "
                    "recovery key.",
                ) from None
            except Exception as exc:  # secretstorage/jeepney/keyring errors alike
                if attempt == 2:
                    raise KeychainUnavailable(
                        f"{failure} ({type(exc).__name__}).", hint=hint
                    ) from None
                log.info("keychain call failed (%s); retrying once", type(exc).__name__)
                time.sleep(_RETRY_DELAY_S)
        raise AssertionError("unreachable")
