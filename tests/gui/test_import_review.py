"""The import review with what real reports bring: no collection date, tests the catalog does not
know (mapped once, remembered), rows the importer doubts, a laboratory name to correct, repeats.

The PDFs are real and parsed for real; where today's parser does not return unmapped rows, the
parse result is extended with ParsedResult objects (the parser belongs to the lab-parsing work).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from ohvault import demo
from ohvault.gui.pdf_review import COL_FLAG, COL_NAME, COL_REF, COL_UNIT, COL_VALUE, MapToDialog
from ohvault.labs import sandbox
from ohvault.model import DiagnosticReport
from tests.gui.conftest import run_op, wait_idle
from tests.test_mappings import result

ROWS = [
    ("Glucose", "126", "mg/dL", "70 - 99"),
    ("Hemoglobin", "14.2", "g/dL", "13.5 - 17.5"),
]


def _pdf(tmp_path: Path, name: str, when: date = date(2025, 5, 2)) -> Path:
    path = tmp_path / name
    path.write_bytes(demo._report_pdf("Metabolic panel", when, ROWS))
    return path


def _undated_pdf(tmp_path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "", 10)
    pdf.cell(0, 6, "Example Laboratory Services", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "Patient: Alex Example", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for row in (("Test", "Result", "Unit", "Reference"), *ROWS):
        for text, width in zip(row, (70, 30, 30, 40), strict=True):
            pdf.cell(width, 7, text)
        pdf.ln()
    path = tmp_path / "undated.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def _extend_parse(monkeypatch: pytest.MonkeyPatch, extra: list[Any]) -> None:
    """Real parsing (in the sandboxed child, as the app does), plus rows added to its result."""
    real = sandbox.parse_pdf_isolated

    def parse(*args: Any, **kwargs: Any) -> Any:
        report = real(*args, **kwargs)
        return dataclasses.replace(report, results=[*report.results, *extra])

    monkeypatch.setattr(sandbox, "parse_pdf_isolated", parse)


def _review(qtbot: Any, window: Any, paths: list[Path]) -> Any:
    view = window.view("Import")
    window.show_view("Import")
    view.add_files(paths)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=20_000)
    wait_idle(qtbot, window)
    return view


def _commit(qtbot: Any, window: Any, view: Any) -> None:
    view.commit()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=20_000)
    wait_idle(qtbot, window)


def test_missing_collection_date_is_entered_on_the_review_screen(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    view = _review(qtbot, window, [_undated_pdf(tmp_path)])
    assert view.pending.report.collection_date is None
    assert view.date_banner.isVisible() and "collected" in view.date_text.text()
    # Nothing to guess from: importing waits for the date.
    assert not view.commit_button.isEnabled()
    assert view.commit() is None
    view.date_edit.setDate(view.date_edit.date().fromString("2024-06-01", "yyyy-MM-dd"))
    assert view.commit_button.isEnabled()
    _commit(qtbot, window, view)
    pid = window.session.profile_id
    stored = run_op(qtbot, window, lambda ctx: ctx.vault.repo.observations(pid))
    assert stored and {o.effective for o in stored} == {date(2024, 6, 1)}
    # Leaves the empty Import screen for the dashboard, whose recent imports show the report date.
    assert window.current_view is window.view("Dashboard")
    dash = window.view("Dashboard")
    qtbot.waitUntil(lambda: dash.data is not None and bool(dash.data.recent), timeout=10_000)
    assert dash.data.recent[0].when == date(2024, 6, 1)


def test_unmapped_test_mapped_in_review_is_remembered_for_the_next_import(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = unlocked
    extra = [
        result("Sugar, fasting (enzymatic)", 101.0, "mg/dL"),
        result("Sugar, fasting (enzymatic)", 95.0, "mg/dL", when=date(2025, 1, 3)),
        result("Lp-PLA2 Activity", 180.0, "nmol/min/mL"),
    ]
    _extend_parse(monkeypatch, extra)
    view = _review(qtbot, window, [_pdf(tmp_path, "first.pdf")])
    assert view.unmapped_table.isVisible()
    assert [r.result.printed_name for r in view.unmapped_model.rows] == [
        e.printed_name for e in extra
    ]
    assert not any(r.accepted for r in view.unmapped_model.rows)  # waits for the user
    # Each unmapped row shows its value and unit and has its own Map to… button.
    assert view.unmapped_model.data(view.unmapped_model.index(2, COL_VALUE)) == "180"
    assert view.unmapped_model.data(view.unmapped_model.index(2, COL_UNIT)) == "nmol/min/mL"
    buttons = [
        view.unmapped_table.indexWidget(view.unmapped_model.index(i, COL_NAME)) for i in range(3)
    ]
    assert all(b is not None and b.text() == "Map to…" for b in buttons)

    buttons[0].click()
    dialog = view.findChildren(MapToDialog)[-1]
    dialog.select("2345-7")  # by LOINC code
    assert dialog.matches.count() >= 1
    dialog.accept()
    # The mapping applies to this row and the rest of the file (the earlier-dated repeat too).
    qtbot.waitUntil(lambda: len(view.unmapped_model.rows) == 1, timeout=10_000)
    mapped = [r for r in view.model.rows if r.mapped]
    assert [(r.result.name, r.result.value) for r in mapped] == [
        ("Glucose", 101.0),
        ("Glucose", 95.0),
    ]
    assert all(r.accepted and r.result.confidence == 1.0 for r in mapped)

    view.map_row(view.unmapped_model.rows[0])
    dialog = view.findChildren(MapToDialog)[-1]
    dialog.own.setChecked(True)
    dialog.accept()
    qtbot.waitUntil(lambda: not view.unmapped_model.rows, timeout=10_000)
    assert not view.unmapped_table.isVisible()
    _commit(qtbot, window, view)
    pid = window.session.profile_id
    stored = run_op(qtbot, window, lambda ctx: ctx.vault.repo.observations(pid))
    own = [o for o in stored if o.analyte == "Lp-PLA2 Activity"]
    assert len(own) == 1 and own[0].loinc is None and own[0].value_num == 180.0
    assert {o.value_num for o in stored if o.printed_name == "Sugar, fasting (enzymatic)"} == {
        101.0,
        95.0,
    }

    # A second report with the same names: recognised from the taught mappings, no questions.
    view = _review(qtbot, window, [_pdf(tmp_path, "second.pdf", date(2025, 8, 1))])
    assert view.unmapped_model.rows == []
    taught = {r.result.printed_name: r for r in view.model.rows if r.result.confidence == 1.0}
    assert taught["Sugar, fasting (enzymatic)"].result.loinc == "2345-7"
    assert taught["Lp-PLA2 Activity"].result.name == "Lp-PLA2 Activity"
    assert all(r.accepted for r in taught.values())
    mappings = run_op(qtbot, window, lambda ctx: ctx.vault.repo.name_mappings())
    assert sorted(m.printed_name for m in mappings) == [
        "Lp-PLA2 Activity",
        "Sugar, fasting (enzymatic)",
    ]


def test_unsure_rows_are_collapsed_rejected_in_one_click_and_never_flagged_red(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = unlocked
    doubtful = dataclasses.replace(
        result("Ferritin", 900.0, "ng/mL", name="Ferritin", loinc="2276-4", confidence=0.4),
        flag="A",
    )
    repeat = result("GLUCOSE", 126.0, "mg/dL", name="Glucose", loinc="2345-7", confidence=0.9)
    _extend_parse(monkeypatch, [doubtful, repeat])
    view = _review(qtbot, window, [_pdf(tmp_path, "noisy.pdf")])
    # Results repeated in a report appear once.
    assert [r.result.name for r in view.model.rows].count("Glucose") == 1
    assert view.unsure_row.isVisible() and not view.unsure_table.isVisible()
    assert "Show 1 unsure result" in view.unsure_toggle.text()
    view.unsure_toggle.click()
    assert view.unsure_table.isVisible() and "Hide" in view.unsure_toggle.text()
    row = view.unsure_model.rows[0]
    flag_index = view.unsure_model.index(0, COL_FLAG)
    from PySide6.QtCore import Qt

    assert view.unsure_model.data(flag_index) == "Abnormal?"
    assert view.unsure_model.data(flag_index, Qt.ItemDataRole.ForegroundRole) is None
    row.accepted = True
    view.reject_unsure_button.click()
    assert not row.accepted and "not imported" in view.unsure_toggle.text()


def test_lab_name_is_editable_and_never_the_patients_name(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    view = _review(qtbot, window, [_pdf(tmp_path, "lab.pdf")])
    assert view.lab_edit.text() == "Example Laboratory Services"
    view.lab_edit.setText("EXAMPLE, Alex")  # the profile's (and the report's) patient
    assert not view.commit_button.isEnabled() and "patient" in view.lab_error.text()
    view.lab_edit.setText("Synthetic Clinic Lab")
    assert view.commit_button.isEnabled() and not view.lab_error.text()
    assert "Synthetic Clinic Lab" in view.header.subtitle.text()
    _commit(qtbot, window, view)
    pid = window.session.profile_id
    reports = run_op(qtbot, window, lambda ctx: ctx.vault.repo.records(DiagnosticReport, pid))
    assert [r.lab for r in reports] == ["Synthetic Clinic Lab"]


def test_review_table_is_readable_at_the_default_size(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = unlocked
    window.resize(1220, 780)
    long_ref = dataclasses.replace(
        result("Cholesterol, total", 212.0, "mg/dL", name="Total cholesterol", confidence=0.95),
        ref_text="Desirable: < 200 Borderline high: 200 - 239 High: >= 240 (adults, fasting)",
    )
    _extend_parse(monkeypatch, [long_ref])
    view = _review(qtbot, window, [_pdf(tmp_path, "wide.pdf")])
    qtbot.waitUntil(lambda: view.table.isVisible(), timeout=5_000)
    table, model = view.table, view.model
    assert table.horizontalHeader().isVisible()
    for col in (1, 2):  # the names get room, never a sliver
        assert table.columnWidth(col) >= 100
    for col in (COL_VALUE, COL_FLAG, COL_UNIT):  # result, flag and unit are never cut
        assert table.columnWidth(col) >= table.sizeHintForColumn(col)
    row = next(i for i, r in enumerate(model.rows) if r.result.printed_name == "Cholesterol, total")
    ref = model.index(row, COL_REF)
    from PySide6.QtCore import Qt

    assert len(model.data(ref)) <= 22 and model.data(ref).endswith("…")
    assert "(adults, fasting)" in model.data(ref, Qt.ItemDataRole.ToolTipRole)
    # Flag and confidence stay on screen: no column is pushed out of reach.
    visible = sum(table.columnWidth(c) for c in range(model.columnCount()))
    assert visible <= table.viewport().width() or table.horizontalScrollBar().isVisible()


def test_correcting_a_row_uses_the_rules_of_typed_entry(qtbot: Any) -> None:
    from ohvault.gui.pdf_review import EditRowDialog

    row = result("GLU", 126.0, "mg/dL", name="Glucose", loinc="2345-7", confidence=0.6)
    dialog = EditRowDialog(None, row)
    qtbot.addWidget(dialog)
    dialog.unit.setText("furlongs")
    dialog.accept()
    assert dialog.edited is None and "not a unit for Glucose" in dialog.error.text()
    dialog.value.setText("7,0")
    dialog.unit.setText("mmol/l")
    dialog.accept()
    fixed = dialog.edited
    assert (fixed.value_num, fixed.unit_ucum, fixed.loinc, fixed.confidence) == (
        7.0, "mmol/L", "14749-6", 1.0,
    )  # fmt: skip
    assert fixed.unit_canonical == "mg/dL" and fixed.value_canonical == pytest.approx(126.1, 0.01)
