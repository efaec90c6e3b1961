"""One date field for every form: ISO display, calendar popup, and typing that means what it says."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCheckBox, QDateEdit, QHBoxLayout, QWidget

_SEPARATORS = {"-", "/", ".", " "}


def to_qdate(value: date) -> QDate:
    """A Python date as a QDate, by its fields (every PySide6 version takes these)."""
    return QDate(value.year, value.month, value.day)


def qtoday() -> QDate:
    """Today as a QDate, from Python's clock (which `make screenshots` pins), not Qt's."""
    return to_qdate(date.today())


class DateEdit(QDateEdit):
    """A QDateEdit where typing "2024-06-01" gives 2024-06-01.

    QDateEdit moves to the next section by itself once a section is full ("2024" fills
    the year) and then also treats the "-" that a person types next as "next section",
    so the month lands in the day ("2024-06-01" became 2024-11-06). A separator typed
    right after such an automatic move is swallowed.
    """

    def __init__(self, parent: QWidget | None = None, *, value: date | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setDate(to_qdate(value) if value is not None else qtoday())
        self._advanced = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if text in _SEPARATORS and text:
            if self._advanced:
                self._advanced = False
                event.accept()
                return
            super().keyPressEvent(event)
            return
        before = self.currentSectionIndex()
        super().keyPressEvent(event)
        self._advanced = text.isdigit() and self.currentSectionIndex() > before

    def value(self) -> date:
        return self.date().toPython()  # type: ignore[return-value]

    def set_value(self, value: date) -> None:
        self.setDate(to_qdate(value))


class OptionalDateEdit(QWidget):
    """A date that may be left empty (a checkbox says whether it is set)."""

    def __init__(self, label: str, required: bool) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.enabled = QCheckBox()
        self.enabled.setAccessibleName(f"{label} is known")
        self.edit = DateEdit()
        self.edit.setAccessibleName(label)
        self.enabled.toggled.connect(self.edit.setEnabled)
        self.enabled.setChecked(required)
        self.edit.setEnabled(required)
        self.enabled.setVisible(not required)
        row.addWidget(self.enabled)
        row.addWidget(self.edit, 1)

    def value(self) -> date | None:
        return self.edit.date().toPython() if self.enabled.isChecked() else None  # type: ignore[return-value]

    def set_value(self, value: date | None) -> None:
        self.enabled.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(to_qdate(value))
