"""The "Add vital sign" dialog: weight, height, blood pressure (one reading), heart rate, ….

The dialog only collects and checks the entry with the core's rules (`vitals.make_vital`:
plausible bounds, units, systolic above diastolic); the main window stores it with
`vitals.add_vital` on the worker, which also derives a BMI from weight and height.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ohvault import vitals
from ohvault.errors import BadInput, OhvaultError
from ohvault.gui.widgets import error_label, lay_out_form_dialog
from ohvault.manual_entry import parse_number

# Units a person may type a value in, per kind (the first is the stored one).
ENTRY_UNITS: dict[str, list[tuple[str, str]]] = {
    "weight": [("kg", "kg"), ("lb", "lb")],
    "height": [("cm", "cm"), ("in", "in"), ("m", "m")],
    "temperature": [("°C", "Cel"), ("°F", "[degF]")],
}


@dataclass
class VitalEntry:
    kind: str
    value: float | None
    systolic: float | None
    diastolic: float | None
    unit: str | None
    when: datetime
    note: str | None


class VitalsDialog(QDialog):
    def __init__(self, parent: QWidget | None, profile_id: str, kind: str = "weight") -> None:
        super().__init__(parent)
        self.setWindowTitle("Add vital sign")
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(420)
        self.profile_id = profile_id
        self.entry: VitalEntry | None = None
        form = QFormLayout()
        form.setSpacing(10)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Vital sign")
        for k in vitals.KINDS.values():
            self.kind.addItem(k.name, k.key)
        form.addRow("Vital sign", self.kind)
        self.value = QLineEdit()
        self.value.setAccessibleName("Value")
        self.value_label = QLabel("Value")
        form.addRow(self.value_label, self.value)
        self.systolic = QLineEdit()
        self.systolic.setAccessibleName("Systolic")
        self.systolic.setPlaceholderText("e.g. 120")
        self.systolic_label = QLabel("Systolic (mmHg)")
        form.addRow(self.systolic_label, self.systolic)
        self.diastolic = QLineEdit()
        self.diastolic.setAccessibleName("Diastolic")
        self.diastolic.setPlaceholderText("e.g. 80")
        self.diastolic_label = QLabel("Diastolic (mmHg)")
        form.addRow(self.diastolic_label, self.diastolic)
        self.unit = QComboBox()
        self.unit.setAccessibleName("Unit")
        self.unit_label = QLabel("Unit")
        form.addRow(self.unit_label, self.unit)
        self.when = QDateTimeEdit()
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setDateTime(QDateTime.currentDateTime())
        self.when.setMaximumDateTime(QDateTime.currentDateTime().addSecs(60))
        self.when.setAccessibleName("Date and time")
        form.addRow("Measured", self.when)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note")
        self.note.setFixedHeight(56)
        form.addRow("Note", self.note)
        self.hint = QLabel("")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.hint, self.error)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        index = self.kind.findData(kind)
        self.kind.setCurrentIndex(max(index, 0))
        self._kind_changed()

    def current_kind(self) -> vitals.VitalKind:
        return vitals.get_kind(str(self.kind.currentData()))

    def _kind_changed(self, *_: object) -> None:
        k = self.current_kind()
        bp = k.key == "bp"
        for w in (self.systolic, self.systolic_label, self.diastolic, self.diastolic_label):
            w.setVisible(bp)
        for w in (self.value, self.value_label):
            w.setVisible(not bp)
        units = ENTRY_UNITS.get(k.key, [(k.unit_label, k.unit)])
        self.unit.clear()
        for label, code in units:
            self.unit.addItem(label, code)
        self.unit.setVisible(not bp)
        self.unit_label.setVisible(not bp)
        self.value.setPlaceholderText(f"{k.low:g}–{k.high:g} {k.unit_label}")
        hint = f"LOINC {k.loinc} · plausible {k.low:g}–{k.high:g} {k.unit_label}"
        if k.key in ("weight", "height"):
            hint += " · the BMI is added when both weight and height are known"
        if bp:
            hint = f"LOINC {k.loinc} · systolic and diastolic are stored as one reading"
        self.hint.setText(hint)
        self.error.setText("")

    def build(self) -> VitalEntry:
        """The entry the form describes, checked by the core's rules (raises BadInput)."""
        k = self.current_kind()
        when: datetime = self.when.dateTime().toPython()  # type: ignore[assignment]
        if when > datetime.now():
            raise BadInput("The time cannot be in the future.")
        note = self.note.toPlainText().strip() or None
        if k.key == "bp":
            entry = VitalEntry(
                k.key, None, parse_number(self.systolic.text(), "systolic pressure"),
                parse_number(self.diastolic.text(), "diastolic pressure"), None, when, note,
            )  # fmt: skip
        else:
            entry = VitalEntry(
                k.key, parse_number(self.value.text(), k.name.lower()), None, None,
                str(self.unit.currentData() or k.unit), when, note,
            )  # fmt: skip
        vitals.make_vital(
            self.profile_id, k, value=entry.value, systolic=entry.systolic,
            diastolic=entry.diastolic, unit=entry.unit, when=entry.when,
        )  # fmt: skip
        return entry

    def accept(self) -> None:
        try:
            self.entry = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()
