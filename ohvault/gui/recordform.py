"""A small form builder for the record dialogs (medications, conditions, allergies, immunizations)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ohvault.errors import BadInput, OhvaultError
from ohvault.gui.dates import OptionalDateEdit
from ohvault.gui.widgets import error_label, lay_out_form_dialog
from ohvault.model import Record


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | long | date | choice
    required: bool = False
    choices: tuple[str, ...] = ()
    height: int = 64  # of a "long" text box


# The optional date field lives with the shared date widget.
_DateField = OptionalDateEdit


class RecordDialog(QDialog):
    """Edits one record; `validate` adds checks across fields (e.g. end after start)."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        fields: list[Field],
        make: Callable[[dict[str, Any]], Record],
        existing: Record | None = None,
        validate: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(420)
        self.fields = fields
        self.make = make
        self.existing = existing
        self.validate = validate
        self.result_record: Record | None = None
        self.inputs: dict[str, Any] = {}
        form = QFormLayout()
        form.setSpacing(10)
        for f in fields:
            widget: Any
            if f.kind == "long":
                widget = QPlainTextEdit()
                widget.setFixedHeight(f.height)
            elif f.kind == "date":
                widget = _DateField(f.label, f.required)
            elif f.kind == "choice":
                widget = QComboBox()
                for choice in f.choices:
                    # Shown as a sentence starts ("On hold"), stored as the code ("on-hold").
                    widget.addItem(choice.replace("-", " ").capitalize(), choice)
            else:
                widget = QLineEdit()
            widget.setAccessibleName(f.label)
            self.inputs[f.name] = widget
            form.addRow(f.label + (" *" if f.required else ""), widget)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.error)
        if existing is not None:
            for f in fields:
                self.set_value(f.name, getattr(existing, f.name))

    def set_value(self, name: str, value: Any) -> None:
        widget = self.inputs[name]
        if isinstance(widget, _DateField):
            widget.set_value(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(widget.findData(value), 0))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(value or "")
        else:
            widget.setText(value or "")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.inputs[f.name]
            if isinstance(widget, _DateField):
                out[f.name] = widget.value()
            elif isinstance(widget, QComboBox):
                out[f.name] = widget.currentData()
            elif isinstance(widget, QPlainTextEdit):
                out[f.name] = widget.toPlainText().strip() or None
            else:
                out[f.name] = widget.text().strip() or None
        return out

    def build(self) -> Record:
        values = self.values()
        for f in self.fields:
            if f.required and not values[f.name]:
                raise BadInput(f"{f.label} is required.")
            if f.kind == "date" and values[f.name] and values[f.name] > date.today():
                raise BadInput(f"{f.label} cannot be in the future.")
        if self.validate is not None:
            self.validate(values)
        if self.existing is not None:
            record = copy.copy(self.existing)
            for key, value in values.items():
                setattr(record, key, value)
            return record
        return self.make(values)

    def accept(self) -> None:
        try:
            self.result_record = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()
