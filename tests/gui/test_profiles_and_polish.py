"""Profiles edited and deleted in the app; the View menu, date typing and plural wording."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from ohvault.gui.dates import DateEdit
from tests.gui.conftest import run_op, wait_idle


def test_edit_profile_dialog_saves_name_birth_date_and_sex(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    dialog = window.edit_profile()
    assert dialog.name.text() == "Alex Example"
    dialog.name.setText("")
    dialog.accept()
    assert "needs a name" in dialog.error.text() and dialog.isVisible()
    dialog.name.setText("Alex Q. Example")
    dialog.birth_date.set_value(date(1990, 5, 17))
    dialog.sex.setCurrentIndex(dialog.sex.findData("female"))
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    wait_idle(qtbot, window)
    profile = run_op(qtbot, window, lambda ctx: ctx.vault.repo.profile(window.session.profile_id))
    assert (profile.name, profile.birth_date, profile.sex) == (
        "Alex Q. Example",
        date(1990, 5, 17),
        "female",
    )
    assert window.profile_box.currentText() == "Alex Q. Example"
    assert window.session.profile.sex == "female"


def test_a_rename_to_a_taken_name_is_shown_in_the_dialog(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.session.add_profile("Sam Example")
    wait_idle(qtbot, window)
    dialog = window.edit_profile()  # Sam is now current
    dialog.name.setText("Alex Example")
    dialog.accept()
    qtbot.waitUntil(lambda: "already has that name" in dialog.error.text(), timeout=5_000)
    assert dialog.isVisible()
    dialog.reject()


def test_delete_profile_needs_its_name_typed(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    first = window.session.profile_id
    window.session.add_profile("Sam Example")
    wait_idle(qtbot, window)
    sam = window.session.profile_id
    assert sam != first
    dialog = window.delete_profile()
    assert not dialog.delete_button.isEnabled()
    dialog.typed.setText("sam example")
    assert not dialog.delete_button.isEnabled()
    dialog.typed.setText("Sam Example")
    assert dialog.delete_button.isEnabled()
    dialog.delete_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    wait_idle(qtbot, window)
    assert [p.id for p in window.session.profiles] == [first]
    assert window.session.profile_id == first
    entries = run_op(qtbot, window, lambda ctx: ctx.vault.audit.entries())
    assert any(
        e.action == "delete" and e.record_type == "profile" and e.record_id == sam for e in entries
    )

    # The last profile is kept: the core refuses and the dialog says why.
    last = window.delete_profile()
    last.typed.setText("Alex Example")
    last.delete_button.click()
    qtbot.waitUntil(lambda: "only profile" in last.error.text(), timeout=5_000)
    last.reject()


def test_view_menu_escapes_ampersands_and_hides_clinician_screens(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    conditions = window.named_actions["view:Conditions & allergies"]
    assert conditions.text() == "Conditions && allergies"  # shown as "Conditions & allergies"
    assert not window.named_actions["view:Patients"].isVisible()
    assert window.named_actions["view:Dashboard"].isVisible()


def test_typing_a_date_after_tabbing_in_gives_that_date(qtbot: Any) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    col = QVBoxLayout(host)
    before, edit = QLineEdit(), DateEdit()
    col.addWidget(before)
    col.addWidget(edit)
    host.show()
    host.activateWindow()
    qtbot.waitExposed(host)
    for typed, expected in (
        ("2024-06-01", date(2024, 6, 1)),
        ("2019/12/31", date(2019, 12, 31)),
        ("20230704", date(2023, 7, 4)),
    ):
        before.setFocus()
        qtbot.waitUntil(before.hasFocus, timeout=2_000)
        qtbot.keyClick(before, Qt.Key.Key_Tab)
        qtbot.waitUntil(edit.hasFocus, timeout=2_000)
        qtbot.keyClicks(edit, typed)
        assert edit.value() == expected, typed


def test_spin_box_suffixes_follow_the_count(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.show_view("Settings")
    wait_idle(qtbot, window)
    settings = window.view("Settings")
    settings.autolock.setValue(1)
    assert settings.autolock.text() == "1 minute"
    settings.autolock.setValue(5)
    assert settings.autolock.text() == "5 minutes"


def _colours_in(widget: Any) -> set[str]:
    image = widget.grab().toImage()
    return {
        image.pixelColor(x, y).name()
        for x in range(0, image.width())
        for y in range(0, image.height())
    }


def test_dark_theme_table_checkboxes_have_a_visible_box(qtbot: Any, qapp: Any) -> None:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from ohvault.gui import theme

    colours = theme.apply(qapp, "dark")
    try:
        for state, expected in (
            (Qt.CheckState.Unchecked, colours.muted),  # the box's outline
            (Qt.CheckState.Checked, colours.accent),  # a filled box with a tick
        ):
            model = QStandardItemModel(1, 1)
            item = QStandardItem("")
            item.setCheckable(True)
            item.setCheckState(state)
            model.setItem(0, 0, item)
            table = QTableView()
            qtbot.addWidget(table)
            table.setModel(model)
            table.resize(200, 80)
            table.show()
            qtbot.waitExposed(table)
            assert expected in _colours_in(table.viewport()), state
    finally:
        theme.apply(qapp, "light")


def test_message_boxes_use_the_apps_icons(qapp: Any) -> None:
    from PySide6.QtWidgets import QStyle

    from ohvault.gui import theme

    colours = theme.apply(qapp, "light")
    warning = qapp.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
    image = warning.pixmap(32, 32).toImage()
    drawn = {
        image.pixelColor(x, y).name()
        for x in range(32)
        for y in range(32)
        if image.pixelColor(x, y).alpha() == 255
    }
    assert colours.warn in drawn  # our outline icon in the theme's warning colour


def test_an_error_under_a_form_never_covers_the_fields(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.show_view("Medications")
    wait_idle(qtbot, window)
    dialog = window.view("Medications").tables[0].add()
    qtbot.waitExposed(dialog)
    note = dialog.inputs["note"]
    long_text = "The stop date cannot be before the start date. " * 6  # wraps over lines
    dialog.error.setText(long_text)
    qtbot.wait(50)
    error = dialog.error.geometry()
    assert error.height() >= dialog.error.heightForWidth(error.width()) - 1
    note_bottom = note.mapTo(dialog, note.rect().bottomLeft()).y()
    assert error.top() > note_bottom
    assert error.bottom() <= dialog.height()
    dialog.reject()


def test_form_dialogs_are_wide_enough_for_their_title(qtbot: Any) -> None:
    from PySide6.QtWidgets import QDialog, QFormLayout

    from ohvault.gui.widgets import FORM_DIALOG_MIN_WIDTH, lay_out_form_dialog

    dialog = QDialog()
    qtbot.addWidget(dialog)
    dialog.setWindowTitle("Correct this result")
    form = QFormLayout()
    form.addRow("Unit", QLineEdit("mmol/L"))
    lay_out_form_dialog(dialog, form)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() >= FORM_DIALOG_MIN_WIDTH


def test_notes_are_read_and_written_in_the_app(qtbot: Any, unlocked: Any) -> None:
    from ohvault.model import Note

    window = unlocked
    pid = window.session.profile_id
    run_op(
        qtbot,
        window,
        lambda ctx: ctx.vault.repo.add(
            Note(profile_id=pid, text="Written with the CLI\nsecond line", noted=date(2025, 1, 2))
        ),
        ("note",),
    )
    window.show_view("Notes")
    wait_idle(qtbot, window)
    table = window.view("Notes").tables[0]
    assert table.model.rowCount() == 1
    assert table.model.data(table.model.index(0, 1)) == "Written with the CLI"
    dialog = table.add()
    dialog.inputs["text"].setPlainText("Ask about the cholesterol result")
    dialog.accept()
    qtbot.waitUntil(lambda: table.model.rowCount() == 2, timeout=5_000)
    stored = run_op(qtbot, window, lambda ctx: ctx.vault.repo.records(Note, pid))
    assert {n.text for n in stored} == {
        "Written with the CLI\nsecond line",
        "Ask about the cholesterol result",
    }
    assert next(n for n in stored if n.text.startswith("Ask")).noted == date.today()
    # The sidebar lists Notes right after Immunizations.
    titles = [
        window.nav.item(r).text()
        for r in range(window.nav.count())
        if not window.nav.isRowHidden(r)
    ]
    assert titles[titles.index("Immunizations") + 1] == "Notes"


def test_enter_in_repeat_passphrase_creates_the_vault(qtbot: Any, make_window: Any) -> None:
    from tests.gui.conftest import PASSPHRASE

    window = make_window()
    wizard = window.wizard
    wizard.name.setText("Alex Example")
    wizard.next1.click()
    wizard.pass1.setText(PASSPHRASE)
    wizard.pass2.setText(PASSPHRASE[:-1])
    qtbot.keyClick(wizard.pass2, Qt.Key.Key_Return)
    assert wizard.stack.currentIndex() == 1  # the two differ: nothing happens but the message
    wizard.pass2.setText(PASSPHRASE)
    qtbot.keyClick(wizard.pass2, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wizard.stack.currentIndex() == 3, timeout=15_000)


def test_switching_to_the_recovery_key_drops_the_wrong_passphrase_message(
    qtbot: Any, make_window: Any, keychain: Any
) -> None:
    from tests.gui.conftest import create_through_wizard

    first = make_window()
    create_through_wizard(qtbot, first)
    vault_id = first.session.executor.vault.vault_id
    first.close()
    keychain.delete(vault_id)
    window = make_window()
    page = window.unlock_page
    qtbot.waitUntil(lambda: page.secret.isVisible(), timeout=15_000)
    page.secret.setText("not the passphrase")
    page.unlock_button.click()
    qtbot.waitUntil(lambda: "does not unlock" in page.status.text(), timeout=15_000)
    page.use_recovery.setChecked(True)
    assert "does not unlock" not in page.status.text()
    assert page.secret.text() == ""


def test_choices_read_as_sentences_and_store_their_code(qtbot: Any, unlocked: Any) -> None:
    from ohvault.model import MedicationStatement

    window = unlocked
    window.show_view("Medications")
    wait_idle(qtbot, window)
    table = window.view("Medications").tables[0]
    dialog = table.add()
    status = dialog.inputs["status"]
    shown = [status.itemText(i) for i in range(status.count())]
    assert shown[:4] == ["Active", "Completed", "Stopped", "On hold"]
    # FHIR statuses kept on import (intended, not taken, ...) read as words too, never codes.
    assert all("-" not in s and s[0].isupper() for s in shown)
    dialog.inputs["name"].setText("Synthetic tablet")
    status.setCurrentIndex(shown.index("On hold"))
    dialog.accept()
    qtbot.waitUntil(lambda: table.model.rowCount() == 1, timeout=5_000)
    pid = window.session.profile_id
    [med] = run_op(qtbot, window, lambda ctx: ctx.vault.repo.records(MedicationStatement, pid))
    assert med.status == "on-hold"
    edit = table.dialog(med)
    assert edit.inputs["status"].currentText() == "On hold"


def test_enter_in_repeat_new_passphrase_changes_it(qtbot: Any, unlocked: Any) -> None:
    from tests.gui.conftest import PASSPHRASE

    window = unlocked
    window.show_view("Settings")
    wait_idle(qtbot, window)
    dialog = window.view("Settings").change_passphrase()
    qtbot.waitExposed(dialog)
    new = "granite meadow lantern ninety"
    dialog.current.setText(PASSPHRASE)
    dialog.new1.setText(new)
    dialog.new2.setText(new)
    dialog.new2.setFocus()
    qtbot.keyClick(dialog.new2, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=15_000)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert window.statusBar().currentMessage() == "Passphrase changed."


def test_the_profile_switcher_offers_to_edit_this_profile(qtbot: Any, unlocked: Any) -> None:
    from ohvault.gui.mainwindow import EDIT_PROFILE
    from ohvault.gui.profiles import ProfileDialog

    window = unlocked
    box = window.profile_box
    index = box.findData(EDIT_PROFILE)
    assert index >= 0 and box.itemText(index) == "Edit this profile…"
    box.activated.emit(index)
    dialogs = [d for d in window.findChildren(ProfileDialog) if d.isVisible()]
    assert len(dialogs) == 1 and dialogs[0].name.text() == "Alex Example"
    assert box.currentData() == window.session.profile_id  # the switcher still shows the profile
    dialogs[0].reject()
