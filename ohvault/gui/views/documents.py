"""Documents: every stored original, viewable in-app from memory; export only on request."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ohvault.atomic import atomic_write_bytes
from ohvault.changes import Change
from ohvault.documents import (
    DOCUMENT_KINDS,
    AlreadyAttached,
    DocumentEntry,
    attach_document,
    check_details,
    document_entries,
    edit_details,
)
from ohvault.errors import OhvaultError
from ohvault.gui.dates import OptionalDateEdit
from ohvault.gui.filedialogs import suggested
from ohvault.gui.models import Column, RecordRole, TableModel, TextFilter, fmt_date
from ohvault.gui.pdfview import PdfView
from ohvault.gui.provenance import READ_ONLY_TIP, ProvenanceLine, is_read_only, set_editable
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import (
    EmptyState,
    ViewHeader,
    button,
    error_label,
    lay_out_form_dialog,
)
from ohvault.model import Document


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _added(e: DocumentEntry) -> str:
    # Minutes too: two files with one name added on one day still read differently.
    return e.document.created_at.astimezone().strftime("%Y-%m-%d %H:%M")


DOC_COLUMNS: list[Column[DocumentEntry]] = [
    # Undated documents sort by when they were added.
    Column(
        "Date",
        lambda e: fmt_date(e.date),
        lambda e: fmt_date(e.date) or e.document.created_at.date().isoformat(),
    ),
    Column("Title", lambda e: e.title, lambda e: e.title.lower()),
    Column("Type", lambda e: e.kind),
    Column("Lab", lambda e: e.lab or ""),
    Column(
        "File",
        lambda e: f"{e.document.filename} · {_size(e.document.size)}",
        lambda e: e.document.filename.lower(),
    ),
]
EXPORT_WARNING = (
    "The exported copy is not encrypted: anyone who can read that folder can read it, and "
    "ohvault cannot delete it for you later. Export anyway?"
)
FILE_FILTER = "PDFs and images (*.pdf *.png *.jpg *.jpeg *.gif *.webp);;All files (*)"


class DocumentModel(TableModel[DocumentEntry]):
    def role_data(self, row: DocumentEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            d = row.document
            return (
                f"{d.filename}\n{_size(d.size)}, {d.media_type}\n"
                f"Added {_added(row)}\nFingerprint {d.sha256[:16]}"
            )
        return None


class DocumentDetailsDialog(QDialog):
    """Title, kind and date of a document, when attaching it or later."""

    def __init__(
        self,
        parent: QWidget | None,
        heading: str,
        *,
        title: str = "",
        kind: str = "other",
        document_date: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(heading)
        self.setAccessibleName(heading)
        self.setMinimumWidth(460)
        form = QFormLayout()
        form.setSpacing(10)
        self.title = QLineEdit(title)
        self.title.setAccessibleName("Title")
        form.addRow("Title", self.title)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Type")
        for value, shown in DOCUMENT_KINDS:
            self.kind.addItem(shown, value)
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0))
        form.addRow("Type", self.kind)
        self.date = OptionalDateEdit("Written on", required=False)
        self.date.set_value(document_date)
        form.addRow("Written on", self.date)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.error)

    def details(self) -> tuple[str, str, date | None]:
        return self.title.text().strip(), str(self.kind.currentData()), self.date.value()

    def accept(self) -> None:
        try:
            check_details(str(self.kind.currentData()), self.date.value())
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()


class DocumentsView(View):
    title = "Documents"
    icon_name = "documents"
    watches = frozenset({Change.DOCUMENT, Change.DIAGNOSTIC_REPORT})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        header = ViewHeader(
            "Documents",
            "Lab reports, letters, scans and other papers, encrypted in the vault.",
        )
        self.attach_button = header.add(button("Attach…", primary=True, icon="add"))
        self.attach_button.clicked.connect(self.attach_dialog)
        self.edit_button = header.add(
            button("Details…", icon="edit", tip="Edit the title, type and date")
        )
        self.edit_button.clicked.connect(self.edit_selected)
        self.export_button = header.add(
            button("Export…", icon="export", tip="Export a decrypted copy")
        )
        self.export_button.clicked.connect(self.export_dialog)
        self.delete_button = header.add(button("Delete", icon="delete", danger=True))
        self.delete_button.clicked.connect(self.delete_selected)
        self.root.addWidget(header)
        self.model = DocumentModel(DOC_COLUMNS)
        self.proxy = TextFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setAccessibleName("Documents table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        columns = self.table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        columns.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for section, width in ((3, 110), (4, 120)):  # long lab and file names elide
            columns.setSectionResizeMode(section, QHeaderView.ResizeMode.Interactive)
            columns.resizeSection(section, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.open_selected())
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        self._tips: dict[int, str] = {}
        self.provenance = ProvenanceLine(session)
        self.viewer = PdfView()
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setAccessibleName("Document image")
        self.image_scroll = QScrollArea()
        self.image_scroll.setWidgetResizable(True)
        self.image_scroll.setWidget(self.image)
        self._pixmap: QPixmap | None = None
        self.placeholder = EmptyState("Select a document to read it here.")
        self.right = QStackedWidget()
        for w in (self.placeholder, self.viewer, self.image_scroll):
            self.right.addWidget(w)
        split = QSplitter()
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        self.empty = EmptyState(
            "No documents yet.\nImported lab reports are kept here; use “Attach…” to add a "
            "letter, an imaging report or any other PDF or image."
        )
        self.left_stack = QStackedWidget()
        self.left_stack.addWidget(self.table)
        self.left_stack.addWidget(self.empty)
        lcol.addWidget(self.left_stack)
        lcol.addWidget(self.provenance)
        split.addWidget(left)
        split.addWidget(self.right)
        split.setSizes([700, 380])
        self.root.addWidget(split, 1)
        self.current: tuple[Document, bytes] | None = None
        self._selection_changed(None)

    def load(self) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> list[DocumentEntry]:
            return document_entries(ctx.vault.repo, pid)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show, label="Loading documents")

    def _show(self, entries: list[DocumentEntry]) -> None:
        self.model.set_rows(entries)
        self.left_stack.setCurrentWidget(self.table if entries else self.empty)
        self._show_content(None)
        self._selection_changed(None)

    def selected_entry(self) -> DocumentEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], RecordRole) if rows else None

    def selected(self) -> Document | None:
        entry = self.selected_entry()
        return entry.document if entry else None

    def _selection_changed(self, doc: Document | None) -> None:
        # Nothing selected: nothing to edit, export or delete.
        self.export_button.setEnabled(doc is not None)
        set_editable([self.delete_button, self.edit_button], doc, self._tips)
        for b in (self.delete_button, self.edit_button):
            if doc is None:
                b.setEnabled(False)
        self.provenance.show_for(doc)

    def open_selected(self) -> None:
        doc = self.selected()
        self._selection_changed(doc)
        if doc is None:
            self._show_content(None)
            return
        pid = self.session.profile_id

        def op(ctx: JobContext) -> tuple[Document, bytes]:
            return doc, ctx.vault.repo.document_content(pid, doc.id)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show_content, label="Opening the document")

    def _show_content(self, payload: tuple[Document, bytes] | None) -> None:
        self.current = payload
        self._pixmap = None
        if payload is None:
            self.viewer.clear()
            self.image.clear()
            self.placeholder.setText("Select a document to read it here.")
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
        elif doc.media_type.startswith("image/") and not (img := QImage.fromData(content)).isNull():
            self._pixmap = QPixmap.fromImage(img)
            self.right.setCurrentWidget(self.image_scroll)
            self._fit_image()
        else:
            self.placeholder.setText(
                "This kind of file cannot be shown here; export it to open it."
            )
            self.right.setCurrentWidget(self.placeholder)

    def _fit_image(self) -> None:
        if self._pixmap is None:
            return
        width = max(self.image_scroll.viewport().width() - 16, 100)
        pixmap = self._pixmap
        if pixmap.width() > width:
            pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        self.image.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_image()

    # --- attach and edit -----------------------------------------------------------------

    def attach_dialog(self) -> DocumentDetailsDialog | None:
        names, _ = QFileDialog.getOpenFileNames(self, "Attach documents", suggested(), FILE_FILTER)
        paths = [Path(n) for n in names]
        if not paths:
            return None
        if len(paths) > 1:
            for path in paths:
                self.attach(path, title=path.stem, kind="other", document_date=None)
            return None
        dialog = DocumentDetailsDialog(self, "Attach a document", title=paths[0].stem)
        dialog.accepted.connect(lambda: self.attach(paths[0], *dialog.details()))
        dialog.open()
        return dialog

    def attach(self, path: Path, title: str, kind: str, document_date: date | None) -> Any:
        """Read `path` on the worker and store it encrypted; errors are shown, nothing is lost."""
        pid = self.session.profile_id
        if pid is None:
            return None

        def op(ctx: JobContext) -> Document:
            try:
                content = path.read_bytes()
            except OSError as exc:
                from ohvault.errors import BadInput

                raise BadInput(f"Cannot read {path.name}: {exc.strerror}.") from None
            return ctx.apply(
                attach_document,
                ctx.vault.repo,
                pid,
                content,
                path.name,
                title=title,
                kind=kind,
                document_date=document_date,
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, AlreadyAttached):
                self.session.notify.emit("That file is already in the vault.")
                self.select(exc.document.id)
            else:
                self.session.bridge.error("Attaching the document", exc)

        return self.session.executor.run(
            op,
            success=lambda doc: self.session.notify.emit("Document attached, encrypted."),
            failure=failed,
            label="Attaching the document",
        )

    def select(self, document_id: str) -> None:
        for row in range(self.proxy.rowCount()):
            entry = self.proxy.data(self.proxy.index(row, 0), RecordRole)
            if entry is not None and entry.document.id == document_id:
                self.table.selectRow(row)
                return

    def edit_selected(self) -> DocumentDetailsDialog | None:
        entry = self.selected_entry()
        if entry is None:
            return None
        doc = entry.document
        if is_read_only(doc):
            self.session.notify.emit(READ_ONLY_TIP)
            return None
        dialog = DocumentDetailsDialog(
            self,
            "Document details",
            title=doc.title or entry.title,
            kind=doc.kind or next((v for v, s in DOCUMENT_KINDS if s == entry.kind), "other"),
            document_date=doc.document_date or entry.date,
        )
        dialog.accepted.connect(lambda: self._save_details(doc, *dialog.details()))
        dialog.open()
        return dialog

    def _save_details(self, doc: Document, title: str, kind: str, when: date | None) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> None:
            ctx.apply(
                edit_details,
                ctx.vault.repo,
                pid,  # type: ignore[arg-type]
                doc.id,
                title=title,
                kind=kind,
                document_date=when,
            )

        self.session.executor.run(op, label="Saving the document details")

    # --- export and delete -----------------------------------------------------------------

    def export_dialog(self) -> None:
        if self.current is None:
            self.session.notify.emit("Select a document first.")
            return
        if not self.session.bridge.confirm(
            "Export a decrypted copy", EXPORT_WARNING, ok="Export", danger=True
        ):
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Export document", suggested(self.current[0].filename)
        )
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

        # The repository deletes a record of any type: the kinds are named here.
        self.session.executor.run(
            op, writes={Change.of_record(doc.TYPE)}, label="Deleting the document"
        )

    def clear(self) -> None:
        super().clear()
        self.model.clear()
        self._show_content(None)
