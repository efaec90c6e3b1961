"""First run, recovery key handling, unlocking by keychain, passphrase and recovery key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from ohvault.gui.clipboard import SECRET_HINT
from ohvault.gui.widgets import passphrase_strength
from ohvault.keys import recovery
from ohvault.vault import Credentials, Vault
from tests.gui.conftest import PASSPHRASE, create_through_wizard, wait_idle


def test_wizard_validates_then_creates_a_vault_the_recovery_key_opens(
    qtbot: Any, make_window: Any, vault_home: Path, tmp_path: Path, keychain: Any
) -> None:
    window = make_window()
    wizard = window.wizard
    assert wizard is not None and window.pages.currentWidget() is wizard
    wizard.next1.click()
    assert wizard.stack.currentIndex() == 0
    assert "name" in wizard.welcome_error.text()
    wizard.name.setText("Alex Example")
    wizard.next1.click()
    assert wizard.stack.currentIndex() == 1
    wizard.pass1.setText("short")
    assert not wizard.create_button.isEnabled()
    assert "at least 8" in wizard.pass_error.text()
    wizard.pass1.setText(PASSPHRASE)
    wizard.pass2.setText(PASSPHRASE + "x")
    assert not wizard.create_button.isEnabled()
    assert "differ" in wizard.pass_error.text()
    wizard.pass2.setText(PASSPHRASE)
    assert wizard.create_button.isEnabled()
    assert wizard.meter.score >= 3
    wizard.create_button.click()
    qtbot.waitUntil(lambda: wizard.stack.currentIndex() == 3, timeout=15_000)
    key = wizard.recovery_key
    recovery.parse(key)  # a well-formed key with a valid checksum
    assert wizard.key_label.text() == key
    assert wizard.pass1.text() == "" and wizard.pass2.text() == ""

    # Save as PDF: a real PDF, readable by the owner only.
    pdf = tmp_path / "key.pdf"
    wizard.save_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_mode & 0o077 == 0

    # The user must confirm before the vault opens.
    assert not wizard.finish_button.isEnabled()
    wizard.finish()
    assert not window.session.is_unlocked
    wizard.stored.setChecked(True)
    wizard.finish_button.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=5_000)
    assert window.pages.currentWidget() is window.shell
    assert window.profile_box.itemText(0) == "Alex Example"
    window.close()

    # The key shown is the vault's: it unlocks without keychain or passphrase.
    vault = Vault.open(
        vault_home, Credentials(recovery_key=key, use_keychain=False), auto_backup=False
    )
    assert [p.name for p in vault.repo.profiles()] == ["Alex Example"]
    vault.lock()


def test_copying_the_recovery_key_marks_it_secret_and_clears_it(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    wizard = window.wizard
    wizard.name.setText("Alex Example")
    wizard.next1.click()
    wizard.pass1.setText(PASSPHRASE)
    wizard.pass2.setText(PASSPHRASE)
    wizard.create_button.click()
    qtbot.waitUntil(lambda: wizard.stack.currentIndex() == 3, timeout=15_000)
    clipboard = window.session.clipboard
    clipboard._timer.setInterval(200)  # the product waits 30 s
    clipboard.copy(wizard.recovery_key)
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == wizard.recovery_key
    assert bytes(mime.data(SECRET_HINT)) == b"secret"
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=3_000)
    # Something else the user copied afterwards is left alone.
    clipboard.copy(wizard.recovery_key)
    QGuiApplication.clipboard().setText("unrelated")
    clipboard.clear_if_ours()
    assert QGuiApplication.clipboard().text() == "unrelated"


def test_keychain_unlocks_at_start_and_lock_clears_everything(qtbot: Any, make_window: Any) -> None:
    first = make_window()
    create_through_wizard(qtbot, first)
    first.close()
    window = make_window()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    assert window.unlock_label.text() == "Unlocked with your keychain"
    wait_idle(qtbot, window)
    window.session.clipboard.copy("ABCD-EFGH")  # e.g. a recovery key copied from Settings
    window.named_actions["lock"].trigger()
    assert QGuiApplication.clipboard().text() == ""
    assert window.pages.currentWidget() is window.unlock_page
    assert window.profile_box.count() == 0
    wait_idle(qtbot, window)
    # A lock does not undo itself: the keychain is used again only when asked.
    assert not window.session.is_unlocked
    window.unlock_page.retry.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)


def test_passphrase_and_recovery_key_when_the_keychain_cannot_help(
    qtbot: Any, make_window: Any, keychain: Any, vault_home: Path
) -> None:
    first = make_window()
    key = create_through_wizard(qtbot, first)
    vault_id = first.session.executor.vault.vault_id  # type: ignore[union-attr]
    first.close()
    keychain.delete(vault_id)  # the keychain was reset: it no longer holds the key

    window = make_window()
    page = window.unlock_page
    qtbot.waitUntil(lambda: page.secret.isVisible(), timeout=15_000)
    assert not window.session.is_unlocked
    assert "keychain holds no key" in page.reason.text()  # says why
    page.secret.setText("not the passphrase")
    page.unlock_button.click()
    qtbot.waitUntil(lambda: "does not unlock" in page.status.text(), timeout=15_000)
    assert not window.session.is_unlocked
    # A recovery key with a typo is caught before any unlock attempt.
    page.use_recovery.setChecked(True)
    page.secret.setText(key[:-1] + ("0" if key[-1] != "0" else "1"))
    page.unlock_button.click()
    assert "typo" in page.reason.text() or "checksum" in page.reason.text()
    page.secret.setText(key)
    page.unlock_button.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    assert window.unlock_label.text() == "Unlocked with your recovery key"
    window.lock()
    page.use_recovery.setChecked(False)
    page.secret.setText(PASSPHRASE)
    page.unlock_button.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    assert window.unlock_label.text() == "Unlocked with your passphrase"


def test_passphrase_strength_meter_ranks_sensible_examples() -> None:
    assert passphrase_strength("")[0] == 0
    assert passphrase_strength("abc")[1] == "Too short"
    assert passphrase_strength("password123")[0] <= 1
    assert passphrase_strength("aaaaaaaaaaaa")[0] <= 1
    assert passphrase_strength("tulip orbit canyon seventy")[0] == 4
    assert passphrase_strength("Xk#9v!Lq2@wZ")[0] >= 3
