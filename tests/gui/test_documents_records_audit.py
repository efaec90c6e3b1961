"""Documents (in-app viewing, export only after a warning), record dialogs, the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ohvault.model import MedicationStatement
from tests.gui.conftest import populate, run_op, wait_idle


def test_documents_are_viewed_from_memory_and_exported_only_after_the_warning(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Documents")
    wait_idle(qtbot, window)
    view = window.view("Documents")
    assert view.model.rowCount() == 1
    view.table.selectRow(0)
    wait_idle(qtbot, window)
    assert view.right.currentWidget() is view.viewer
    assert view.viewer.doc is not None and len(view.viewer.doc) == 1
    assert view.viewer.canvas.image is not None and not view.viewer.canvas.image.isNull()
    before = set(tmp_path.rglob("*"))
    out = tmp_path / "export" / "report.pdf"
    out.parent.mkdir()
    asked: list[str] = []
    window.session.bridge.answer = lambda title, text: asked.append(text) or False
    assert view.export_to(out) is False
    assert not out.exists() and "not encrypted" in asked[0]
    assert set(tmp_path.rglob("*")) - before == {out.parent}  # viewing wrote nothing to disk
    window.session.bridge.answer = lambda title, text: True
    assert view.export_to(out) is True
    doc, content = view.current
    assert out.read_bytes() == content and content.startswith(b"%PDF")
    wait_idle(qtbot, window)
    entries = run_op(qtbot, window, lambda ctx: ctx.vault.audit.entries(action="export"))
    assert [e.record_id for e in entries] == [doc.id]


def test_medication_dialog_validates_and_edits_are_undoable(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.show_view("Medications")
    wait_idle(qtbot, window)
    table = window.view("Medications").tables[0]
    assert table.stack.currentWidget() is table.empty
    dialog = table.add()
    dialog.accept()
    assert dialog.isVisible() and "required" in dialog.error.text()
    dialog.inputs["name"].setText("Metformin")
    dialog.inputs["dosage"].setText("500 mg twice daily")
    dialog.inputs["start"].enabled.setChecked(True)
    dialog.inputs["start"].edit.setDate(date(2024, 5, 1))
    dialog.inputs["end"].enabled.setChecked(True)
    dialog.inputs["end"].edit.setDate(date(2024, 3, 1))
    dialog.accept()
    assert dialog.isVisible() and "before the start" in dialog.error.text()
    dialog.inputs["end"].edit.setDate(date(2024, 9, 1))
    dialog.accept()
    assert "not active" in dialog.error.text()
    dialog.inputs["status"].setCurrentText("Completed")
    dialog.accept()
    assert not dialog.isVisible()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: table.model.rowCount() == 1)
    med = table.model.rows[0]
    assert isinstance(med, MedicationStatement)
    assert (med.name, med.status, med.start, med.end) == (
        "Metformin",
        "completed",
        date(2024, 5, 1),
        date(2024, 9, 1),
    )
    table.table.selectRow(0)
    edit = table.edit_selected()
    assert edit.inputs["dosage"].text() == "500 mg twice daily"
    edit.inputs["dosage"].setText("1000 mg daily")
    edit.accept()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: table.model.rows[0].dosage == "1000 mg daily")
    window.named_actions["undo"].trigger()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: table.model.rows[0].dosage == "500 mg twice daily")


def test_immunization_requires_a_date_not_in_the_future(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.show_view("Immunizations")
    wait_idle(qtbot, window)
    table = window.view("Immunizations").tables[0]
    dialog = table.add()
    dialog.inputs["vaccine"].setText("Influenza")
    dialog.inputs["occurrence"].edit.setDate(date.today().replace(year=date.today().year + 1))
    dialog.accept()
    assert "future" in dialog.error.text()
    dialog.inputs["occurrence"].edit.setDate(date(2024, 10, 2))
    dialog.accept()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: table.model.rowCount() == 1)


def test_audit_log_filters_and_verifies_the_chain(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Audit log")
    wait_idle(qtbot, window)
    view = window.view("Audit log")
    total = view.proxy.rowCount()
    assert total > 5
    view.action.setCurrentIndex(view.action.findData("unlock"))
    assert 0 < view.proxy.rowCount() < total
    view.verify_button.click()
    wait_idle(qtbot, window)
    assert view.last_report is not None and view.last_report.ok
    assert "intact" in view.result.text()
    # Break the chain behind the app's back: verification says so.
    run_op(
        qtbot,
        window,
        lambda ctx: ctx.vault.db.execute("UPDATE audit_log SET action = 'tampered' WHERE seq = 2"),
    )
    view.verify_button.click()
    wait_idle(qtbot, window)
    assert not view.last_report.ok and "broken at entry 2" in view.result.text()
