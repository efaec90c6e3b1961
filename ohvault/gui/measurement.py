"""The "Add measurement" / "Edit measurement" dialog: catalog autocompletion, units, plausibility."""

from __future__ import annotations

import copy
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ohvault import analytes
from ohvault.errors import BadInput, OhvaultError
from ohvault.gui.dates import DateEdit, qtoday, to_qdate
from ohvault.gui.widgets import error_label, lay_out_form_dialog
from ohvault.manual_entry import enrich_from_catalog, parse_value, to_ucum
from ohvault.model import Observation, Provenance
from ohvault.ucum import display_unit


class MeasurementDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, profile_id: str, existing: Observation | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit measurement" if existing else "Add measurement")
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(440)
        self.profile_id = profile_id
        self.existing = existing
        self.result_observation: Observation | None = None

        form = QFormLayout()
        form.setSpacing(10)
        self.analyte = QLineEdit()
        self.analyte.setAccessibleName("Test name")
        self.analyte.setPlaceholderText("For example Glucose, HbA1c, LDL cholesterol")
        names = analytes.analyte_names()
        if names:
            completer = QCompleter(names, self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.analyte.setCompleter(completer)
            completer.activated.connect(self._analyte_changed)
        self.analyte.editingFinished.connect(self._analyte_changed)
        form.addRow("Test", self.analyte)
        self.value = QLineEdit()
        self.value.setAccessibleName("Value")
        self.value.setPlaceholderText("A number, or text such as <0.5 or Negative")
        form.addRow("Value", self.value)
        self.unit = QComboBox()
        self.unit.setEditable(True)
        self.unit.setAccessibleName("Unit")
        form.addRow("Unit", self.unit)
        self.when = DateEdit()
        self.when.setMaximumDate(qtoday())
        self.when.setDate(qtoday())
        self.when.setAccessibleName("Date")
        form.addRow("Date", self.when)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note")
        self.note.setFixedHeight(64)
        form.addRow("Note", self.note)
        self.hint = QLabel("")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.hint, self.error)
        if existing is not None:
            self.analyte.setText(existing.analyte)
            self._analyte_changed()
            self.value.setText(existing.display_value())
            self.unit.setCurrentText(display_unit(existing.unit) or existing.unit or "")
            self.when.setDate(to_qdate(existing.effective))
            self.note.setPlainText(existing.note or "")

    def _analyte_changed(self, *_: object) -> None:
        analyte = analytes.find(self.analyte.text())
        current = self.unit.currentText()
        self.unit.clear()
        if analyte is None:
            self.hint.setText("")
            self.unit.setCurrentText(current)
            return
        shown = [display_unit(u) for u in analyte.units if display_unit(u)]
        self.unit.addItems(shown)
        self.unit.setCurrentText(
            current if current in shown else display_unit(analyte.canonical_unit)
        )
        parts = [analyte.preferred_name + (f" · LOINC {analyte.loinc}" if analyte.loinc else "")]
        if analyte.ref_low is not None and analyte.ref_high is not None:
            parts.append(
                f"typical range {analyte.ref_low:g}–{analyte.ref_high:g} "
                + display_unit(analyte.canonical_unit)
            )
        self.hint.setText(" · ".join(parts))

    def build(self) -> Observation:
        """The observation the form describes, checked against the catalog (raises BadInput)."""
        name = self.analyte.text().strip()
        if not name:
            raise BadInput("Enter the name of the test.")
        value_num, value_text = parse_value(self.value.text())
        when: date = self.when.date().toPython()  # type: ignore[assignment]
        if when > date.today():
            raise BadInput("The date cannot be in the future.")
        unit = self.unit.currentText().strip() or None
        if self.existing is not None:
            obs = copy.copy(self.existing)
            obs.analyte, obs.value_num, obs.value_text, obs.unit = name, value_num, value_text, unit
            obs.effective = when
            obs.note = self.note.toPlainText().strip() or None
            if obs.analyte != self.existing.analyte or to_ucum(unit) != self.existing.unit:
                obs.ref_low = obs.ref_high = None  # recomputed from the catalog below
        else:
            obs = Observation(
                profile_id=self.profile_id,
                analyte=name,
                value_num=value_num,
                value_text=value_text,
                unit=unit,
                effective=when,
                note=self.note.toPlainText().strip() or None,
                provenance=Provenance.MANUAL,
            )
        return enrich_from_catalog(obs)

    def accept(self) -> None:
        try:
            self.result_observation = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()
