"""Results: the table model and filter without a window; add, edit, delete and undo end to end."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt

from ohvault.gui.models import ObservationFilter, ObservationModel, RecordRole, SortRole
from ohvault.model import Observation
from tests.gui.conftest import run_op, wait_idle


def _obs(
    name: str,
    value: float,
    when: date,
    flag: str | None = "N",
    loinc: str | None = None,
    category: str | None = None,
) -> Observation:
    return Observation(
        profile_id="p",
        analyte=name,
        value_num=value,
        unit="mg/dL",
        effective=when,
        flag=flag,
        loinc=loinc,
        category=category,
    )


def _visible(proxy: ObservationFilter) -> list[str]:
    return [proxy.data(proxy.index(r, 1)) for r in range(proxy.rowCount())]


def test_filter_by_text_loinc_category_flag_and_dates(qapp: Any) -> None:
    model = ObservationModel()
    proxy = ObservationFilter()
    proxy.setSourceModel(model)
    model.set_rows(
        [
            _obs("Glucose", 104, date(2024, 1, 5), "H", "2345-7", "metabolic"),
            _obs("LDL cholesterol", 90, date(2024, 6, 1), "N", "13457-7", "lipids"),
            _obs("HDL cholesterol", 35, date(2025, 2, 1), "L", "2085-9", "lipids"),
        ]
    )
    assert proxy.rowCount() == 3
    proxy.set_criteria(text="cholesterol")
    assert sorted(_visible(proxy)) == ["HDL cholesterol", "LDL cholesterol"]
    proxy.set_criteria(text="2345-7")
    assert _visible(proxy) == ["Glucose"]
    proxy.set_criteria(text="", category="lipids")
    assert len(_visible(proxy)) == 2
    proxy.set_criteria(category=None, flags={"out"})
    assert sorted(_visible(proxy)) == ["Glucose", "HDL cholesterol"]
    proxy.set_criteria(flags={"L", "LL"})
    assert _visible(proxy) == ["HDL cholesterol"]
    proxy.set_criteria(flags=None, since=date(2024, 3, 1), until=date(2024, 12, 31))
    assert _visible(proxy) == ["LDL cholesterol"]
    # Sorting is by value, not by text ("104" > "35" > "90" as strings).
    proxy.set_criteria(since=None, until=None)
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    assert [proxy.data(proxy.index(r, 2), SortRole) for r in range(3)] == [35, 90, 104]
    assert isinstance(proxy.data(proxy.index(0, 0), RecordRole), Observation)


def _rows(view: Any) -> list[tuple[str, str]]:
    p = view.proxy
    return [(p.data(p.index(r, 1)), p.data(p.index(r, 2))) for r in range(p.rowCount())]


def test_add_edit_delete_and_undo_a_measurement(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    window.named_actions["add"].trigger()
    view = window.view("Results")
    assert window.current_view is view
    dialog = window.findChildren(
        __import__("ohvault.gui.measurement", fromlist=["x"]).MeasurementDialog
    )[-1]
    assert dialog.isVisible()
    dialog.analyte.setText("glucose")
    dialog.analyte.editingFinished.emit()
    units = [dialog.unit.itemText(i) for i in range(dialog.unit.count())]
    assert "mg/dL" in units and "mmol/L" in units  # the catalog's units for glucose
    dialog.value.setText("50000")
    dialog.unit.setCurrentText("mg/dL")
    dialog.when.setDate(QDate(2025, 3, 1))
    dialog.accept()
    assert dialog.isVisible() and "plausible" in dialog.error.text()
    dialog.value.setText("5,4")
    dialog.unit.setCurrentText("mmol/L")
    dialog.accept()
    assert not dialog.isVisible()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: len(_rows(view)) == 1)
    obs = view.proxy.data(view.proxy.index(0, 0), RecordRole)
    assert obs.analyte == "Glucose" and obs.loinc and obs.value_num == 5.4 and obs.unit == "mmol/L"

    view.table.selectRow(0)
    edit = view.edit_selected()
    assert edit is not None and edit.value.text() == "5.4"
    edit.value.setText("7.9")
    edit.accept()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: _rows(view) == [("Glucose", "7.9")])
    assert view.proxy.data(view.proxy.index(0, 5)) == "High"  # flagged from the catalog range

    window.named_actions["undo"].trigger()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: _rows(view) == [("Glucose", "5.4")])

    view.table.selectRow(0)
    view.delete_button.click()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: _rows(view) == [])
    assert view.stack.currentWidget() is view.empty
    window.named_actions["undo"].trigger()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: _rows(view) == [("Glucose", "5.4")])
    # The vault agrees with the screen.
    pid = window.session.profile_id
    stored = run_op(qtbot, window, lambda ctx: ctx.vault.repo.observations(pid))
    assert [(o.analyte, o.value_num) for o in stored] == [("Glucose", 5.4)]


def test_search_box_and_find_shortcut(qtbot: Any, unlocked: Any) -> None:
    from tests.gui.conftest import populate

    window = unlocked
    populate(qtbot, window)
    window.named_actions["find"].trigger()
    view = window.view("Results")
    wait_idle(qtbot, window)
    assert view.search.hasFocus() or window.focusWidget() is view.search
    total = view.proxy.rowCount()
    assert total > 20
    qtbot.keyClicks(view.search, "ldl")
    assert 0 < view.proxy.rowCount() < total
    assert all("LDL" in name for name, _ in _rows(view))
