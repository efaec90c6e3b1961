"""Audit log: every read and write, filterable, with a check of the hash chain."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
)

from ohvault.gui import theme
from ohvault.gui.models import AuditModel, TextFilter
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ViewHeader, button, label
from ohvault.vault import AuditEntry, ChainReport

LIMIT = 2000


class AuditView(View):
    title = "Audit log"
    icon_name = "audit"
    # Every read appends an entry; refreshing on each would chase its own tail.
    watches = frozenset()

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        header = ViewHeader(
            "Audit log",
            "Every time a record was read, added, changed or deleted; entries are chained so "
            "that tampering shows.",
        )
        self.verify_button = header.add(button("Verify chain", primary=True, icon="audit"))
        self.verify_button.clicked.connect(self.verify)
        refresh = header.add(button("Refresh"))
        refresh.clicked.connect(self.refresh)
        self.root.addWidget(header)
        self.result = label("", wrap=True)
        self.result.setAccessibleName("Verification result")
        self.result.setVisible(False)
        self.root.addWidget(self.result)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter entries")
        self.search.setAccessibleName("Filter audit entries")
        self.search.setClearButtonEnabled(True)
        row.addWidget(self.search, 3)
        self.action = QComboBox()
        self.action.setAccessibleName("Action")
        self.action.addItem("All actions", None)
        row.addWidget(self.action, 1)
        self.this_profile = QCheckBox("This profile only")
        self.this_profile.setAccessibleName("This profile only")
        self.this_profile.toggled.connect(lambda _: self.refresh())
        row.addWidget(self.this_profile)
        self.root.addLayout(row)
        self.model = AuditModel()
        self.proxy = TextFilter()
        self.proxy.setSourceModel(self.model)
        self.search.textChanged.connect(self._filter)
        self.action.currentIndexChanged.connect(lambda _: self._filter(self.search.text()))
        self.table = QTableView()
        self.table.setAccessibleName("Audit entries")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.root.addWidget(self.table, 1)
        self.last_report: ChainReport | None = None

    def _filter(self, text: str) -> None:
        action = self.action.currentData()
        self.proxy.set_text(f"{text} {action}" if action else text)

    def load(self) -> None:
        pid = self.session.profile_id if self.this_profile.isChecked() else None

        def op(ctx: JobContext) -> list[AuditEntry]:
            return ctx.vault.audit.entries(profile_id=pid, limit=LIMIT)

        self.session.executor.run(op, success=self._show, label="Loading the audit log")

    def _show(self, entries: list[AuditEntry]) -> None:
        self.model.set_rows(entries)
        current = self.action.currentData()
        self.action.blockSignals(True)
        self.action.clear()
        self.action.addItem("All actions", None)
        for action in sorted({e.action for e in entries}):
            self.action.addItem(action, action)
        self.action.setCurrentIndex(max(self.action.findData(current), 0))
        self.action.blockSignals(False)

    def verify(self) -> None:
        def op(ctx: JobContext) -> ChainReport:
            return ctx.vault.audit.verify()

        self.verify_button.setEnabled(False)
        job = self.session.executor.run(
            op, success=self._verified, label="Verifying the audit chain"
        )
        job.done.connect(lambda: self.verify_button.setEnabled(True))

    def _verified(self, report: ChainReport) -> None:
        self.last_report = report
        c = theme.colours()
        if report.ok:
            text = f"✔ The audit chain is intact ({report.entries} entries)."
            colour = c.normal
        else:
            where = f" at entry {report.first_bad_seq}" if report.first_bad_seq else ""
            text = f"✘ The audit chain is broken{where}: {report.reason}."
            colour = c.high
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.result.setVisible(True)

    def clear(self) -> None:
        super().clear()
        self.model.clear()
        self.result.setVisible(False)
