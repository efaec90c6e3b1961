"""The left side of the lab report review: results in groups, each group a table.

Sure results first; then tests the catalog does not know, each with its own
"Map to…" button; then the rows the importer doubts, folded away with a count and
"Reject all unsure"; last, text that looked like a row but was not read as one.
The Import screen owns the flow (parse, teach, commit); this widget shows a
`Pending` and reports what the person does with it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui.pdf_review import (
    COL_CONFIDENCE,
    COL_DATE,
    COL_FLAG,
    COL_NAME,
    RESULTS,
    UNMAPPED,
    UNSURE,
    Pending,
    ReviewModel,
    ReviewRow,
)
from ohvault.gui.review_table import ReviewTable
from ohvault.gui.widgets import button, label
from ohvault.importing import result_flag


class ReviewGroups(QWidget):
    changed = Signal()  # ticks or groups changed: recount
    selected = Signal(object, int)  # (model, row) of the table the person clicked in
    unmatched_selected = Signal(object)  # an UnmatchedRow
    edit_requested = Signal()  # a double-click on a row
    map_requested = Signal(object)  # the ReviewRow whose Map to… was clicked

    def __init__(self) -> None:
        super().__init__()
        self.pending: Pending | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        self.model = ReviewModel()
        self.table = ReviewTable("Parsed results")
        self.table.setModel(self.model)
        # Every sure row is 80–100 %: the column only takes room (the unsure group shows it).
        self.table.setColumnHidden(COL_CONFIDENCE, True)
        col.addWidget(self.table, 3)

        self.unmapped_label = label("", "h2")
        col.addWidget(self.unmapped_label)
        self.unmapped_model = ReviewModel()
        self.unmapped_table = ReviewTable("Unmapped tests")
        self.unmapped_table.setModel(self.unmapped_model)
        self.unmapped_model.modelReset.connect(self._add_map_buttons)
        self.unmapped_table.setColumnHidden(COL_CONFIDENCE, True)  # always low: says nothing
        self.unmapped_table.max_rows = 6
        col.addWidget(self.unmapped_table, 2)

        urow = QHBoxLayout()
        urow.setContentsMargins(0, 0, 0, 0)
        self.unsure_toggle = QToolButton()
        self.unsure_toggle.setAccessibleName("Show unsure results")
        self.unsure_toggle.setCheckable(True)
        self.unsure_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.unsure_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.unsure_toggle.toggled.connect(self._toggle_unsure)
        urow.addWidget(self.unsure_toggle)
        urow.addStretch(1)
        self.reject_unsure_button = button("Reject all unsure")
        self.reject_unsure_button.clicked.connect(self.reject_unsure)
        urow.addWidget(self.reject_unsure_button)
        self.unsure_row = QWidget()
        self.unsure_row.setLayout(urow)
        col.addWidget(self.unsure_row)
        self.unsure_model = ReviewModel()
        self.unsure_table = ReviewTable("Unsure results")
        self.unsure_table.setModel(self.unsure_model)
        self.unsure_table.setVisible(False)
        self.unsure_table.max_rows = 6
        col.addWidget(self.unsure_table, 2)

        self.unmatched_label = label("Not recognised", "muted")
        col.addWidget(self.unmatched_label)
        self.unmatched = QListWidget()
        self.unmatched.setAccessibleName("Rows that were not recognised")
        self.unmatched.setMaximumHeight(90)
        self.unmatched.currentRowChanged.connect(self._unmatched_selected)
        col.addWidget(self.unmatched, 1)

        self.tables = (self.table, self.unmapped_table, self.unsure_table)
        self.models = {
            RESULTS: self.model,
            UNMAPPED: self.unmapped_model,
            UNSURE: self.unsure_model,
        }
        self.last_table: QTableView = self.table
        for t in self.tables:
            self.watch_selection(t)
            t.doubleClicked.connect(lambda _: self.edit_requested.emit())
        for m in self.models.values():
            m.dataChanged.connect(lambda *_: self.changed.emit())
            m.modelReset.connect(self.changed.emit)

    def watch_selection(self, table: QTableView) -> None:
        """Connect a table's (new) selection model; call again after `setModel`."""
        table.selectionModel().selectionChanged.connect(lambda *_: self._on_selected(table))

    # --- content ---------------------------------------------------------------------------

    def clear(self) -> None:
        self.pending = None
        for m in self.models.values():
            m.clear()
        self.unmatched.clear()

    def show_pending(self, pending: Pending) -> None:
        self.pending = pending
        self.regroup()
        from PySide6.QtWidgets import QListWidgetItem

        self.unmatched.clear()
        report = pending.report
        for row in report.unmatched:
            item = QListWidgetItem(f"p.{row.page}  {row.text}")
            item.setToolTip(row.reason)
            self.unmatched.addItem(item)
        self.unmatched.setVisible(bool(report.unmatched))
        self.unmatched_label.setVisible(bool(report.unmatched))
        self.unmatched_label.setText(
            f"Not read as results ({len(report.unmatched)}): text that looked like a row"
        )
        first = next((t for t in self.tables if t.isVisibleTo(self) and t.model().rowCount()), None)
        if first is not None:
            first.selectRow(0)

    def show_other(self, note: str, lines: list[str] | tuple[str, ...] = ()) -> None:
        """Another kind of review (FHIR) in the main table: the groups step aside; `note`
        and `lines` (what that file had that is not imported) show in the bottom list."""
        for w in (self.unmapped_label, self.unmapped_table, self.unsure_row, self.unsure_table):
            w.setVisible(False)
        self.unmatched.clear()
        self.unmatched.addItems(list(lines))
        self.unmatched.setVisible(bool(lines))
        self.unmatched_label.setText(note)
        self.unmatched_label.setVisible(bool(note) or bool(lines))

    def regroup(self) -> None:
        """Each row into its group's table (after parsing, a correction or a mapping)."""
        pending = self.pending
        if pending is None:
            return
        report_date = pending.report.collection_date
        # A date column that repeats the collection date above says nothing: shown when it differs.
        same_date = all(row.result.date in (None, report_date) for row in pending.rows)
        for name, model in self.models.items():
            model.set_rows(pending.group(name))
        for table in self.tables:
            table.setColumnHidden(COL_DATE, same_date)
        # Sure rows are all 80–100 % and unmapped ones all low: the number says nothing there.
        for table in (self.table, self.unmapped_table):
            table.setColumnHidden(COL_CONFIDENCE, True)
        # Unmapped tests rarely carry a flag: the column shows only when one does.
        self.unmapped_table.setColumnHidden(
            COL_FLAG, not any(result_flag(r.result) for r in self.unmapped_model.rows)
        )
        for table in self.tables:
            table.fit_columns()
        unmapped = len(self.unmapped_model.rows)
        unsure = len(self.unsure_model.rows)
        self.unmapped_label.setText(
            f"Not in the catalog ({unmapped}): map each to a test, or keep it as its own test"
        )
        for w in (self.unmapped_label, self.unmapped_table):
            w.setVisible(unmapped > 0)
        self.unsure_row.setVisible(unsure > 0)
        self.unsure_table.setVisible(unsure > 0 and self.unsure_toggle.isChecked())
        self.label_unsure()
        self.changed.emit()

    def label_unsure(self) -> None:
        n = len(self.unsure_model.rows)
        shown = self.unsure_toggle.isChecked()
        ticked = sum(r.accepted for r in self.unsure_model.rows)
        self.unsure_toggle.setText(
            f"{'Hide' if shown else 'Show'} {n} unsure result{'s' if n != 1 else ''}"
            + (f" ({ticked} ticked)" if ticked else " (not imported unless ticked)")
        )
        self.unsure_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _toggle_unsure(self, shown: bool) -> None:
        self.unsure_table.setVisible(shown and bool(self.unsure_model.rows))
        self.label_unsure()

    def reject_unsure(self) -> None:
        self.unsure_model.set_all(False)
        self.label_unsure()

    def set_all(self, accepted: bool) -> None:
        for model in self.models.values():
            model.set_all(accepted)
        self.label_unsure()

    def _add_map_buttons(self) -> None:
        table = self.unmapped_table
        for i, row in enumerate(self.unmapped_model.rows):
            b = QPushButton("Map to…")
            table.min_widths[COL_NAME] = b.sizeHint().width()
            table.verticalHeader().setDefaultSectionSize(
                max(table.verticalHeader().defaultSectionSize(), b.sizeHint().height() + 4)
            )
            b.setAccessibleName(f"Map {row.result.printed_name} to a test")
            b.setToolTip("Say which catalog test this is, or keep it as its own test")
            b.clicked.connect(lambda _=False, row=row: self.map_requested.emit(row))
            table.setIndexWidget(self.unmapped_model.index(i, COL_NAME), b)
        table.fit_columns()

    # --- selection -------------------------------------------------------------------------

    def selected_row(self) -> ReviewRow | None:
        table = self.last_table
        model = table.model()
        if self.pending is None or not isinstance(model, ReviewModel):
            return None
        rows = table.selectionModel().selectedRows()
        return model.rows[rows[0].row()] if rows else None

    def _on_selected(self, table: QTableView) -> None:
        rows = table.selectionModel().selectedRows()
        if not rows:
            return
        self.last_table = table
        if isinstance(table.model(), ReviewModel):
            for other in self.tables:
                if other is not table:
                    other.selectionModel().clearSelection()
        self.selected.emit(table.model(), rows[0].row())

    def _unmatched_selected(self, row: int) -> None:
        if self.pending is None or row < 0:
            return
        self.unmatched_selected.emit(self.pending.report.unmatched[row])

    def size_hint_width(self, model: Any, cap: int = 220) -> int:
        """What the main table's columns need (names capped: past that they elide)."""
        from ohvault.gui.pdf_review import COL_PRINTED

        return sum(
            min(self.table.need(c), cap)
            if isinstance(model, ReviewModel) and c in (COL_PRINTED, COL_NAME)
            else self.table.need(c)
            for c in range(model.columnCount())
            if not self.table.isColumnHidden(c)
        )
