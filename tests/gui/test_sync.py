"""Sync in the GUI (issue 6) against the real sync server on 127.0.0.1.

Turn on from Settings (new account), status in the status bar, Sync now (F5),
pairing a second device (the core client) with the code the GUI shows, and a
conflict resolved from the Conflicts view with both versions side by side.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from ohvault.gui.sync_ui import describe_status
from ohvault.model import Observation
from ohvault.sync import SyncClient, SyncStatus
from tests.gui.conftest import run_op, wait_idle

PASSWORD = "correct horse battery staple"


def _idle_sync(qtbot: Any, window: Any) -> None:
    controller = window.session.sync
    qtbot.waitUntil(lambda: controller.job is None and not controller.lane.busy, timeout=20_000)
    wait_idle(qtbot, window)


def test_sync_settings_status_pairing_and_conflict_resolution(
    qtbot: Any, unlocked: Any, gui_sync_server: Any, make_vault: Any, tmp_path: Path
) -> None:
    window = unlocked
    indicator = window.sync_indicator
    assert not indicator.isVisible()  # sync off: nothing in the status bar
    assert window.nav.isRowHidden(window._nav_order.index(window._view_index("Sync conflicts")))
    settings = window.view("Settings")
    window.show_view("Settings")
    wait_idle(qtbot, window)
    panel = settings.sync_panel
    assert panel.stack.currentIndex() == 0
    user = f"gui-{secrets.token_hex(5)}"
    panel.url.setText(gui_sync_server.url)
    panel.username.setText(user)
    panel.password.setText("")
    panel.register_button.click()
    assert "account name and password" in panel.error.text()  # nothing sent
    panel.password.setText(PASSWORD)
    panel.register_button.click()
    qtbot.waitUntil(lambda: window.session.sync_enabled, timeout=20_000)
    _idle_sync(qtbot, window)
    qtbot.waitUntil(lambda: "Synced" in indicator.text(), timeout=10_000)
    assert panel.stack.currentIndex() == 1 and panel.password.text() == ""
    assert window.session.sync.timer.isActive()  # periodic sync while enabled

    pid = window.session.profile_id
    obs = Observation(
        profile_id=pid, analyte="Glucose", value_num=5.2, unit="mmol/L",
        effective=date(2025, 4, 1),
    )  # fmt: skip
    run_op(qtbot, window, lambda ctx: ctx.vault.repo.add(obs), ("observation",))
    qtbot.waitUntil(lambda: "1 pending" in indicator.text(), timeout=10_000)
    # The app never waits for the network to save: the write above went through while
    # sync was enabled, and the soon-sync timer is only armed, not run.
    assert window.session.sync.soon.isActive()
    window.named_actions["sync_now"].trigger()
    _idle_sync(qtbot, window)
    qtbot.waitUntil(lambda: "pending" not in indicator.text(), timeout=10_000)

    panel.show_pairing_code()
    _idle_sync(qtbot, window)
    code = panel.last_pairing_code
    assert code in panel.pairing_code.text()

    other, _ = make_vault(home=tmp_path / "laptop", profile_name=None)
    laptop = SyncClient(other)
    laptop.join(gui_sync_server.url, user, PASSWORD, pairing_code=code)
    laptop.sync()
    theirs = other.repo.get(Observation, pid, obs.id)
    assert theirs.value_num == 5.2

    # Both devices change the same value before syncing: a conflict.
    theirs.value_num = 8.8
    other.repo.update(theirs)
    laptop.sync()
    mine = dataclasses.replace(obs, value_num=7.7)
    run_op(qtbot, window, lambda ctx: ctx.vault.repo.update(mine), ("observation",))
    window.sync_now()
    _idle_sync(qtbot, window)
    qtbot.waitUntil(lambda: "1 conflict" in indicator.text(), timeout=10_000)
    row = window._nav_order.index(window._view_index("Sync conflicts"))
    assert not window.nav.isRowHidden(row)
    view = window.view("Sync conflicts")
    window.show_view("Sync conflicts")
    wait_idle(qtbot, window)
    assert view.model.rowCount() == 1
    cells = {
        view.compare.item(r, 0).text(): (
            view.compare.item(r, 1).text(),
            view.compare.item(r, 2).text(),
        )
        for r in range(view.compare.rowCount())
    }
    shown, other_value = cells["value num"]
    assert {shown, other_value} == {"7.7", "8.8"}
    assert cells["analyte"] == ("Glucose", "Glucose")
    view.keep_other.click()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=10_000)
    kept = run_op(qtbot, window, lambda ctx: ctx.vault.repo.get(Observation, pid, obs.id))
    assert kept.value_num == float(other_value)
    window.sync_now()
    _idle_sync(qtbot, window)
    laptop.sync()
    assert other.repo.get(Observation, pid, obs.id).value_num == float(other_value)
    assert laptop.conflicts() == []

    # Turning sync off keeps the records and hides the status.
    window.session.bridge.answer = lambda title, text: True
    panel.disable()
    _idle_sync(qtbot, window)
    qtbot.waitUntil(lambda: not window.session.sync_enabled, timeout=10_000)
    qtbot.waitUntil(lambda: not indicator.isVisible(), timeout=10_000)
    assert not window.session.sync.timer.isActive()


def test_status_bar_text_for_offline_and_errors() -> None:
    base = SyncStatus(enabled=True, state="idle", pending_changes=0, last_sync_at=None)
    assert describe_status(SyncStatus(enabled=False, state="off")) == ("", "")
    assert describe_status(base)[0] == "⟳ Synced never"
    offline = dataclasses.replace(
        base, state="offline", pending_changes=3, last_error="The sync server cannot be reached."
    )
    text, tip = describe_status(offline)
    assert text == "⟳ Offline · 3 pending" and "cannot be reached" in tip
    assert describe_status(dataclasses.replace(base, state="login-required"))[0].startswith(
        "⟳ Log in"
    )
