"""Results: every measurement in a searchable, sortable table; add, edit, delete with undo."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QStackedWidget,
    QTableView,
)

from ohvault.changes import Change
from ohvault.gui.dates import DateEdit
from ohvault.gui.measurement import MeasurementDialog
from ohvault.gui.models import ObservationFilter, ObservationModel, RecordRole
from ohvault.gui.provenance import READ_ONLY_TIP, ProvenanceLine, is_read_only, set_editable
from ohvault.gui.tasks import JobContext
from ohvault.gui.undo import AddRecord, DeleteRecord, EditRecord
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button
from ohvault.model import Observation

FLAG_CHOICES = [
    ("Any flag", None),
    ("Out of range", {"out"}),
    ("High", {"H", "HH"}),
    ("Low", {"L", "LL"}),
    ("Normal", {"N"}),
]
_ANY_DATE = QDate(1900, 1, 1)


def _date_edit(name: str) -> DateEdit:
    edit = DateEdit()
    edit.setMinimumDate(_ANY_DATE)
    edit.setSpecialValueText("Any date")
    edit.setDate(_ANY_DATE)
    edit.setAccessibleName(name)
    return edit


class ResultsView(View):
    title = "Results"
    icon_name = "results"
    watches = frozenset({Change.OBSERVATION, Change.DIAGNOSTIC_REPORT})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.model = ObservationModel()
        self.proxy = ObservationFilter()
        self.proxy.setSourceModel(self.model)
        header = ViewHeader("Results", "Every lab result and measurement in this profile.")
        self.add_button = header.add(button("Add measurement", primary=True, icon="add"))
        self.add_button.clicked.connect(self.add_measurement)
        self.root.addWidget(header)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by test, LOINC or category  (Ctrl+F)")
        self.search.setAccessibleName("Search results")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda t: self.proxy.set_criteria(text=t))
        filters.addWidget(self.search, 3)
        self.category = QComboBox()
        self.category.setAccessibleName("Category")
        self.category.addItem("All categories", None)
        self.category.currentIndexChanged.connect(
            lambda _: self.proxy.set_criteria(category=self.category.currentData())
        )
        filters.addWidget(self.category, 1)
        self.flag = QComboBox()
        self.flag.setAccessibleName("Flag")
        for text, value in FLAG_CHOICES:
            self.flag.addItem(text, value)
        self.flag.currentIndexChanged.connect(
            lambda _: self.proxy.set_criteria(flags=self.flag.currentData())
        )
        filters.addWidget(self.flag, 1)
        self.since = _date_edit("From date")
        self.until = _date_edit("To date")
        self.since.dateChanged.connect(lambda d: self.proxy.set_criteria(since=self._d(d)))
        self.until.dateChanged.connect(lambda d: self.proxy.set_criteria(until=self._d(d)))
        filters.addWidget(self.since)
        filters.addWidget(self.until)
        self.root.addLayout(filters)

        self.table = QTableView()
        self.table.setAccessibleName("Results table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._edit_index)
        self.empty = EmptyState(
            "No results yet.\nImport a lab report (Ctrl+I) or add a measurement (Ctrl+N)."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.root.addWidget(self.stack, 1)

        actions = QHBoxLayout()
        self.count = QLineEdit()
        self.count.setVisible(False)
        self.provenance = ProvenanceLine(session)
        actions.addWidget(self.provenance, 1)
        actions.addSpacing(12)
        self.edit_button = button("Edit…", icon="edit")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = button("Delete", icon="delete", danger=True)
        self.delete_button.clicked.connect(self.delete_selected)
        actions.addWidget(self.edit_button)
        actions.addWidget(self.delete_button)
        self.root.addLayout(actions)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)
        self._tips: dict[int, str] = {}
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self._selection_changed()

    def _selection_changed(self) -> None:
        record = self.selected()
        set_editable([self.edit_button, self.delete_button], record, self._tips)
        self.provenance.show_for(record)

    @staticmethod
    def _d(qd: QDate) -> date | None:
        return None if qd == _ANY_DATE else qd.toPython()  # type: ignore[return-value]

    # --- data -------------------------------------------------------------------------

    def load(self) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> list[Observation]:
            return ctx.vault.repo.observations(pid)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show, label="Loading results")

    def _show(self, rows: list[Observation]) -> None:
        self.model.set_rows(rows)
        self._selection_changed()
        current = self.category.currentData()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem("All categories", None)
        for cat in sorted({o.category for o in rows if o.category}):
            self.category.addItem(cat.replace("_", " ").capitalize(), cat)
        idx = self.category.findData(current)
        self.category.setCurrentIndex(max(idx, 0))
        self.category.blockSignals(False)
        self.stack.setCurrentWidget(self.table if rows else self.empty)

    def clear(self) -> None:
        super().clear()
        self.model.clear()
        self.search.clear()

    # --- actions ---------------------------------------------------------------------

    def selected(self) -> Observation | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        obs = self.proxy.data(rows[0], RecordRole)
        return obs if isinstance(obs, Observation) else None

    def add_measurement(self) -> MeasurementDialog | None:
        if self.session.profile_id is None:
            return None
        dialog = MeasurementDialog(self, self.session.profile_id)
        dialog.accepted.connect(lambda: self.save_new(dialog.result_observation))
        dialog.open()
        return dialog

    def save_new(self, obs: Observation | None) -> None:
        if obs is not None:
            self.session.undo.push(AddRecord(self.session.executor, obs, "measurement"))

    def _edit_index(self, index: QModelIndex) -> None:
        self.table.selectRow(index.row())
        self.edit_selected()

    def edit_selected(self) -> MeasurementDialog | None:
        obs = self.selected()
        if obs is None or self.session.profile_id is None:
            return None
        if is_read_only(obs):
            self.session.notify.emit(READ_ONLY_TIP)
            return None
        dialog = MeasurementDialog(self, self.session.profile_id, existing=obs)
        dialog.accepted.connect(lambda: self.save_edit(obs, dialog.result_observation))
        dialog.open()
        return dialog

    def save_edit(self, before: Observation, after: Observation | None) -> None:
        if after is not None:
            self.session.undo.push(EditRecord(self.session.executor, before, after, "measurement"))

    def delete_selected(self) -> None:
        obs = self.selected()
        if obs is None:
            return
        if is_read_only(obs):
            self.session.notify.emit(READ_ONLY_TIP)
            return
        self.session.undo.push(DeleteRecord(self.session.executor, obs, "measurement"))
        self.session.notify.emit("Measurement deleted. Undo with Ctrl+Z.")

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
