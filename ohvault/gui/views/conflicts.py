"""Sync conflicts: a record two devices changed at once, both versions side by side.

The vault already shows one version (the later edit won the conflicting
fields); the other is kept whole. "Keep this version" accepts what the vault
shows, "Keep the other version" restores the other's fields as a normal edit,
which then syncs like any change. The resolution syncs too, so every device
stops showing the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
)

from ohvault.changes import Change
from ohvault.gui.models import Column, RecordRole, TableModel
from ohvault.gui.sync_ui import SYNCED_CHANGES
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button, label

# Fields that say which record it is, shown above the conflicting ones.
_NAME_FIELDS = ("analyte", "name", "title", "substance", "vaccine", "filename", "effective")


@dataclass
class ConflictView:
    """One conflict with both versions' values of the fields to show (strings)."""

    id: str
    kind: str
    detected_at: str
    fields: list[str]
    rows: list[tuple[str, str, str]]  # (field, this vault, other version)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def load_conflicts(vault: Any) -> list[ConflictView]:
    """On the worker: open conflicts with the current version read through the repository."""
    from ohvault.errors import RecordNotFound
    from ohvault.model import RECORD_CLASSES
    from ohvault.sync import SyncClient

    by_table = {cls.TABLE: cls for cls in RECORD_CLASSES.values()}
    out: list[ConflictView] = []
    for c in SyncClient(vault).conflicts():
        current: Any = None
        cls = by_table.get(c.table)
        try:
            if cls is not None and c.profile_id:
                current = vault.repo.get(cls, c.profile_id, c.record_id)
            elif c.table == "profiles":
                current = vault.repo.profile(c.record_id)
        except RecordNotFound:
            current = None
        names = [f for f in _NAME_FIELDS if f in c.other and f not in c.fields]
        rows = []
        for f in [*names, *c.fields]:
            mine = getattr(current, f, None) if current is not None else None
            if current is not None and getattr(current, "deleted", False) and f == "deleted":
                mine = True
            rows.append((f.replace("_", " "), _text(mine), _text(c.other.get(f))))
        kind = cls.TYPE.value.replace("_", " ") if cls is not None else c.table
        out.append(ConflictView(c.id, kind, c.detected_at, list(c.fields), rows))
    return out


CONFLICT_COLUMNS: list[Column[ConflictView]] = [
    Column("Detected", lambda c: c.detected_at[:16].replace("T", " "), lambda c: c.detected_at),
    Column("Record", lambda c: c.kind.capitalize()),
    Column("Changed on both devices", lambda c: ", ".join(f.replace("_", " ") for f in c.fields)),
]


class ConflictsView(View):
    title = "Sync conflicts"
    icon_name = "sync"
    watches = SYNCED_CHANGES | {Change.SETTINGS}

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.root.addWidget(
            ViewHeader(
                "Sync conflicts",
                "Records changed on two devices at once. The vault shows the later change; "
                "choose which version to keep.",
            )
        )
        self.model: TableModel[ConflictView] = TableModel(CONFLICT_COLUMNS)
        self.table = QTableView()
        self.table.setAccessibleName("Conflicts table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.compare = QTableWidget(0, 3)
        self.compare.setAccessibleName("Both versions side by side")
        self.compare.setHorizontalHeaderLabels(["Field", "This vault shows", "Other version"])
        self.compare.verticalHeader().setVisible(False)
        self.compare.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.compare.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.empty = EmptyState("No conflicts. Every device agrees.")
        self.stack = QStackedWidget()
        split = QSplitter()
        split.addWidget(self.table)
        right = QStackedWidget()
        right.addWidget(self.compare)
        split.addWidget(right)
        split.setSizes([420, 560])
        self.stack.addWidget(split)
        self.stack.addWidget(self.empty)
        self.root.addWidget(self.stack, 1)
        row = QHBoxLayout()
        self.hint = label("", "muted")
        row.addWidget(self.hint, 1)
        self.keep_current = button("Keep this vault's version")
        self.keep_current.clicked.connect(lambda: self.resolve("current"))
        self.keep_other = button("Keep the other version", primary=True)
        self.keep_other.clicked.connect(lambda: self.resolve("other"))
        row.addWidget(self.keep_current)
        row.addWidget(self.keep_other)
        self.root.addLayout(row)
        self._selected()

    def refresh(self) -> None:
        self.stale = False
        self.load()  # conflicts may be in any profile (or none)

    def load(self) -> None:
        def op(ctx: JobContext) -> list[ConflictView]:
            return load_conflicts(ctx.vault)

        self.session.executor.run(op, success=self._show, label="Loading conflicts")

    def _show(self, rows: list[ConflictView]) -> None:
        self.model.set_rows(rows)
        self.stack.setCurrentIndex(0 if rows else 1)
        if rows:
            self.table.selectRow(0)
        self._selected()

    def clear(self) -> None:
        super().clear()
        self.model.clear()
        self.compare.setRowCount(0)

    def selected(self) -> ConflictView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], RecordRole) if rows else None

    def _selected(self) -> None:
        conflict = self.selected()
        self.keep_current.setEnabled(conflict is not None)
        self.keep_other.setEnabled(conflict is not None)
        self.compare.setRowCount(0)
        if conflict is None:
            self.hint.setText("")
            return
        self.compare.setRowCount(len(conflict.rows))
        for r, (name, mine, other) in enumerate(conflict.rows):
            for c, text in enumerate((name, mine, other)):
                item = QTableWidgetItem(text)
                if c and name.replace(" ", "_") in conflict.fields and mine != other:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.compare.setItem(r, c, item)
        self.hint.setText(f"{len(conflict.fields)} field(s) differ.")

    def resolve(self, keep: str) -> None:
        conflict = self.selected()
        if conflict is None:
            return
        cid = conflict.id

        def op(ctx: JobContext) -> None:
            from ohvault.sync import SyncClient

            ctx.apply(SyncClient(ctx.vault).resolve, cid, keep)

        self.session.executor.run(
            op,
            success=lambda _: self.session.notify.emit(
                "Conflict resolved; it syncs to your other devices."
            ),
            label="Resolving the conflict",
        )
