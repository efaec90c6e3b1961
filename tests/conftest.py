"""Shared fixtures: throwaway vault homes, a cheap KDF for tests, real keychain detection."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from coverage_gate import pytest_runtestloop  # noqa: F401 - the per-package coverage floors

from ohvault.keys.keychain import Keychain, MemoryKeychain
from ohvault.keys.wrap import KdfParams
from ohvault.vault import Vault

# Tests only: Argon2id at 8 MiB / 1 pass keeps a test's unlock in milliseconds.
# The product default (128 MiB, 3 passes) is exercised by its own test and benchmark.
FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own config and log dir, so no test sees another's device id or logs."""
    base = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("OHVAULT_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("OHVAULT_LOG_DIR", str(base / "logs"))


@pytest.fixture
def fast_kdf() -> KdfParams:
    return FAST_KDF


@pytest.fixture
def vault_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "vault"
    monkeypatch.setenv("OHVAULT_HOME", str(home))
    return home


def keychain_available() -> bool:
    return Keychain().status().available


@pytest.fixture
def keychain() -> Keychain:
    """The real OS keychain. Under CI=true its absence is a failure, not a skip."""
    if not keychain_available():
        if os.environ.get("CI") == "true" or os.environ.get("OHVAULT_TEST_KEYCHAIN") == "1":
            pytest.fail(
                "the Secret Service keychain must be available (run under tests/run-with-keyring.sh)"
            )
        pytest.skip("no OS keychain; run the suite through `make test`")
    return Keychain()


@pytest.fixture
def memory_keychain() -> MemoryKeychain:
    """A keychain in memory, for tests that are not about the keychain (no D-Bus needed)."""
    return MemoryKeychain()


MakeVault = Callable[..., tuple[Vault, str]]


@pytest.fixture
def make_vault(vault_home: Path, keychain: Keychain) -> Iterator[MakeVault]:
    """Create a vault in vault_home with the fast KDF; locks and deletes it afterwards."""
    made: list[Vault] = []

    def factory(**kwargs: object) -> tuple[Vault, str]:
        kwargs.setdefault("kdf", FAST_KDF)
        kwargs.setdefault("profile_name", "Test Person")
        home = kwargs.pop("home", vault_home)
        vault, recovery_text = Vault.create(home, **kwargs)  # type: ignore[arg-type]
        made.append(vault)
        return vault, recovery_text

    yield factory
    for vault in made:
        vault.lock()
        Vault.destroy(vault.files.home, keychain=keychain, with_backups=True)
