"""Shortcuts, accessible names, remembered geometry and view, errors as dialogs, lazy start-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QWidget

from ohvault.errors import BadInput
from ohvault.gui.views import VIEWS
from tests.gui.conftest import wait_idle


def test_shortcuts_switch_views_and_are_listed_in_help(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    listed = dict(window.shortcut_list())
    for action in ("Lock", "Import lab reports", "Add measurement", "Find results", "Undo"):
        assert action in listed, action
    assert listed["Lock"] == "Ctrl+L"
    window.named_actions["view:Trends"].trigger()
    assert window.current_view.title == "Trends"
    assert window.named_actions["view:Trends"].shortcut().toString() == "Ctrl+4"
    from ohvault.gui.about import AboutDialog, ShortcutsDialog

    window.show_shortcuts()
    dialog = window.findChildren(ShortcutsDialog)[-1]
    assert dialog.table.rowCount() == len(listed)
    window.show_about()
    about = window.findChildren(AboutDialog)[-1]
    text = " ".join(
        w.text()
        for w in about.findChildren(__import__("PySide6.QtWidgets", fromlist=["QLabel"]).QLabel)
    )
    assert "0.1.0" in text or "ohvault" in text
    assert "GPL-3.0-or-later" in text and "LGPL-3.0" in text


def test_every_interactive_widget_has_an_accessible_name(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    for i in range(len(VIEWS)):
        window.show_view(i)
    wait_idle(qtbot, window)
    missing = []
    for widget in window.findChildren(QWidget):
        if (
            not isinstance(widget, QAbstractButton | QLineEdit | QComboBox)
            or widget.window() is not window
        ):
            continue
        parent = widget.parent()
        if widget.objectName().startswith("qt_") or (
            parent is not None
            and (
                parent.inherits("QAbstractSpinBox")
                or parent.inherits("QComboBox")
                or parent.inherits("QLineEdit")
            )
        ):
            continue  # Qt's own parts (a spin box's editor, a line edit's clear button) are named by their owner
        name = widget.accessibleName() or (
            widget.text() if isinstance(widget, QAbstractButton) else ""
        )
        if not name.strip():
            missing.append(
                f"{type(widget).__name__} {widget.objectName()!r} in {type(parent).__name__}"
            )
    assert missing == [], "\n".join(missing)


def test_geometry_and_last_view_are_remembered_without_phi(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    from tests.gui.conftest import create_through_wizard

    window = make_window()
    create_through_wizard(qtbot, window, name="Alex Example")
    window.resize(1111, 700)
    window.show_view("Medications")
    window.close()
    store = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    assert store.value("window/view") == "Medications"
    again = make_window(size=None)
    qtbot.waitUntil(lambda: again.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, again)
    assert again.current_view.title == "Medications"
    # (The offscreen screen is 800x600, so the restored size is clamped; the bytes are what we store.)
    assert len(bytes(store.value("window/geometry"))) > 20
    raw = (tmp_path / "gui.ini").read_bytes()
    assert b"Alex" not in raw and again.session.profile_id.encode() not in raw


def test_errors_reach_the_user_as_plain_messages(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    seen: list[Any] = []
    window.session.bridge.message.connect(seen.append)

    def boom(ctx: Any) -> None:
        raise ValueError("value 7.3 for Alex Example")  # a foreign error quoting data

    def bad(ctx: Any) -> None:
        raise BadInput("That date is not valid.", hint="Use YYYY-MM-DD.")

    window.session.executor.run(boom, label="Testing")
    window.session.executor.run(bad, label="Testing")
    wait_idle(qtbot, window)
    assert [m.level for m in seen] == ["error", "error"]
    assert (
        "Alex" not in seen[0].text + seen[0].details and "7.3" not in seen[0].text + seen[0].details
    )
    assert "Traceback" not in seen[0].details
    assert seen[1].text == "That date is not valid." and seen[1].details == "Use YYYY-MM-DD."


def test_results_from_before_a_lock_are_dropped(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    got: list[Any] = []
    window.session.executor.run(lambda ctx: ctx.vault.repo.profiles(), success=got.append)
    window.lock()
    wait_idle(qtbot, window)
    assert got == []


def test_start_up_does_not_load_matplotlib_or_pdfplumber(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["OHVAULT_CONFIG_DIR"] = {str(tmp_path / "cfg")!r}
        from pathlib import Path
        from ohvault.gui.app import create_app
        app = create_app()
        from ohvault.gui.mainwindow import MainWindow
        w = MainWindow(home=Path({str(tmp_path / "vault")!r}), interactive=False)
        w.show()
        app.processEvents()
        heavy = [m for m in ("matplotlib", "pdfplumber", "pypdfium2", "fpdf") if m in sys.modules]
        print(",".join(heavy) or "none")
        w.close()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "none"
