"""Patients (clinician vaults): who sent bundles, with which key, when; import and open them.

Each patient is one profile. Choosing a patient here is the clinician's
equivalent of the personal profile switcher: the other screens then show that
patient's (read-only) records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QStackedWidget,
    QTableView,
)

from ohvault.changes import Change
from ohvault.gui.bundle_import import BUNDLE_SUFFIX, BundleImporter, show_my_key
from ohvault.gui.filedialogs import suggested
from ohvault.gui.models import Column, RecordRole, TableModel
from ohvault.gui.provenance import describe_import
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button, label


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


PATIENT_COLUMNS: list[Column[Any]] = [
    Column("Patient", lambda p: p.name, lambda p: p.name.lower()),
    Column("Sender key fingerprint", lambda p: p.sender_fingerprint or "—"),
    Column("Last import", lambda p: _when(p.last_import), lambda p: p.last_import or ""),
    Column(
        "Provenance",
        lambda p: (
            ("Signed bundles" if p.sender_fingerprint else "Made in this vault")
            + (f" · key changed {p.key_changes}×" if p.key_changes else "")
        ),
    ),
]


class PatientsView(View):
    title = "Patients"
    icon_name = "patients"
    watches = frozenset({Change.PROFILE})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        header = ViewHeader(
            "Patients", "Each patient's records arrive as signed, encrypted bundles they send you."
        )
        self.key_button = header.add(button("My public key", icon="key"))
        self.key_button.clicked.connect(lambda: show_my_key(self, self.session))
        self.import_button = header.add(button("Import bundle…", primary=True, icon="import"))
        self.import_button.clicked.connect(self.pick_bundle)
        self.root.addWidget(header)
        self.model: TableModel[Any] = TableModel(PATIENT_COLUMNS)
        self.table = QTableView()
        self.table.setAccessibleName("Patients table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.empty = EmptyState(
            "No patients yet.\n\nGive patients your public key (“My public key”), then import "
            "the .ohvbundle files they send you: drop them on this window or use “Import bundle…”."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.root.addWidget(self.stack, 2)
        self.history_title = label("Bundles from this patient", "h2")
        self.root.addWidget(self.history_title)
        self.history = label("", "muted", wrap=True)
        self.history.setAccessibleName("Import history")
        self.history.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.history.setMinimumHeight(60)
        self.root.addWidget(self.history, 1)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Bundle import progress")
        self.progress.setVisible(False)
        self.cancel_button = button("Cancel")
        self.cancel_button.setVisible(False)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        row.addStretch(0)
        self.open_button = button("Open patient", icon="profile")
        self.open_button.clicked.connect(self.open_selected)
        row.addWidget(self.open_button)
        self.root.addLayout(row)
        self.importer = BundleImporter(self, session)
        self.importer.progressed.connect(self._progress)
        self.importer.finished.connect(self._import_finished)
        self.cancel_button.clicked.connect(self.importer.cancel)
        self.patients: list[Any] = []

    # --- View -------------------------------------------------------------------------------

    def refresh(self) -> None:
        # Not tied to one profile: the list is the way to choose one.
        self.stale = False
        self.load()

    def load(self) -> None:
        def op(ctx: JobContext) -> list[Any]:
            from ohvault.bundles.patients import patients

            return patients(ctx.vault)

        self.session.executor.run(op, success=self._show, label="Loading patients")

    def _show(self, rows: list[Any]) -> None:
        self.patients = rows
        self.model.set_rows(rows)
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        self.history.setText("")
        current = next(
            (i for i, p in enumerate(rows) if p.profile_id == self.session.profile_id), None
        )
        if current is not None:
            self.table.selectRow(current)
        self.open_button.setEnabled(bool(rows))

    def clear(self) -> None:
        super().clear()
        self.importer.cancel()
        self.patients = []
        self.model.clear()
        self.history.setText("")

    # --- selection --------------------------------------------------------------------------

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], RecordRole) if rows else None

    def _selected(self) -> None:
        patient = self.selected()
        if patient is None:
            self.history.setText("")
            return
        pid = patient.profile_id

        def op(ctx: JobContext) -> list[Any]:
            from ohvault.bundles.patients import import_history

            return import_history(ctx.vault, pid)

        def done(items: list[Any]) -> None:
            if self.selected() is not None and self.selected().profile_id == pid:
                self.history.setText(
                    "\n".join(describe_import(i) for i in reversed(items))
                    or "No bundles: this profile was made in this vault."
                )

        self.session.executor.run(op, success=done, label="Reading the import history")

    def open_selected(self) -> None:
        patient = self.selected()
        if patient is None:
            return
        self.session.set_profile(patient.profile_id)
        window = self.window()
        if hasattr(window, "show_view"):
            window.show_view("Results")

    # --- importing --------------------------------------------------------------------------

    def pick_bundle(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Import bundles",
            suggested(),
            f"ohvault bundles (*{BUNDLE_SUFFIX});;All files (*)",
        )
        self.import_files([Path(n) for n in names])

    def import_files(self, paths: list[Path]) -> None:
        self._queue = list(paths)
        self._next_file()

    def _next_file(self) -> None:
        queue = getattr(self, "_queue", [])
        if not queue or self.importer.busy:
            return
        path = queue.pop(0)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.importer.start(path)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _import_finished(self, result: Any) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.last_result = result
        self.mark_stale()
        self._next_file()
