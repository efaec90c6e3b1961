"""Units as people read them on screen: the results table and the dashboard never show UCUM syntax."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt

from ohvault.errors import BadInput
from ohvault.gui.models import ObservationModel
from ohvault.model import Observation
from tests.gui.conftest import run_op, wait_idle


def _obs(name: str, value: float, unit: str, loinc: str) -> Observation:
    return Observation(
        profile_id="p",
        analyte=name,
        value_num=value,
        unit=unit,
        loinc=loinc,
        effective=date(2025, 3, 1),
    )


def test_results_model_shows_human_units(qapp: Any) -> None:
    model = ObservationModel()
    model.set_rows(
        [
            _obs("White blood cell count", 6.1, "10*3/uL", "6690-2"),
            _obs("Thyroid stimulating hormone", 2.2, "u[IU]/mL", "3016-3"),
            _obs("eGFR", 92, "mL/min/{1.73_m2}", "33914-3"),
            _obs("Cholesterol/HDL ratio", 3.1, "{ratio}", "9830-1"),
        ]
    )
    unit_col = next(i for i, c in enumerate(model.columns) if c.title == "Unit")
    shown = [model.data(model.index(r, unit_col)) for r in range(model.rowCount())]
    assert shown == ["10³/µL", "µIU/mL", "mL/min/1.73 m²", ""]


def test_results_screen_and_dashboard_show_human_units(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    pid = window.session.profile_id

    def add(ctx: Any) -> None:
        obs = _obs("White blood cell count", 6.1, "10*3/uL", "6690-2")
        obs.profile_id = pid
        ctx.vault.repo.add(obs)

    run_op(qtbot, window, add, ("observation",))
    view = window.view("Results")
    window.show_view("Results")
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 1)
    cols = [
        view.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(view.proxy.columnCount())
    ]
    assert view.proxy.data(view.proxy.index(0, cols.index("Unit"))) == "10³/µL"
    dash = window.view("Dashboard")
    qtbot.waitUntil(lambda: bool(dash.tiles))
    assert dash.tiles[0].unit_label.text() == "10³/µL"


def test_measurement_dialog_offers_human_units_and_stores_ucum(qtbot: Any, unlocked: Any) -> None:
    from ohvault.gui.measurement import MeasurementDialog

    dialog = MeasurementDialog(unlocked, unlocked.session.profile_id)
    qtbot.addWidget(dialog)
    dialog.analyte.setText("TSH")
    dialog.analyte.editingFinished.emit()
    units = [dialog.unit.itemText(i) for i in range(dialog.unit.count())]
    assert "µIU/mL" in units and "mIU/L" in units and not any("[" in u for u in units)
    dialog.value.setText("5,9")
    dialog.unit.setCurrentText("µIU/mL")
    obs = dialog.build()
    assert (obs.unit, obs.loinc, obs.flag) == ("u[IU]/mL", "3016-3", "H")
    dialog.unit.setCurrentText("furlongs")
    with pytest.raises(BadInput, match="not a unit"):
        dialog.build()
