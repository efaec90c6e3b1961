"""The first window loads only what it shows: no vault, crypto or chart code on the GUI thread.

A fresh interpreter builds the window the way `ohvault` does, with an import hook that
notes every module first imported on the GUI thread. Until the window is exposed that
thread must not load SQLCipher, cryptography, argon2, the vault or the importers; the
keychain attempt that follows loads the vault on the worker, and nothing at any point
loads the chart, PDF or FHIR libraries. About imports only: timings are measured by
`python -m benchmarks.baselines`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ohvault.keys.keychain import MemoryKeychain
from ohvault.keys.wrap import KdfParams
from ohvault.vault import Vault

# Not before the window shows, on the GUI thread.
NOT_ON_THE_GUI_THREAD = (
    "sqlcipher3",
    "cryptography",
    "argon2",
    "keyring",
    "ohvault.storage.db",
    "ohvault.storage.audit",
    "ohvault.keys.wrap",
    "ohvault.keys.header",
    "ohvault.vault.lifecycle",
    "ohvault.vault.unlock",
    "ohvault.vault.backup",
    "ohvault.model.records",
)
# Not anywhere, not even once the keychain attempt has run on the worker.
NEVER_AT_START = (
    "matplotlib",
    "pdfplumber",
    "pypdfium2",
    "fpdf",
    "fhir",
    "ohvault.fhir",
    "ohvault.labs",
    "ohvault.reports",
    "ohvault.bundles",
    "ohvault.sync.client",
)

CHILD = textwrap.dedent(
    """
    import json, sys, threading, time

    MAIN = threading.main_thread()
    first_on_main: list[str] = []

    class Recorder:
        # Called only for modules not yet in sys.modules: a first import.
        def find_spec(self, name, path=None, target=None):
            if threading.current_thread() is MAIN:
                first_on_main.append(name)
            return None

    sys.meta_path.insert(0, Recorder())

    from pathlib import Path
    from ohvault.gui.app import create_app
    from ohvault.gui.mainwindow import MainWindow
    from ohvault.keys.keychain import MemoryKeychain

    app = create_app()
    w = MainWindow(home=Path(sys.argv[1]), keychain=MemoryKeychain(), interactive=False)
    w.show()
    while not (w.windowHandle() and w.windowHandle().isExposed()):
        app.processEvents()
    shown = list(first_on_main)
    page = type(w.pages.currentWidget()).__name__
    deadline = time.monotonic() + 60
    # The keychain attempt (empty here) runs on the worker; then the form shows.
    if page == "UnlockPage":
        while not w.unlock_page.secret.isVisible() and time.monotonic() < deadline:
            app.processEvents()
    form = page == "UnlockPage" and w.unlock_page.secret.isVisible()
    w.close()
    w.session.executor.wait_for_done()
    print(json.dumps({"shown": shown, "page": page, "after": sorted(sys.modules), "form": form}))
    """
)


def _start(home: Path, tmp_path: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["OHVAULT_CONFIG_DIR"] = str(tmp_path / "config")
    env["OHVAULT_LOG_DIR"] = str(tmp_path / "logs")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _loaded(names: list[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == b or n.startswith(b + ".") for b in banned))


def test_the_unlock_screen_shows_before_the_vault_code_loads(
    tmp_path: Path, fast_kdf: KdfParams
) -> None:
    home = tmp_path / "vault"
    vault, _ = Vault.create(
        home, passphrase="tulip orbit canyon seventy", keychain=MemoryKeychain(), kdf=fast_kdf
    )
    vault.lock()
    got = _start(home, tmp_path)
    assert got["page"] == "UnlockPage"
    assert got["shown"], "the import hook saw nothing: the check would pass vacuously"
    assert _loaded(got["shown"], NOT_ON_THE_GUI_THREAD) == []
    # The keychain attempt did run (on the worker): the vault code is loaded by now,
    # and the form asks for the passphrase.
    assert got["form"] is True
    assert "ohvault.vault.lifecycle" in got["after"]
    assert _loaded(got["after"], NEVER_AT_START) == []


def test_the_first_run_wizard_shows_without_the_vault_code(tmp_path: Path) -> None:
    got = _start(tmp_path / "no-vault-yet", tmp_path)
    assert got["page"] == "FirstRunWizard"
    assert _loaded(got["shown"], NOT_ON_THE_GUI_THREAD) == []
    assert _loaded(got["after"], NEVER_AT_START) == []


@pytest.mark.parametrize("name", ["Vault", "Credentials", "AuditEntry", "VaultFiles"])
def test_the_vault_package_still_hands_out_its_names(name: str) -> None:
    """ohvault.vault loads its modules on first use; every public name still resolves."""
    import ohvault.vault as vault

    assert getattr(vault, name).__name__ == name
    assert name in dir(vault)
    with pytest.raises(AttributeError):
        vault.NoSuchName  # noqa: B018
