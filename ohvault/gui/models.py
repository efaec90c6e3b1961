"""Qt models over core records: a table model per kind, a sort/filter proxy for results.

Testable without a window: build the model, `set_rows(...)`, query `data()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from ohvault.gui import theme
from ohvault.model import Observation, Record, is_out_of_range
from ohvault.ucum import display_unit
from ohvault.vault import AuditEntry
from ohvault.wording import flag_word, reference_text

SortRole = Qt.ItemDataRole.UserRole + 1
RecordRole = Qt.ItemDataRole.UserRole + 2

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[T]):
    title: str
    text: Callable[[T], str]
    sort: Callable[[T], Any] | None = None
    align_right: bool = False


def fmt_date(d: date | None) -> str:
    return d.isoformat() if d else ""


def fmt_num(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


class TableModel(QAbstractTableModel, Generic[T]):
    """Rows of one kind of object described by a list of columns."""

    def __init__(self, columns: Sequence[Column[T]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return col.text(row)
        if role == SortRole:
            value = col.sort(row) if col.sort else col.text(row)
            return "" if value is None else value
        if role == RecordRole:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self.role_data(row, index.column(), role)

    def role_data(self, row: T, column: int, role: int) -> Any:
        return None

    def record_at(self, row: int) -> T:
        return self.rows[row]


def _source(o: Observation) -> str:
    return {
        "manual": "Entered",
        "lab_pdf": "Lab report",
        "fhir": "FHIR",
        "bundle": "Shared",
        "sync": "Synced",
    }.get(o.provenance.value, o.provenance.value)


OBSERVATION_COLUMNS: list[Column[Observation]] = [
    Column("Date", lambda o: fmt_date(o.effective), lambda o: o.effective.isoformat()),
    Column("Test", lambda o: o.analyte, lambda o: o.analyte.lower()),
    Column(
        "Result",
        lambda o: o.display_value(),
        lambda o: o.value_num if o.value_num is not None else float("-inf"),
        align_right=True,
    ),
    Column("Unit", lambda o: display_unit(o.unit)),
    Column("Reference", reference_text),
    Column("Flag", lambda o: flag_word(o.flag)),
    Column("Category", lambda o: (o.category or "").replace("_", " ").capitalize()),
    Column("LOINC", lambda o: o.loinc or ""),
    Column("Source", _source),
]


class ObservationModel(TableModel[Observation]):
    def __init__(self) -> None:
        super().__init__(OBSERVATION_COLUMNS)

    def role_data(self, row: Observation, column: int, role: int) -> Any:
        flagged = is_out_of_range(row.flag)
        if role == Qt.ItemDataRole.ForegroundRole and flagged and column in (2, 5):
            return QBrush(QColor(theme.flag_colour(row.flag)))
        if role == Qt.ItemDataRole.FontRole and flagged and column in (2, 5):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and row.note:
            return "Has a note"
        return None


class ObservationFilter(QSortFilterProxyModel):
    """Search by name, LOINC and category; restrict by date range, flag and category."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SortRole)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.text = ""
        self.since: date | None = None
        self.until: date | None = None
        self.flag_set: set[str] | None = None  # None: any; {"out"}: out of range; else codes
        self.category: str | None = None

    def set_criteria(
        self,
        *,
        text: str | None = None,
        since: date | str | None = "keep",
        until: date | str | None = "keep",
        flags: set[str] | str | None = "keep",
        category: str | None = "keep",
    ) -> None:
        self.beginFilterChange()
        if text is not None:
            self.text = text.strip().lower()
        if since != "keep":
            self.since = since  # type: ignore[assignment]
        if until != "keep":
            self.until = until  # type: ignore[assignment]
        if flags != "keep":
            self.flag_set = flags  # type: ignore[assignment]
        if category != "keep":
            self.category = category
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, ObservationModel)
        o = model.rows[source_row]
        if self.text:
            hay = " ".join((o.analyte, o.loinc or "", o.category or "", o.unit or "")).lower()
            if not all(word in hay for word in self.text.split()):
                return False
        if self.since and o.effective < self.since:
            return False
        if self.until and o.effective > self.until:
            return False
        if self.category and (o.category or "") != self.category:
            return False
        if self.flag_set is not None:
            if self.flag_set == {"out"}:
                return is_out_of_range(o.flag)
            return (o.flag or "N") in self.flag_set
        return True


class GenericRecordModel(TableModel[Record]):
    pass


def audit_columns() -> list[Column[AuditEntry]]:
    return [
        Column("#", lambda e: str(e.seq), lambda e: e.seq, align_right=True),
        Column("When (UTC)", lambda e: e.ts.replace("T", " ")[:19], lambda e: e.ts),
        Column("Action", lambda e: e.action),
        Column("Record type", lambda e: (e.record_type or "").replace("_", " ")),
        Column("Record", lambda e: (e.record_id or "")[:8]),
        Column("Device", lambda e: e.device[:8]),
        Column("Detail", lambda e: e.detail or ""),
    ]


class AuditModel(TableModel[AuditEntry]):
    def __init__(self) -> None:
        super().__init__(audit_columns())


class TextFilter(QSortFilterProxyModel):
    """Matches every word of the search text against all columns of a row."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SortRole)
        self.words: list[str] = []

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self.words:
            return True
        model = self.sourceModel()
        hay = " ".join(
            str(model.data(model.index(source_row, c)) or "") for c in range(model.columnCount())
        ).lower()
        return all(w in hay for w in self.words)
