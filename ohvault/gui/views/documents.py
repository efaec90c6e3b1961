"""Documents: every stored original, viewable in-app from memory; export only on request."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ohvault.atomic import atomic_write_bytes
from ohvault.gui.models import Column, RecordRole, TableModel, TextFilter
from ohvault.gui.pdfview import PdfView
from ohvault.gui.provenance import READ_ONLY_TIP, ProvenanceLine, is_read_only, set_editable
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button
from ohvault.model import Document


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


DOC_COLUMNS: list[Column[Document]] = [
    Column("File", lambda d: d.filename, lambda d: d.filename.lower()),
    Column("Description", lambda d: d.description or ""),
    Column("Added", lambda d: d.created_at.date().isoformat(), lambda d: d.created_at.isoformat()),
    Column("Size", lambda d: _size(d.size), lambda d: d.size, align_right=True),
]

EXPORT_WARNING = (
    "The exported copy is not encrypted: anyone who can read that folder can read it, and "
    "ohvault cannot delete it for you later. Export anyway?"
)


class DocumentsView(View):
    title = "Documents"
    icon_name = "documents"
    watches = frozenset({"document"})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        header = ViewHeader(
            "Documents", "Original lab reports and files, kept encrypted inside the vault."
        )
        self.export_button = header.add(button("Export decrypted copy…", icon="export"))
        self.export_button.clicked.connect(self.export_dialog)
        self.delete_button = header.add(button("Delete", icon="delete", danger=True))
        self.delete_button.clicked.connect(self.delete_selected)
        self.root.addWidget(header)
        self.model: TableModel[Document] = TableModel(DOC_COLUMNS)
        self.proxy = TextFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setAccessibleName("Documents table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        columns.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.open_selected())
        self._tips: dict[int, str] = {}
        self.provenance = ProvenanceLine(session)
        self.viewer = PdfView()
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder = EmptyState("Select a document to read it here.")
        self.right = QStackedWidget()
        for w in (self.placeholder, self.viewer, self.image):
            self.right.addWidget(w)
        split = QSplitter()
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        self.empty = EmptyState("No documents yet.\nImported lab reports are kept here.")
        self.left_stack = QStackedWidget()
        self.left_stack.addWidget(self.table)
        self.left_stack.addWidget(self.empty)
        lcol.addWidget(self.left_stack)
        lcol.addWidget(self.provenance)
        split.addWidget(left)
        split.addWidget(self.right)
        split.setSizes([520, 560])
        self.root.addWidget(split, 1)
        self.current: tuple[Document, bytes] | None = None

    def load(self) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> list[Document]:
            return ctx.vault.repo.records(Document, pid, order="created_at DESC")  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show, label="Loading documents")

    def _show(self, docs: list[Document]) -> None:
        self.model.set_rows(docs)
        self.left_stack.setCurrentWidget(self.table if docs else self.empty)
        self._show_content(None)

    def selected(self) -> Document | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], RecordRole) if rows else None

    def open_selected(self) -> None:
        doc = self.selected()
        set_editable([self.delete_button], doc, self._tips)
        self.provenance.show_for(doc)
        if doc is None:
            return
        pid = self.session.profile_id

        def op(ctx: JobContext) -> tuple[Document, bytes]:
            return doc, ctx.vault.repo.document_content(pid, doc.id)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show_content, label="Opening the document")

    def _show_content(self, payload: tuple[Document, bytes] | None) -> None:
        self.current = payload
        if payload is None:
            self.viewer.clear()
            self.image.clear()
            self.right.setCurrentWidget(self.placeholder)
            return
        doc, content = payload
        if doc.media_type == "application/pdf":
            try:
                self.viewer.load(content)
            except Exception as exc:
                self.session.bridge.error("Opening the document", exc)
                return
            self.right.setCurrentWidget(self.viewer)
        elif doc.media_type.startswith("image/"):
            image = QImage.fromData(content)
            self.image.setPixmap(QPixmap.fromImage(image).scaledToWidth(600))
            self.right.setCurrentWidget(self.image)
        else:
            self.placeholder.setText(
                "This kind of file cannot be shown here; export it to open it."
            )
            self.right.setCurrentWidget(self.placeholder)

    def export_dialog(self) -> None:
        if self.current is None:
            self.session.notify.emit("Select a document first.")
            return
        if not self.session.bridge.confirm(
            "Export a decrypted copy", EXPORT_WARNING, ok="Export", danger=True
        ):
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export document", self.current[0].filename)
        if name:
            self.export_to(Path(name), confirmed=True)

    def export_to(self, path: Path, *, confirmed: bool = False) -> bool:
        """Write the open document decrypted to `path`; only after the warning was accepted."""
        if self.current is None:
            return False
        if not confirmed and not self.session.bridge.confirm(
            "Export a decrypted copy", EXPORT_WARNING, ok="Export", danger=True
        ):
            return False
        doc, content = self.current
        try:
            atomic_write_bytes(path, content)
        except OSError as exc:
            self.session.bridge.error("Exporting the document", exc)
            return False

        def op(ctx: JobContext) -> None:
            ctx.vault.audit.append(
                "export", record_type="document", record_id=doc.id, profile_id=doc.profile_id
            )

        self.session.executor.run(op, label="Recording the export")
        self.session.notify.emit("Decrypted copy exported.")
        return True

    def delete_selected(self) -> None:
        doc = self.selected()
        if doc is None:
            return
        if is_read_only(doc):
            self.session.notify.emit(READ_ONLY_TIP)
            return
        if not self.session.bridge.confirm(
            "Delete document",
            "Delete this document from the vault? Its original file cannot be restored afterwards "
            "(results read from it stay).",
            ok="Delete",
            danger=True,
        ):
            return
        pid = self.session.profile_id

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.delete(doc.TYPE, pid, doc.id)  # type: ignore[arg-type]

        self.session.executor.run(op, writes={"document"}, label="Deleting the document")

    def clear(self) -> None:
        super().clear()
        self.model.clear()
        self._show_content(None)
