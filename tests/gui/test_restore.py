"""Settings → Backups → Restore…: whose backup, what it holds, another vault only when confirmed,
the replaced vault kept until the next unlock, and the app reopens on the restored records."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from ohvault.gui.restore import RestoreDialog
from ohvault.keys.keychain import Keychain
from ohvault.model import Observation
from ohvault.vault import Vault, VaultFiles
from ohvault.vault.backup import create_backup
from tests.gui.conftest import PASSPHRASE, run_op, wait_idle


def _add(qtbot: Any, window: Any, value: float) -> None:
    pid = window.session.profile_id

    def op(ctx: Any) -> None:
        ctx.vault.repo.add(
            Observation(
                profile_id=pid,
                analyte="Ferritin",
                value_num=value,
                unit="ug/L",
                effective=date(2026, 3, 1),
            )
        )

    run_op(qtbot, window, op, ("observation",))


def _values(qtbot: Any, window: Any) -> list[float]:
    return sorted(
        run_op(
            qtbot,
            window,
            lambda ctx: [r[0] for r in ctx.vault.db.execute("SELECT value_num FROM observations")],
        )
    )


def _backup(qtbot: Any, window: Any, where: Path) -> Path:
    return Path(run_op(qtbot, window, lambda ctx: create_backup(ctx.vault, where).path))


def _open_dialog(qtbot: Any, window: Any) -> RestoreDialog:
    window.show_view("Settings")
    wait_idle(qtbot, window)
    dialog = window.view("Settings").restore()
    assert isinstance(dialog, RestoreDialog)
    return dialog


def _pick(qtbot: Any, window: Any, dialog: RestoreDialog, path: Path) -> None:
    dialog.select(path)
    qtbot.waitUntil(lambda: dialog.details is not None, timeout=15_000)
    wait_idle(qtbot, window)


def test_restore_keeps_a_safety_copy_and_reopens_on_the_restored_records(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    home = window.session.home
    _add(qtbot, window, 10)
    _backup(qtbot, window, home / "backups" / "ohvault-test.ohvbackup")
    _add(qtbot, window, 20)
    assert _values(qtbot, window) == [10, 20]

    dialog = _open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.details is not None, timeout=15_000)
    wait_idle(qtbot, window)
    # The backup in the vault's own folder is listed, unlocked with the keychain, and counted.
    assert dialog.backups.currentText() == "ohvault-test.ohvbackup"
    assert dialog.vault_line.text().startswith("This vault")
    assert "1 profile" in dialog.counts_line.text() and "1 result" in dialog.counts_line.text()
    assert dialog.date_line.text()[:2] == "20"
    assert not dialog.other_box.isVisible() and dialog.restore_button.isEnabled()
    dialog.grab().save(str(tmp_path / "restore-dialog.png"))

    dialog.restore_button.click()
    assert not window.session.is_unlocked  # locked at once, before the files are replaced
    assert window.pages.currentWidget() is window.unlock_page
    assert not window.unlock_page.secret.isVisible()  # nothing to type while it restores
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    assert window.pages.currentWidget() is window.shell
    assert _values(qtbot, window) == [10]  # the app shows the restored vault
    actions = run_op(qtbot, window, lambda ctx: [e.action for e in ctx.vault.audit.entries()])
    assert "restore" in actions
    files = VaultFiles(home)
    assert (files.safety_copy / "vault.db").exists()  # kept until the next unlock

    window.lock("user")
    wait_idle(qtbot, window)
    page = window.unlock_page
    page.secret.setText(PASSPHRASE)
    page.submit()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    assert not files.safety_copy.exists()
    assert _values(qtbot, window) == [10]


def test_restore_of_another_vault_is_refused_until_confirmed(
    qtbot: Any, unlocked: Any, tmp_path: Path, keychain: Keychain, fast_kdf: Any
) -> None:
    window = unlocked
    _add(qtbot, window, 1)
    other, _ = Vault.create(tmp_path / "other", profile_name="Other Person", kdf=fast_kdf)
    try:
        backup = create_backup(other, tmp_path / "other.ohvbackup").path
        other_id = other.vault_id
    finally:
        other.lock()

    dialog = _open_dialog(qtbot, window)
    _pick(qtbot, window, dialog, backup)
    assert (
        dialog.vault_line.text().startswith("ANOTHER vault")
        and other_id in dialog.vault_line.text()
    )
    assert dialog.other_box.isVisible()
    assert not dialog.restore_button.isEnabled()
    assert "Tick the box" in dialog.check()
    assert not dialog.submit()  # refused: nothing happens
    assert window.session.is_unlocked and _values(qtbot, window) == [1]

    dialog.other_box.setChecked(True)
    assert dialog.restore_button.isEnabled()
    dialog.restore_button.click()
    qtbot.waitUntil(lambda: not window.session.is_unlocked, timeout=5_000)
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    assert [p.name for p in window.session.profiles] == ["Other Person"]
    assert _values(qtbot, window) == []
    Vault.destroy(tmp_path / "other", keychain=keychain)


HOLDER = """
import sys
from pathlib import Path
from ohvault.vault import Vault
v = Vault.open(Path(sys.argv[1]), auto_backup=False)
print("open", flush=True)
sys.stdin.readline()
v.lock()
"""


def test_restore_while_another_process_has_the_vault_open_changes_nothing(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    home = window.session.home
    _add(qtbot, window, 5)
    _backup(qtbot, window, home / "backups" / "ohvault-test.ohvbackup")
    _add(qtbot, window, 6)
    dialog = _open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.details is not None, timeout=15_000)
    wait_idle(qtbot, window)

    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        dialog.restore_button.click()
        qtbot.waitUntil(
            lambda: any(m.title == "Restoring the backup" for m in window.session.bridge.history),
            timeout=15_000,
        )
        wait_idle(qtbot, window)
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
    message = [m for m in window.session.bridge.history if m.title == "Restoring the backup"][-1]
    assert f"pid {proc.pid}" in message.text
    assert not window.session.is_unlocked
    assert "not restored" in window.unlock_page.status.text()
    # The app is not left with a dead database: unlocking again shows the unchanged vault.
    page = window.unlock_page
    page.secret.setText(PASSPHRASE)
    page.submit()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    assert _values(qtbot, window) == [5, 6]


def test_rotation_in_the_app_is_refused_while_another_process_has_the_vault_open(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    home = window.session.home
    window.show_view("Settings")
    wait_idle(qtbot, window)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        rotate = window.view("Settings").rotate_key()
        rotate.confirm_box.setChecked(True)
        rotate.passphrase.setText(PASSPHRASE)
        rotate.ok_button.click()
        qtbot.waitUntil(lambda: "another ohvault process" in rotate.error.text(), timeout=15_000)
        assert f"pid {proc.pid}" in rotate.error.text()
        assert rotate.isVisible() and rotate.ok_button.isEnabled()
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
    # Nothing changed: the app goes on with the same key generation and its records.
    generation = run_op(qtbot, window, lambda ctx: ctx.vault.header.slots.generation)
    assert generation == 1
    rotate.ok_button.click()  # and once the other process is gone, it works
    qtbot.waitUntil(lambda: not rotate.isVisible(), timeout=15_000)
    wait_idle(qtbot, window)
    assert run_op(qtbot, window, lambda ctx: ctx.vault.header.slots.generation) == 2


def test_cli_restore_while_the_app_is_open_is_refused_and_the_app_keeps_working(
    qtbot: Any, unlocked: Any, monkeypatch: Any, capsys: Any
) -> None:
    """Before the lock, this swapped the files under the app: every later query failed with
    sqlite3.OperationalError. Now the command stops (exit 7) and the app goes on."""
    import io

    from ohvault.cli import io as cli_io
    from ohvault.cli.main import main
    from ohvault.errors import ExitCode

    window = unlocked
    home = window.session.home
    _add(qtbot, window, 7)
    backup = _backup(qtbot, window, home / "backups" / "ohvault-test.ohvbackup")
    _add(qtbot, window, 8)
    monkeypatch.setenv("OHVAULT_HOME", str(home))
    cli_io.reset_stdin()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["restore", "--yes", str(backup)]) == ExitCode.BUSY
    assert "open in another ohvault process" in capsys.readouterr().err
    assert _values(qtbot, window) == [7, 8]
    _add(qtbot, window, 9)
    assert _values(qtbot, window) == [7, 8, 9]
