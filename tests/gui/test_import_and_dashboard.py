"""Import synthetic lab PDFs: parse on the worker, review beside the page, commit, see the dashboard."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ohvault import demo
from tests.gui.conftest import run_op, wait_idle

ROWS = [
    ("Glucose", "126", "mg/dL", "70 - 99"),
    ("LDL cholesterol", "91", "mg/dL", "0 - 100"),
    ("Hemoglobin", "14.2", "g/dL", "13.5 - 17.5"),
    ("Frobnitz index", "3.3", "U/L", "1 - 5"),
]


def _pdf(
    tmp_path: Path,
    name: str,
    rows: list[tuple[str, str, str, str]] = ROWS,
    when: date = date(2025, 5, 2),
) -> Path:
    path = tmp_path / name
    path.write_bytes(demo._report_pdf("Metabolic panel", when, rows))
    return path


def _drop(window: Any, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPoint(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_drop_review_commit_updates_dashboard(qtbot: Any, unlocked: Any, tmp_path: Path) -> None:
    window = unlocked
    dash = window.view("Dashboard")
    window.show_view("Dashboard")
    wait_idle(qtbot, window)
    assert dash.tiles == []
    _drop(window, [_pdf(tmp_path, "a.pdf"), _pdf(tmp_path, "b.pdf", ROWS[:2], date(2025, 9, 1))])
    view = window.view("Import")
    assert window.current_view is view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    wait_idle(qtbot, window)
    names = [view.model.result(r).name for r in range(view.model.rowCount())]
    assert names[:3] == ["Glucose", "LDL cholesterol", "Hemoglobin"]
    # The table gets its room: no sideways scrolling, the short columns are never cut.
    qtbot.waitUntil(lambda: view.table.isVisible(), timeout=5_000)
    # Column sizing settles after the first layout pass, later on a loaded machine.
    qtbot.waitUntil(lambda: not view.table.horizontalScrollBar().isVisible(), timeout=5_000)
    for col in (3, 4, 5):  # result, flag, unit
        assert view.table.columnWidth(col) >= view.table.sizeHintForColumn(col)
    # The page is rendered from memory and the selected row's source is highlighted on it.
    assert view.viewer.doc is not None and view.viewer.canvas.image is not None
    view.table.selectRow(1)
    assert view.viewer.canvas.highlight == view.model.result(1).bbox
    # Unrecognised rows stand out and are not imported.
    unmatched_or_low = [
        r
        for r in range(view.model.rowCount())
        if view.model.result(r).name is None or view.model.result(r).confidence < 0.8
    ]
    unmapped = view.groups.unmapped_model.rowCount()
    assert view.unmatched.count() + len(unmatched_or_low) + unmapped >= 1
    assert not view.identity_banner.isVisible()  # "Alex Example" is on the report

    # Reject LDL, correct hemoglobin, then import.
    view.model.setData(
        view.model.index(1, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
    )
    view.table.selectRow(2)
    dialog = view.edit_selected()
    dialog.value.setText("15.1")
    dialog.accept()
    assert view.model.result(2).value_num == 15.1
    assert view.commit_button.text() == "Import 2 results"
    view.commit_button.click()
    # The second file follows in the queue.
    qtbot.waitUntil(
        lambda: view.pending is not None and view.pending.path.name == "b.pdf", timeout=20_000
    )
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    view.commit()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=20_000)
    wait_idle(qtbot, window)

    pid = window.session.profile_id
    stored = run_op(qtbot, window, lambda ctx: ctx.vault.repo.observations(pid))
    got = sorted((o.analyte, o.value_num, o.effective.isoformat()) for o in stored)
    assert ("Hemoglobin", 15.1, "2025-05-02") in got
    assert ("Glucose", 126.0, "2025-05-02") in got
    assert not any(a.startswith("LDL") and d == "2025-05-02" for a, _, d in got)
    docs = run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid))
    assert docs["document"] == 2

    window.show_view("Dashboard")
    wait_idle(qtbot, window)
    titles = [t.name for t in dash.data.tiles]
    assert set(titles) >= {"Glucose", "Hemoglobin"}
    # Out of range first: glucose 126 mg/dL is high.
    assert dash.data.tiles[0].name == "Glucose" and dash.data.tiles[0].flag == "H"
    assert dash.tiles[0].property("flagged") is True
    qtbot.waitUntil(lambda: all(t.unit_label.geometry().left() > 0 for t in dash.tiles))
    for tile in dash.tiles:  # the number never runs into its unit
        value, unit = tile.value_label.geometry(), tile.unit_label.geometry()
        assert value.width() >= tile.value_label.sizeHint().width()
        assert value.right() + 4 <= unit.left()
    assert len(dash.data.recent) == 2


def test_profile_mismatch_warning_and_confirmation(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    window.session.add_profile("Robin Sample")
    wait_idle(qtbot, window)
    assert window.session.profile.name == "Robin Sample"
    view = window.view("Import")
    window.show_view("Import")
    view.add_files([_pdf(tmp_path, "alex.pdf")])  # the report names Alex Example
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    wait_idle(qtbot, window)
    assert view.identity_banner.isVisible()
    assert "someone else" in view.identity_text.text()
    asked: list[str] = []
    window.session.bridge.answer = lambda title, text: asked.append(title) or False
    assert view.commit() is None  # declined: nothing stored
    assert asked
    pid = window.session.profile_id
    assert run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid))["observation"] == 0
    window.session.bridge.answer = lambda title, text: True
    view.commit()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=20_000)
    wait_idle(qtbot, window)
    assert run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid))["observation"] >= 2


def test_bad_file_is_a_clear_error_and_the_queue_goes_on(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"this is not a pdf at all")
    view = window.view("Import")
    window.show_view("Import")
    messages: list[Any] = []
    window.session.bridge.message.connect(messages.append)
    view.add_files([bad, _pdf(tmp_path, "good.pdf")])
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    assert len(messages) == 1 and messages[0].level == "error"
    assert "Traceback" not in messages[0].text and "PDF" in messages[0].text
    assert view.pending.path.name == "good.pdf"


def test_cancel_parsing(qtbot: Any, unlocked: Any, tmp_path: Path) -> None:
    from tests.labs.corpus import big_report

    window = unlocked
    big = tmp_path / "big.pdf"
    big.write_bytes(big_report(40))
    view = window.view("Import")
    window.show_view("Import")
    view.add_files([big])
    assert view.stack.currentWidget() is view.parsing
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=20_000)
    wait_idle(qtbot, window)
    assert view.pending is None


def test_the_same_file_twice_is_recognised_before_parsing_and_nothing_changes(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    window = unlocked
    view = window.view("Import")
    window.show_view("Import")
    pdf = _pdf(tmp_path, "once.pdf")
    view.add_files([pdf])
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    wait_idle(qtbot, window)
    view.commit()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=20_000)
    wait_idle(qtbot, window)
    # After the import the app shows what came in instead of an empty Import screen.
    assert window.current_view is window.view("Dashboard")
    pid = window.session.profile_id
    before = run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid))
    messages: list[Any] = []
    window.session.bridge.message.connect(messages.append)
    pages: list[Any] = []
    view.stack.currentChanged.connect(lambda _: pages.append(view.stack.currentWidget()))

    def no_parsing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a file imported before must not be parsed again")

    monkeypatch.setattr("ohvault.labs.parser.parse_pdf", no_parsing)
    window.show_view("Import")
    view.add_files([pdf])
    qtbot.waitUntil(lambda: bool(messages), timeout=20_000)
    wait_idle(qtbot, window)
    assert view.review not in pages and view.stack.currentWidget() is view.idle
    assert len(messages) == 1 and messages[0].level == "info"
    assert "once.pdf was imported before" in messages[0].text
    assert "nothing was changed" in messages[0].text
    assert run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid)) == before
    assert window.current_view is view  # nothing was imported: the screen stays


def test_scanned_report_is_offered_ocr_and_only_rows_that_agree_start_ticked(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    import pytest
    from PySide6.QtWidgets import QMessageBox

    from ohvault.labs.ocr import ocr_available
    from tests.labs.test_ocr import scanned_report

    if not ocr_available():
        pytest.skip("Tesseract is not installed (make test installs it)")
    window = unlocked
    view = window.view("Import")
    window.show_view("Import")
    asked: list[str] = []

    def answer_yes(*args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    monkeypatch.setattr(window.session.bridge, "interactive", True)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_report())
    view.add_files([scan])
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=30_000)
    assert asked and "text recognition" in asked[0]
    names = [r.name for r in view.pending.report.results]
    assert "Glucose" in names and view.pending.report.ocr
    # an OCR value is ticked only when everything about it agrees (Sodium); Glucose lies above
    # its range with no flag printed, so it waits for the user's tick
    ticked = {
        r.name
        for r, ok in zip(view.pending.report.results, view.pending.accepted, strict=True)
        if ok
    }
    assert ticked == {"Sodium"}
