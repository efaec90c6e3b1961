"""Medications, conditions & allergies, immunizations: lists with add, edit and delete (undoable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ohvault.changes import Change
from ohvault.errors import BadInput
from ohvault.gui.models import Column, RecordRole, TableModel, TextFilter, fmt_date
from ohvault.gui.provenance import READ_ONLY_TIP, ProvenanceLine, is_read_only, set_editable
from ohvault.gui.recordform import Field, RecordDialog
from ohvault.gui.session import Session
from ohvault.gui.tasks import JobContext
from ohvault.gui.undo import AddRecord, DeleteRecord, EditRecord
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    Immunization,
    MedicationStatement,
    Note,
    Record,
)


def _status(record: Record) -> str:
    # Refuted, resolved, not given, "no known ..." statements: shown, never hidden.
    from ohvault.gui.fhir_review import status_words

    return status_words(record).capitalize()


def _ends_after_starts(start: str, end: str, what: str) -> Callable[[dict[str, Any]], None]:
    def check(values: dict[str, Any]) -> None:
        if values.get(start) and values.get(end) and values[end] < values[start]:
            raise BadInput(f"The {what} date cannot be before the start date.")

    return check


@dataclass(frozen=True)
class Kind:
    cls: type[Record]
    singular: str
    plural: str
    columns: list[Column[Any]]
    fields: list[Field]
    validate: Callable[[dict[str, Any]], None] | None = None
    order: str = "created_at"
    sort_column: int = 0
    descending: bool = False


def _med_validate(values: dict[str, Any]) -> None:
    _ends_after_starts("start", "end", "stop")(values)
    if values.get("end") and values.get("status") == "active":
        raise BadInput("A medication with a stop date is not active: choose stopped or completed.")


MEDICATIONS = Kind(
    MedicationStatement,
    "medication",
    "medications",
    [
        Column("Medication", lambda m: m.name, lambda m: m.name.lower()),
        Column("Dosage", lambda m: m.dosage or ""),
        Column("Status", lambda m: m.status.replace("-", " ").capitalize()),
        Column("Started", lambda m: fmt_date(m.start), lambda m: fmt_date(m.start)),
        Column("Stopped", lambda m: fmt_date(m.end), lambda m: fmt_date(m.end)),
        Column("Note", lambda m: m.note or ""),
    ],
    [
        Field("name", "Medication", required=True),
        Field("dosage", "Dosage"),
        # Every status an import can bring, so that editing never changes one silently.
        Field(
            "status",
            "Status",
            "choice",
            choices=(
                "active",
                "completed",
                "stopped",
                "on-hold",
                "intended",
                "not-taken",
                "unknown",
            ),
        ),
        Field("start", "Started", "date"),
        Field("end", "Stopped", "date"),
        Field("note", "Note", "long"),
    ],
    _med_validate,
    "start DESC",
)
CONDITIONS = Kind(
    Condition,
    "condition",
    "conditions",
    [
        Column("Condition", lambda c: c.name, lambda c: c.name.lower()),
        Column("Status", lambda c: _status(c) or c.clinical_status.capitalize()),
        Column("Since", lambda c: fmt_date(c.onset), lambda c: fmt_date(c.onset)),
        Column("Resolved", lambda c: fmt_date(c.abatement), lambda c: fmt_date(c.abatement)),
        Column("Code", lambda c: c.code or ""),
        Column("Note", lambda c: c.note or ""),
    ],
    [
        Field("name", "Condition", required=True),
        Field(
            "clinical_status",
            "Status",
            "choice",
            choices=(
                "active",
                "resolved",
                "inactive",
                "recurrence",
                "relapse",
                "remission",
                "unknown",
            ),
        ),
        Field("onset", "Since", "date"),
        Field("abatement", "Resolved", "date"),
        Field("code", "Code (SNOMED CT or ICD-10)"),
        Field("note", "Note", "long"),
    ],
    _ends_after_starts("onset", "abatement", "resolved"),
)
ALLERGIES = Kind(
    AllergyIntolerance,
    "allergy",
    "allergies",
    [
        Column("Substance", lambda a: a.substance, lambda a: a.substance.lower()),
        Column("Reaction", lambda a: a.reaction or ""),
        Column("Status", lambda a: _status(a) or "Active"),
        Column("Criticality", lambda a: (a.criticality or "").replace("-", " ").capitalize()),
        Column("Recorded", lambda a: fmt_date(a.recorded), lambda a: fmt_date(a.recorded)),
        Column("Note", lambda a: a.note or ""),
    ],
    [
        Field("substance", "Substance", required=True),
        Field("reaction", "Reaction"),
        Field("criticality", "Criticality", "choice", choices=("low", "high", "unable-to-assess")),
        Field("recorded", "Recorded", "date"),
        Field("note", "Note", "long"),
    ],
)
IMMUNIZATIONS = Kind(
    Immunization,
    "immunization",
    "immunizations",
    [
        Column("Vaccine", lambda i: i.vaccine, lambda i: i.vaccine.lower()),
        Column("Date", lambda i: fmt_date(i.occurrence), lambda i: fmt_date(i.occurrence)),
        Column("Status", lambda i: _status(i) or "Given"),
        Column("Lot", lambda i: i.lot_number or ""),
        Column("Given by", lambda i: i.performer or ""),
        Column("Note", lambda i: i.note or ""),
    ],
    [
        Field("vaccine", "Vaccine", required=True),
        Field("occurrence", "Date", "date", required=True),
        Field("lot_number", "Lot number"),
        Field("performer", "Given by"),
        Field("note", "Note", "long"),
    ],
    order="occurrence DESC",
    sort_column=1,
    descending=True,
)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 160 else line[:159] + "…"


NOTES = Kind(
    Note,
    "note",
    "notes",
    [
        Column("Date", lambda n: fmt_date(n.noted), lambda n: fmt_date(n.noted)),
        Column("Note", lambda n: _first_line(n.text), lambda n: n.text.lower()),
    ],
    [
        Field("noted", "Date", "date", required=True),
        Field("text", "Note", "long", required=True, height=180),
    ],
    order="noted DESC, created_at DESC",
    descending=True,
)


class RecordTable(QWidget):
    """A table of one kind of record with Add / Edit / Delete."""

    def __init__(self, session: Session, kind: Kind) -> None:
        super().__init__()
        self.session = session
        self.kind = kind
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 8, 0, 0)
        self.model: TableModel[Any] = TableModel(kind.columns)
        self.proxy = TextFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setAccessibleName(f"{kind.plural.capitalize()} table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(
            kind.sort_column,
            Qt.SortOrder.DescendingOrder if kind.descending else Qt.SortOrder.AscendingOrder,
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        self.empty = EmptyState(
            f"No {kind.plural} recorded.\nUse “Add {kind.singular}” to add one."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        col.addWidget(self.stack, 1)
        row = QHBoxLayout()
        self.provenance = ProvenanceLine(session)
        row.addWidget(self.provenance, 1)
        row.addStretch(0)
        self.add_button = button(f"Add {kind.singular}", primary=True, icon="add")
        self.add_button.clicked.connect(self.add)
        self.edit_button = button("Edit…", icon="edit")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = button("Delete", icon="delete", danger=True)
        self.delete_button.clicked.connect(self.delete_selected)
        for b in (self.edit_button, self.delete_button, self.add_button):
            row.addWidget(b)
        col.addLayout(row)
        self._tips: dict[int, str] = {}
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self._selection_changed()

    def _selection_changed(self) -> None:
        record = self.selected()
        set_editable([self.edit_button, self.delete_button], record, self._tips)
        self.provenance.show_for(record)

    def load(self) -> None:
        pid, cls, order = self.session.profile_id, self.kind.cls, self.kind.order

        def op(ctx: JobContext) -> list[Record]:
            return ctx.vault.repo.records(cls, pid, order=order)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self.show_rows, label=f"Loading {self.kind.plural}")

    def show_rows(self, rows: list[Record]) -> None:
        self.model.set_rows(rows)
        self._selection_changed()
        self.stack.setCurrentWidget(self.table if rows else self.empty)

    def clear(self) -> None:
        self.model.clear()

    def dialog(self, existing: Record | None = None) -> RecordDialog:
        pid = self.session.profile_id
        cls = self.kind.cls
        title = f"{'Edit' if existing else 'Add'} {self.kind.singular}"
        return RecordDialog(
            self,
            title,
            self.kind.fields,
            lambda values: cls(profile_id=pid, **values),  # type: ignore[arg-type]
            existing,
            self.kind.validate,
        )

    def add(self) -> RecordDialog | None:
        if self.session.profile_id is None:
            return None
        dlg = self.dialog()
        dlg.accepted.connect(lambda: self._push_add(dlg.result_record))
        dlg.open()
        return dlg

    def _push_add(self, record: Record | None) -> None:
        if record is not None:
            self.session.undo.push(AddRecord(self.session.executor, record, self.kind.singular))

    def selected(self) -> Record | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], RecordRole) if rows else None

    def edit_selected(self) -> RecordDialog | None:
        record = self.selected()
        if record is None:
            return None
        if is_read_only(record):
            self.session.notify.emit(READ_ONLY_TIP)
            return None
        dlg = self.dialog(record)
        dlg.accepted.connect(lambda: self._push_edit(record, dlg.result_record))
        dlg.open()
        return dlg

    def _push_edit(self, before: Record, after: Record | None) -> None:
        if after is not None:
            self.session.undo.push(
                EditRecord(self.session.executor, before, after, self.kind.singular)
            )

    def delete_selected(self) -> None:
        record = self.selected()
        if record is not None and is_read_only(record):
            self.session.notify.emit(READ_ONLY_TIP)
        elif record is not None:
            self.session.undo.push(DeleteRecord(self.session.executor, record, self.kind.singular))
            self.session.notify.emit(
                f"{self.kind.singular.capitalize()} deleted. Undo with Ctrl+Z."
            )


class _RecordsView(View):
    kinds: tuple[Kind, ...] = ()
    subtitle = ""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.root.addWidget(ViewHeader(self.title, self.subtitle))
        self.tables = [RecordTable(session, k) for k in self.kinds]
        if len(self.tables) == 1:
            self.root.addWidget(self.tables[0], 1)
        else:
            tabs = QTabWidget()
            tabs.setDocumentMode(True)
            for t in self.tables:
                tabs.addTab(t, t.kind.plural.capitalize())
            tabs.setAccessibleName(self.title)
            self.root.addWidget(tabs, 1)

    def load(self) -> None:
        for t in self.tables:
            t.load()

    def clear(self) -> None:
        super().clear()
        for t in self.tables:
            t.clear()

    def table_for(self, cls: type[Record]) -> RecordTable:
        return next(t for t in self.tables if t.kind.cls is cls)


class MedicationsView(_RecordsView):
    title = "Medications"
    icon_name = "medications"
    watches = frozenset({Change.MEDICATION})
    kinds = (MEDICATIONS,)
    subtitle = "What you take, since when, and what you stopped. Start and stop dates appear on trend charts."


class ConditionsView(_RecordsView):
    title = "Conditions & allergies"
    icon_name = "conditions"
    watches = frozenset({Change.CONDITION, Change.ALLERGY})
    kinds = (CONDITIONS, ALLERGIES)
    subtitle = "Diagnoses and allergies or intolerances."


class ImmunizationsView(_RecordsView):
    title = "Immunizations"
    icon_name = "immunizations"
    watches = frozenset({Change.IMMUNIZATION})
    kinds = (IMMUNIZATIONS,)
    subtitle = "Vaccinations and when you had them."


class NotesView(_RecordsView):
    title = "Notes"
    icon_name = "edit"
    watches = frozenset({Change.NOTE})
    kinds = (NOTES,)
    subtitle = "Your own notes: symptoms, questions for the next visit, anything worth keeping."
