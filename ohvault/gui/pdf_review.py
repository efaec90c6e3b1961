"""The rows of a lab report under review: grouped, tickable, correctable, mappable.

A parsed report's results are split into three groups shown apart on the Import
screen: results the importer is sure of, tests whose printed name maps to no
catalog test ("Map to…"), and results it doubts (collapsed by default). Each
group is a `TableModel[ReviewRow]` over the same `ReviewRow` objects, so a
tick, a correction or a mapping is one change to one object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput, OhvaultError
from ohvault.gui import catalog, theme
from ohvault.gui.models import FLAG_WORDS, Column, Index, TableModel
from ohvault.gui.widgets import error_label, label, lay_out_form_dialog
from ohvault.importing import CONFIDENT, result_flag
from ohvault.mappings import read_as

RESULTS, UNMAPPED, UNSURE = "results", "unmapped", "unsure"
REF_CHARS = 22  # a reference longer than this is summarised; the tooltip has all of it


@dataclass
class ReviewRow:
    """One parsed result as the user is reviewing it."""

    result: Any  # ParsedResult (edited or mapped copies replace it)
    accepted: bool
    edited: bool = False
    mapped: bool = False

    @property
    def group(self) -> str:
        r = self.result
        if r.name is None:
            return UNMAPPED
        if r.confidence < CONFIDENT:
            return UNSURE
        return RESULTS

    @property
    def doubted(self) -> bool:
        return self.group != RESULTS


@dataclass
class Pending:
    """One file going through hash check → parse → review → commit."""

    path: Path
    content: bytes
    report: Any = None  # ParsedReport, prepared (taught mappings applied, repeats dropped)
    rows: list[ReviewRow] = field(default_factory=list)

    def set_report(self, report: Any) -> None:
        self.report = report
        # Sure, mapped results start ticked; everything doubted waits for the user.
        self.rows = [
            ReviewRow(r, r.name is not None and r.confidence >= CONFIDENT) for r in report.results
        ]

    @property
    def results(self) -> list[Any]:
        return [row.result for row in self.rows]

    @property
    def accepted(self) -> list[bool]:
        return [row.accepted for row in self.rows]

    def group(self, name: str) -> list[ReviewRow]:
        return [row for row in self.rows if row.group == name]


def value_text(r: Any) -> str:
    return f"{r.value:g}" if isinstance(r.value, float) else str(r.value)


def reference_full(r: Any) -> str:
    if r.ref_low is not None and r.ref_high is not None:
        return f"{r.ref_low:g}–{r.ref_high:g}"
    if r.ref_text:
        return " ".join(str(r.ref_text).split())
    if r.ref_high is not None:
        return f"< {r.ref_high:g}"
    if r.ref_low is not None:
        return f"> {r.ref_low:g}"
    return ""


def reference_short(r: Any) -> str:
    """Multi-tier reference texts ("Desirable: <200 Borderline: 200-239 …") summarised."""
    text = reference_full(r)
    if len(text) <= REF_CHARS:
        return text
    return text[: REF_CHARS - 1].rstrip(" ,;:") + "…"


def flag_text(row: ReviewRow) -> str:
    flag = result_flag(row.result)
    word = FLAG_WORDS.get(flag or "", flag or "")
    # The importer doubts the row, so it does not shout about it either.
    return f"{word}?" if word and row.doubted else word


def review_columns() -> list[Column[ReviewRow]]:
    return [
        Column("", lambda row: ""),
        Column("Printed as", lambda row: row.result.printed_name),
        Column(
            "Recognised as",
            lambda row: row.result.name or "(not mapped)",
        ),
        # The flag beside the value, as most reports print it: it stays on screen when a
        # narrow window cuts the table's tail (reference, date).
        Column("Result", lambda row: value_text(row.result), align_right=True),
        Column("Flag", flag_text),
        Column("Unit", lambda row: row.result.unit or ""),
        Column("Reference", lambda row: reference_short(row.result)),
        Column("Date", lambda row: row.result.date.isoformat() if row.result.date else ""),
        Column("Confidence", lambda row: f"{row.result.confidence:.0%}", align_right=True),
    ]


COLUMNS = [c.title for c in review_columns()]
COL_PRINTED, COL_NAME, COL_VALUE, COL_FLAG, COL_UNIT, COL_REF, COL_DATE = 1, 2, 3, 4, 5, 6, 7
COL_CONFIDENCE = 8


class ReviewModel(TableModel[ReviewRow]):
    """One group of review rows with an accept checkbox in the first column."""

    def __init__(self) -> None:
        super().__init__(review_columns())

    def result(self, row: int) -> Any:
        return self.rows[row].result

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def role_data(self, row: ReviewRow, column: int, role: int) -> Any:
        r = row.result
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if row.accepted else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.BackgroundRole and row.doubted:
            c = theme.colours()
            return QBrush(QColor("#3a2f1a" if c.dark else "#fff1d6"))
        if role == Qt.ItemDataRole.ForegroundRole and column in (COL_VALUE, COL_FLAG):
            flag = result_flag(r)
            if flag and flag != "N" and not row.doubted:
                return QBrush(QColor(theme.flag_colour(flag)))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_PRINTED:
                return r.printed_name
            if column == COL_NAME:
                return r.name or "No catalog test has this name: use Map to…"
            if column == COL_REF:
                return reference_full(r) or None
            if row.mapped:
                return "Mapped by you; remembered for later imports"
            if row.edited:
                return "Edited by you"
            if row.doubted:
                return "Low confidence: check this row against the page before importing."
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self.rows[index.row()].accepted = Qt.CheckState(value) == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [role])
        return True

    def set_all(self, accepted: bool) -> None:
        for row in self.rows:
            row.accepted = accepted
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0))

    def changed(self, row: ReviewRow) -> None:
        if row in self.rows:
            i = self.rows.index(row)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))


class EditRowDialog(QDialog):
    """Correct a parsed row before import: test name, value, unit."""

    def __init__(self, parent: QWidget | None, result: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Correct this result")
        self.setAccessibleName("Correct this result")
        self.original = result
        self.edited: Any = None
        form = QFormLayout()
        self.name = QLineEdit(result.name or result.printed_name)
        self.name.setAccessibleName("Test")
        names = catalog.analyte_names()
        if names:
            comp = QCompleter(names, self)
            comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            self.name.setCompleter(comp)
        self.value = QLineEdit(value_text(result))
        self.value.setAccessibleName("Value")
        self.unit = QLineEdit(result.unit or "")
        self.unit.setAccessibleName("Unit")
        form.addRow("Test", self.name)
        form.addRow("Value", self.value)
        form.addRow("Unit", self.unit)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.error, ok=QDialogButtonBox.StandardButton.Ok)

    def build(self) -> Any:
        name = self.name.text().strip()
        if not name:
            raise BadInput("Enter the name of the test.")
        text = self.value.text().strip()
        if not text:
            raise BadInput("Enter a value.")
        try:
            value_num: float | None = float(text.replace(",", "."))
            value: float | str = value_num  # type: ignore[assignment]
        except ValueError:
            value_num, value = None, text
        unit = self.unit.text().strip() or None
        analyte = catalog.find(name)
        edited = dataclasses.replace(
            self.original,
            name=name,
            loinc=None,
            value=value,
            value_num=value_num,
            unit=unit,
            unit_ucum=unit,
            value_canonical=None,
            unit_canonical=None,
            confidence=1.0,
        )
        if analyte is None:
            return edited
        if value_num is not None:
            try:
                canonical = analyte.to_canonical(value_num, unit or analyte.canonical_unit)
            except Exception:
                raise BadInput(
                    f"{unit!r} is not a unit for {analyte.preferred_name}; use one of: {', '.join(analyte.units)}."
                ) from None
            if not analyte.is_plausible(canonical):
                raise BadInput(
                    f"That value is not plausible for {analyte.preferred_name}; check the number and unit."
                )
        # name, category, canonical value and the LOINC code of the unit's property
        return read_as(edited, analyte, confidence=1.0)

    def accept(self) -> None:
        try:
            self.edited = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()


def search_catalog(text: str, limit: int = 30) -> list[Any]:
    """Catalog tests by name, synonym (word prefixes) or LOINC code."""
    cat = catalog.catalog()
    if cat is None or not text.strip():
        return []
    found = []
    exact = cat.by_loinc(text.strip())
    if exact is not None:
        found.append(exact)
    for a in cat.search(text, limit=limit):
        if a not in found:
            found.append(a)
    return found[:limit]


@dataclass(frozen=True)
class MappingChoice:
    printed_name: str
    analyte: str | None  # catalog id; None with own_test
    own_test: bool
    lab: str | None


class MapToDialog(QDialog):
    """Say what an unmapped printed name means: a catalog test, or a test of its own."""

    def __init__(self, parent: QWidget | None, result: Any, lab: str | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Map this test")
        self.setAccessibleName("Map this test")
        self.result_row = result
        self.lab = lab
        self.choice: MappingChoice | None = None
        col = QVBoxLayout()
        col.addWidget(
            label(
                f"“{result.printed_name}” ({value_text(result)} {result.unit or ''}) is not a "
                "test ohvault knows. What is it?",
                wrap=True,
            )
        )
        self.to_catalog = QRadioButton("A test in the catalog:")
        self.to_catalog.setAccessibleName("Map to a catalog test")
        self.own = QRadioButton("Keep it as its own test (its own trend, named as printed)")
        self.own.setAccessibleName("Keep as its own test")
        group = QButtonGroup(self)
        group.addButton(self.to_catalog)
        group.addButton(self.own)
        self.to_catalog.setChecked(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, synonym or LOINC code")
        self.search.setAccessibleName("Search the catalog")
        self.search.setClearButtonEnabled(True)
        self.matches = QListWidget()
        self.matches.setAccessibleName("Catalog tests")
        self.matches.setMinimumHeight(180)
        self.search.textChanged.connect(self._search)
        self.search.textEdited.connect(lambda _: self.to_catalog.setChecked(True))
        self.matches.itemDoubleClicked.connect(lambda _: self.accept())
        self.only_lab = QCheckBox(f"Only for reports from {lab}" if lab else "Only for this lab")
        self.only_lab.setAccessibleName("Only for this laboratory")
        self.only_lab.setEnabled(bool(lab))
        col.addWidget(self.to_catalog)
        col.addWidget(self.search)
        col.addWidget(self.matches)
        col.addWidget(self.own)
        col.addWidget(self.only_lab)
        col.addWidget(
            label(
                "The mapping applies to this row and the rest of the file, and is remembered "
                "for later imports (ohvault mappings lists them).",
                "muted",
                wrap=True,
            )
        )
        form = QFormLayout()
        form.addRow(col)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.error, ok=QDialogButtonBox.StandardButton.Ok)
        self.resize(460, 480)
        self.search.setText(result.printed_name)
        if not self.matches.count():
            self.search.clear()

    def _search(self, text: str) -> None:
        self.matches.clear()
        for a in search_catalog(text):
            item = QListWidgetItem(f"{a.preferred_name}  ·  {a.canonical_unit}  ·  LOINC {a.loinc}")
            item.setData(Qt.ItemDataRole.UserRole, a.id)
            self.matches.addItem(item)
        if self.matches.count():
            self.matches.setCurrentRow(0)

    def select(self, text: str) -> None:
        """Search and pick the first match (keyboard users and tests)."""
        self.to_catalog.setChecked(True)
        self.search.setText(text)

    def build(self) -> MappingChoice:
        lab = self.lab if self.only_lab.isChecked() else None
        if self.own.isChecked():
            return MappingChoice(self.result_row.printed_name, None, True, lab)
        item = self.matches.currentItem()
        if item is None:
            raise BadInput("Pick a test from the list, or keep it as its own test.")
        return MappingChoice(
            self.result_row.printed_name, str(item.data(Qt.ItemDataRole.UserRole)), False, lab
        )

    def accept(self) -> None:
        try:
            self.choice = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()
