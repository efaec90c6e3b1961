"""Keys live in bytearrays that are zeroed on lock; copied secrets leave the clipboard.

Python copies immutable bytes freely, so this checks what can be checked: the buffers the
vault owns for its whole unlocked life are zeroed in place (a reference taken before the
lock sees zeros afterwards), and nothing usable is left on the locked objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from conftest import MakeVault
from ohvault.errors import VaultLocked
from ohvault.gui.clipboard import CLEAR_AFTER_MS, SECRET_HINT
from tests.gui.conftest import wait_idle


def _zeroed(buf: bytearray) -> bool:
    return len(buf) > 0 and not any(buf)


def test_lock_zeroes_the_data_key_and_the_audit_chain_key(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    data_key = vault.data_key()._buf  # the buffer itself, not a copy
    chain_key = vault.audit._key
    assert isinstance(data_key, bytearray) and isinstance(chain_key, bytearray)
    assert any(data_key) and any(chain_key)
    vault.lock()
    assert _zeroed(data_key), "the data key's buffer still holds the key after lock()"
    assert _zeroed(chain_key), "the audit chain key's buffer still holds the key after lock()"
    assert vault.locked
    with pytest.raises(VaultLocked):
        vault.data_key()
    assert repr(vault._key) == "SecretKey(<redacted>)"


def test_rotation_zeroes_the_old_keys(make_vault: MakeVault) -> None:
    vault, _ = make_vault(passphrase="correct horse battery")
    old_data = vault.data_key()._buf
    old_chain = vault.audit._key
    vault.rotate_key("correct horse battery")
    assert _zeroed(old_data) and _zeroed(old_chain)
    assert any(vault.data_key()._buf) and vault.audit.verify().ok


def test_gui_lock_wipes_the_key_and_clears_the_copied_secret(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    vault = window.session.executor.vault
    key = vault.data_key()._buf
    clipboard = QGuiApplication.clipboard()
    window.session.clipboard.copy("ABCD-EFGH-IJKL")
    mime = clipboard.mimeData()
    assert mime.data(SECRET_HINT).data() == b"secret"  # KDE Klipper and friends skip it
    from ohvault.gui.clipboard import CONCEALMENT_HINTS

    for fmt in CONCEALMENT_HINTS:  # macOS and Windows clipboard managers' hints too
        assert mime.hasFormat(fmt), fmt
    window.named_actions["lock"].trigger()
    wait_idle(qtbot, window)
    assert clipboard.text() == "", "lock must clear a secret the app copied"
    assert _zeroed(key)
    assert window.session.executor.vault is None


def test_gui_lock_leaves_what_the_user_copied_since(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    clipboard = QGuiApplication.clipboard()
    window.session.clipboard.copy("ABCD-EFGH-IJKL")
    clipboard.setText("a shopping list")
    window.named_actions["lock"].trigger()
    wait_idle(qtbot, window)
    assert clipboard.text() == "a shopping list"


def test_copied_secret_is_cleared_after_thirty_seconds(qtbot: Any, unlocked: Any) -> None:
    secret_clipboard = unlocked.session.clipboard
    assert CLEAR_AFTER_MS == 30_000
    assert secret_clipboard._timer.interval() == 30_000 and secret_clipboard._timer.isSingleShot()
    secret_clipboard._timer.setInterval(100)  # the real wait, shortened
    secret_clipboard.copy("ABCD-EFGH-IJKL")
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=3_000)


def test_no_key_material_in_the_vault_dir_or_the_config(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    import os

    vault, _ = make_vault()
    key_hex = vault.data_key().hex().encode()
    key_raw = vault.data_key().raw()
    home = vault.files.home
    vault.lock()
    roots = [home, Path(os.environ["OHVAULT_CONFIG_DIR"]), Path(os.environ["OHVAULT_LOG_DIR"])]
    for root in roots:
        for path in root.rglob("*") if root.exists() else ():
            if path.is_file():
                data = path.read_bytes()
                assert key_hex not in data.lower() and key_raw not in data, path
