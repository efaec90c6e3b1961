"""Auto-lock (idle timer, wall clock, screen lock over D-Bus) and profile isolation."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtDBus import QDBusConnection, QDBusMessage

from ohvault.gui.autolock import IdleWatcher
from tests.gui.conftest import populate, run_op, wait_idle


def test_idle_timer_locks_clears_views_and_unlock_returns_to_the_same_view(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Results")
    wait_idle(qtbot, window)
    results = window.view("Results")
    assert results.model.rowCount() > 0
    window.idle.set_timeout(0.4)
    with qtbot.waitSignal(window.session.locked, timeout=5_000) as blocker:
        pass
    assert blocker.args == ["idle"]
    assert window.pages.currentWidget() is window.unlock_page
    assert "inactivity" in window.unlock_page.status.text()
    assert results.model.rowCount() == 0
    assert all(v.stale for v in window.views)
    wait_idle(qtbot, window)
    assert window.session.executor.vault is None  # the database is closed
    window.unlock_page.retry.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    assert window.current_view is results
    assert window.pages.currentWidget() is window.shell
    assert results.model.rowCount() > 0


def test_idle_is_judged_by_wall_clock_too(qapp: Any, monkeypatch: Any) -> None:
    watcher = IdleWatcher(timeout_s=600, check_ms=60_000)
    watcher.start()
    fired: list[bool] = []
    watcher.expired.connect(lambda: fired.append(True))
    watcher.check()
    assert not fired
    # A suspended machine: the monotonic clock stood still while the wall clock ran on.
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    watcher.check()
    assert fired == [True]
    watcher.stop()


def test_screen_lock_signal_on_dbus_locks(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    bus = QDBusConnection.sessionBus()
    assert bus.isConnected()
    assert window.system_lock.connected
    # Addressed to this process only: other test workers share the session bus.
    signal = QDBusMessage.createTargetedSignal(
        bus.baseService(),
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver",
        "ActiveChanged",
    )
    signal.setArguments([True])
    with qtbot.waitSignal(window.session.locked, timeout=5_000) as blocker:
        bus.send(signal)
    assert blocker.args == ["screen"]


def test_switching_profiles_shows_no_other_profiles_data(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    populate(qtbot, window)
    alex = window.session.profile_id
    window.show_view("Results")
    wait_idle(qtbot, window)
    results = window.view("Results")
    assert results.model.rowCount() > 0
    window.session.add_profile("Robin Sample")
    wait_idle(qtbot, window)
    robin = window.session.profile_id
    assert robin != alex
    assert window.profile_box.currentText() == "Robin Sample"
    assert results.model.rowCount() == 0
    for title in ("Dashboard", "Documents", "Medications", "Trends"):
        window.show_view(title)
        wait_idle(qtbot, window)
    assert window.view("Dashboard").data.tiles == []
    assert window.view("Documents").model.rowCount() == 0
    assert window.view("Medications").tables[0].model.rowCount() == 0
    assert window.view("Trends").data.analytes == []
    # Everything the screens hold belongs to the current profile.
    assert all(o.profile_id == robin for o in results.model.rows)
    # Back to Alex through the switcher.
    window.profile_box.setCurrentIndex(window.profile_box.findData(alex))
    window.profile_box.activated.emit(window.profile_box.currentIndex())
    window.show_view("Results")
    wait_idle(qtbot, window)
    assert results.model.rowCount() > 0
    assert {o.profile_id for o in results.model.rows} == {alex}
    # The last profile is remembered in the vault for next time.
    assert run_op(qtbot, window, lambda ctx: ctx.vault.get_setting("gui_last_profile")) == alex


def test_auto_lock_setting_is_stored_in_the_vault_and_applied(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.show_view("Settings")
    wait_idle(qtbot, window)
    view = window.view("Settings")
    assert view.autolock.value() == 15  # the default
    assert window.idle.timeout_s == 15 * 60
    view.autolock.setValue(5)
    wait_idle(qtbot, window)
    assert window.idle.timeout_s == 5 * 60
    assert run_op(qtbot, window, lambda ctx: ctx.vault.get_setting("autolock_minutes")) == "5"
    view.autolock.setValue(0)  # never
    wait_idle(qtbot, window)
    assert not window.idle.armed
