"""Review rows for a FHIR R4 Bundle JSON import (the Import screen's second kind of source).

`read_fhir_file` validates and maps the file on the worker; this model lists its
records with an accept checkbox, like the PDF review, and `store_fhir_import`
stores the accepted ids in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ohvault.gui import theme
from ohvault.gui.data import fmt_value
from ohvault.gui.models import FLAG_WORDS
from ohvault.ucum import display_unit

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ["", "Kind", "Name", "Value", "Unit", "Flag", "Date"]
KIND_WORDS = {
    "observation": "Result",
    "diagnostic_report": "Report",
    "document": "Document",
    "medication": "Medication",
    "condition": "Condition",
    "allergy": "Allergy",
    "immunization": "Immunization",
    "note": "Note",
}
_SKIP = {"id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted"}


@dataclass
class FhirPending:
    path: Path
    content: Any  # FhirContent
    rows: list[Any] = field(default_factory=list)  # records, documents last
    storable: list[bool] = field(default_factory=list)
    accepted: list[bool] = field(default_factory=list)

    @classmethod
    def build(cls, path: Path, content: Any) -> FhirPending:
        rows = list(content.records) + [d.record for d in content.documents]
        storable = [True] * len(content.records) + [d.inline is not None for d in content.documents]
        return cls(path, content, rows, storable, list(storable))

    @property
    def accepted_ids(self) -> list[str]:
        return [r.id for r, ok in zip(self.rows, self.accepted, strict=True) if ok]


def record_name(r: Any) -> str:
    for attr in ("analyte", "name", "title", "substance", "vaccine", "filename", "text"):
        value = getattr(r, attr, None)
        if value:
            return str(value)
    return ""


def record_value(r: Any) -> tuple[str, str]:
    if r.TYPE.value == "observation":
        if r.value_text is not None:
            return r.value_text, display_unit(r.unit)
        return ("" if r.value_num is None else fmt_value(r.value_num)), display_unit(r.unit)
    if r.TYPE.value == "medication":
        return r.dosage or "", ""
    if r.TYPE.value == "allergy":
        return r.reaction or "", ""
    if r.TYPE.value == "document":
        return f"{r.size:,}", "bytes"
    return "", ""


def record_date(r: Any) -> str:
    for attr in ("effective", "start", "onset", "recorded", "occurrence", "noted"):
        value = getattr(r, attr, None)
        if value is not None:
            return str(value.isoformat())
    return ""


def record_details(r: Any) -> list[tuple[str, str]]:
    """Every field of the record for the side pane (shown, never logged)."""
    out = []
    for f in fields(r):
        if f.name in _SKIP:
            continue
        value = getattr(r, f.name)
        if value is None or value == "":
            continue
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        out.append((f.name.replace("_", " ").capitalize(), text))
    return out


class FhirReviewModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.pending: FhirPending | None = None

    def set_pending(self, pending: FhirPending | None) -> None:
        self.beginResetModel()
        self.pending = pending
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.pending is None:
            return 0
        return len(self.pending.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def record(self, row: int) -> Any:
        assert self.pending is not None
        return self.pending.rows[row]

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsSelectable
        if self.pending is not None and self.pending.storable[index.row()]:
            base |= Qt.ItemFlag.ItemIsEnabled
            if index.column() == 0:
                base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.pending is None:
            return None
        row, col = index.row(), index.column()
        r = self.pending.rows[row]
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if self.pending.accepted[row] else Qt.CheckState.Unchecked
        flag = getattr(r, "flag", None)
        if role == Qt.ItemDataRole.DisplayRole:
            value, unit = record_value(r)
            return [
                "",
                KIND_WORDS.get(r.TYPE.value, r.TYPE.value),
                record_name(r),
                value,
                unit,
                FLAG_WORDS.get(flag or "", flag or ""),
                record_date(r),
            ][col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (3, 5) and theme.is_out_of_range(flag):
            return QBrush(QColor(theme.flag_colour(flag)))
        if role == Qt.ItemDataRole.ToolTipRole:
            if not self.pending.storable[row]:
                return "Only a link to a file elsewhere: there is nothing to keep."
            if col == 2:
                return record_name(r)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if self.pending is None or index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        if not self.pending.storable[index.row()]:
            return False
        self.pending.accepted[index.row()] = Qt.CheckState(value) == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [role])
        return True

    def set_all(self, accepted: bool) -> None:
        if self.pending is None:
            return
        self.pending.accepted = [accepted and ok for ok in self.pending.storable]
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))
