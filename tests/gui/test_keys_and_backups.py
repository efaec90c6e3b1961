"""Settings → Keys and Backups: change passphrase, new recovery key, rotate, back up now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ohvault.gui.keys import RecoveryKeyDialog
from ohvault.keys import recovery
from tests.gui.conftest import PASSPHRASE, run_op, wait_idle

NEW_PASSPHRASE = "harbour pencil quartz ember"


def _recovery_dialog(qtbot: Any, window: Any, seen: int) -> RecoveryKeyDialog:
    qtbot.waitUntil(lambda: len(window.findChildren(RecoveryKeyDialog)) > seen, timeout=15_000)
    return window.findChildren(RecoveryKeyDialog)[-1]


def test_passphrase_recovery_key_rotation_and_backup_from_settings(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    settings = window.view("Settings")
    window.show_view("Settings")
    wait_idle(qtbot, window)
    assert settings.backup_where.text().endswith("backups")
    assert settings.last_backup.text() == "No backup yet."

    # Change passphrase: the current one is checked, the new one confirmed.
    dialog = settings.change_passphrase()
    dialog.current.setText("not my passphrase")
    dialog.new1.setText(NEW_PASSPHRASE)
    dialog.new2.setText(NEW_PASSPHRASE + "x")
    assert not dialog.ok_button.isEnabled() and "differ" in dialog.error.text()
    dialog.new2.setText(NEW_PASSPHRASE)
    assert dialog.meter.score >= 3
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "current passphrase" in dialog.error.text(), timeout=10_000)
    assert dialog.isVisible()
    dialog.current.setText(PASSPHRASE)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.new1.text() == ""  # secrets do not linger in the widgets
    ok = run_op(
        qtbot,
        window,
        lambda ctx: (
            ctx.vault.verify_passphrase(NEW_PASSPHRASE),
            ctx.vault.verify_passphrase(PASSPHRASE),
        ),
    )
    assert ok == (True, False)

    # A new recovery key is shown once and must be confirmed as stored.
    window.session.bridge.answer = lambda title, text: True
    settings.new_recovery_key()
    shown = _recovery_dialog(qtbot, window, 0)
    key = shown.recovery_key
    recovery.parse(key)
    assert not shown.done_button.isEnabled()
    shown.reject()  # Escape does not lose the only copy
    assert shown.isVisible()
    shown.stored.setChecked(True)
    shown.done_button.click()
    assert not shown.isVisible() and shown.recovery_key == ""

    # Rotating the key needs the passphrase and issues yet another recovery key.
    rotate = settings.rotate_key()
    assert not rotate.ok_button.isEnabled()
    rotate.confirm_box.setChecked(True)
    rotate.passphrase.setText(NEW_PASSPHRASE)
    rotate.ok_button.click()
    rotated = _recovery_dialog(qtbot, window, 1)
    new_key = rotated.recovery_key
    assert new_key and new_key != key
    rotated.stored.setChecked(True)
    rotated.done_button.click()
    status = run_op(qtbot, window, lambda ctx: ctx.vault.status())
    assert status["recovery_unconfirmed"] is False

    # Back up now: off the GUI thread, then the time and place are shown.
    job = settings.run_backup()
    assert settings.backup_bar.isVisible() and not settings.backup_now.isEnabled()
    qtbot.waitUntil(lambda: job.finished, timeout=15_000)
    wait_idle(qtbot, window)
    assert not settings.backup_bar.isVisible()
    assert settings.last_backup.text().startswith("Last backup:")
    folder = Path(settings.backup_where.text())
    assert len(list(folder.glob("*.ohvbackup"))) == 1

    # The rotated vault opens with the new recovery key.
    window.lock("user")
    wait_idle(qtbot, window)
    page = window.unlock_page
    page.use_recovery.setChecked(True)
    page.secret.setText(new_key)
    page.submit()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
