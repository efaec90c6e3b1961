"""Import: drop or pick lab report PDFs, parse them on the worker, review against the page, commit.

The review shows the parsed rows beside the PDF page (rendered from memory);
selecting a row highlights where it was read. Low-confidence rows are tinted
and unmatched rows are listed apart. Nothing is stored until "Import".
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput, OhvaultError
from ohvault.gui import catalog, theme
from ohvault.gui.fhir_review import FhirPending, FhirReviewModel, record_details
from ohvault.gui.models import FLAG_WORDS
from ohvault.gui.pdfview import PdfView
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ViewHeader, button, error_label, label, lay_out_form_dialog
from ohvault.importing import result_flag

CONFIDENT = 0.8
MAX_BYTES = 50 * 1024 * 1024
Index = QModelIndex | QPersistentModelIndex


@dataclass
class Pending:
    """One file going through parse → review → commit."""

    path: Path
    content: bytes
    report: Any = None
    accepted: list[bool] = field(default_factory=list)
    edited: dict[int, Any] = field(default_factory=dict)

    @property
    def results(self) -> list[Any]:
        return [self.edited.get(i, r) for i, r in enumerate(self.report.results)]


COLUMNS = [
    "",
    "Printed as",
    "Recognised as",
    "Result",
    "Unit",
    "Reference",
    "Flag",
    "Date",
    "Confidence",
]


class ReviewModel(QAbstractTableModel):
    """Parsed rows with an accept checkbox in the first column."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: Pending | None = None

    def set_pending(self, pending: Pending | None) -> None:
        self.beginResetModel()
        self.pending = pending
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.pending is None:
            return 0
        return len(self.pending.report.results)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def result(self, row: int) -> Any:
        assert self.pending is not None
        return self.pending.results[row]

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.pending is None:
            return None
        r = self.result(index.row())
        col = index.column()
        low = r.confidence < CONFIDENT or r.name is None
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return (
                Qt.CheckState.Checked
                if self.pending.accepted[index.row()]
                else Qt.CheckState.Unchecked
            )
        if role == Qt.ItemDataRole.DisplayRole:
            ref = ""
            if r.ref_low is not None and r.ref_high is not None:
                ref = f"{r.ref_low:g}–{r.ref_high:g}"
            elif r.ref_text:
                ref = r.ref_text
            value = f"{r.value:g}" if isinstance(r.value, float) else str(r.value)
            flag = result_flag(r)
            return [
                "",
                r.printed_name,
                r.name or "(not recognised)",
                value,
                r.unit or "",
                ref,
                FLAG_WORDS.get(flag or "", flag or ""),
                r.date.isoformat() if r.date else "",
                f"{r.confidence:.0%}",
            ][col]
        if role == Qt.ItemDataRole.BackgroundRole and low:
            c = theme.colours()
            return QBrush(QColor("#3a2f1a" if c.dark else "#fff1d6"))
        if role == Qt.ItemDataRole.ForegroundRole and col in (3, 6):
            flag = result_flag(r)
            if flag and flag != "N":
                return QBrush(QColor(theme.flag_colour(flag)))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (1, 2):
                return r.printed_name if col == 1 else (r.name or "Not recognised")
            if low:
                return "Low confidence: check this row against the page before importing."
            if index.row() in self.pending.edited:
                return "Edited by you"
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if self.pending is None or index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        self.pending.accepted[index.row()] = Qt.CheckState(value) == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [role])
        return True

    def set_all(self, accepted: bool) -> None:
        if self.pending is None:
            return
        self.pending.accepted = [accepted] * len(self.pending.accepted)
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))


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
            from PySide6.QtWidgets import QCompleter

            comp = QCompleter(names, self)
            comp.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            comp.setFilterMode(Qt.MatchFlag.MatchContains)
            self.name.setCompleter(comp)
        self.value = QLineEdit(
            f"{result.value:g}" if isinstance(result.value, float) else str(result.value)
        )
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
        changes: dict[str, Any] = {
            "name": analyte.preferred_name if analyte else name,
            "loinc": analyte.loinc if analyte else None,
            "category": analyte.category if analyte else self.original.category,
            "value": value,
            "value_num": value_num,
            "unit": unit,
            "unit_ucum": unit,
            "confidence": 1.0,
        }
        if analyte is not None and value_num is not None:
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
            changes.update(value_canonical=canonical, unit_canonical=analyte.canonical_unit)
        return dataclasses.replace(self.original, **changes)

    def accept(self) -> None:
        try:
            self.edited = self.build()
        except OhvaultError as exc:
            self.error.setText(exc.message)
            return
        super().accept()


class ImportView(View):
    title = "Import"
    icon_name = "import"
    watches = frozenset()
    committed = Signal(object)  # the importer's outcome

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.header = ViewHeader(
            "Import lab reports", "Drop PDF files anywhere on this window, or choose them."
        )
        self.fhir_button = self.header.add(
            button("Choose FHIR file…", icon="import", tip="A FHIR R4 Bundle JSON from another app")
        )
        self.fhir_button.clicked.connect(self.pick_fhir)
        self.pick_button = self.header.add(button("Choose PDFs…", primary=True, icon="import"))
        self.pick_button.clicked.connect(self.pick_files)
        self.root.addWidget(self.header)
        self.queue: deque[Path] = deque()
        self.pending: Pending | None = None
        self.fhir_pending: FhirPending | None = None
        self.job: Any = None
        self.stack = QStackedWidget()
        self.root.addWidget(self.stack, 1)

        # idle page
        self.idle = QWidget()
        icol = QVBoxLayout(self.idle)
        drop = QFrame()
        drop.setObjectName("panel")
        drop.setMinimumHeight(260)
        dcol = QVBoxLayout(drop)
        dcol.addStretch(1)
        icon = QLabel()
        icon.setPixmap(theme.icon("import", theme.colours().accent).pixmap(56, 56))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        dcol.addWidget(icon)
        hint = label("Drop lab report PDFs here", "h2")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        dcol.addWidget(hint)
        sub = label(
            "Results are read on this computer. You review every row before anything is saved; "
            "the original PDF is kept, encrypted, with the results.",
            "muted",
            wrap=True,
        )
        sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        dcol.addWidget(sub)
        dcol.addStretch(1)
        icol.addWidget(drop)
        icol.addStretch(1)
        self.stack.addWidget(self.idle)

        # parsing page
        self.parsing = QWidget()
        pcol = QVBoxLayout(self.parsing)
        pcol.addStretch(1)
        self.parse_label = label("", "h2")
        self.parse_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pcol.addWidget(self.parse_label)
        self.parse_bar = QProgressBar()
        self.parse_bar.setAccessibleName("Reading progress")
        self.parse_bar.setMaximumWidth(420)
        prow = QHBoxLayout()
        prow.addStretch(1)
        prow.addWidget(self.parse_bar)
        self.cancel_button = button("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        prow.addWidget(self.cancel_button)
        prow.addStretch(1)
        pcol.addLayout(prow)
        pcol.addStretch(2)
        self.stack.addWidget(self.parsing)

        # review page
        self.review = QWidget()
        rcol = QVBoxLayout(self.review)
        rcol.setContentsMargins(0, 0, 0, 0)
        self.identity_banner = QFrame()
        self.identity_banner.setObjectName("warning")
        brow = QHBoxLayout(self.identity_banner)
        self.identity_text = label("", wrap=True)
        self.identity_text.setAccessibleName("Profile mismatch warning")
        brow.addWidget(self.identity_text, 1)
        self.identity_banner.setVisible(False)
        rcol.addWidget(self.identity_banner)
        self.summary = label("", "muted", wrap=True)
        rcol.addWidget(self.summary)
        split = QSplitter()
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        self.model = ReviewModel()
        self.table = QTableView()
        self.table.setAccessibleName("Parsed results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The names take what is left and end in "…" (full text in the tooltip); the short
        # columns (value, unit, flag) are never cut and the table never scrolls sideways.
        for col in (1, 2):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(28)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setWordWrap(False)
        self.fhir_model = FhirReviewModel()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._row_selected())
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        lcol.addWidget(self.table, 3)
        self.unmatched_label = label("Not recognised", "h2")
        lcol.addWidget(self.unmatched_label)
        self.unmatched = QListWidget()
        self.unmatched.setAccessibleName("Rows that were not recognised")
        self.unmatched.currentRowChanged.connect(self._unmatched_selected)
        lcol.addWidget(self.unmatched, 1)
        split.addWidget(left)
        self.viewer = PdfView()
        self.viewer.zoom = 1.8  # reading one row needs a closer look than reading the page
        self.details = QLabel("")
        self.details.setObjectName("panel")
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Record details")
        self.details.setMargin(14)
        self.right = QStackedWidget()
        self.right.addWidget(self.viewer)
        self.right.addWidget(self.details)
        split.addWidget(self.right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.right.setMinimumWidth(260)
        self.split = split
        rcol.addWidget(split, 1)
        actions = QHBoxLayout()
        self.all_button = button("Accept all")
        self.all_button.clicked.connect(lambda: self.active_model.set_all(True))
        self.none_button = button("Reject all")
        self.none_button.clicked.connect(lambda: self.active_model.set_all(False))
        self.edit_button = button("Correct…", icon="edit")
        self.edit_button.clicked.connect(self.edit_selected)
        self.skip_button = button("Skip this file")
        self.skip_button.clicked.connect(self.skip)
        self.commit_button = button("Import", primary=True, icon="import")
        self.commit_button.clicked.connect(lambda: self.commit())
        for b in (self.all_button, self.none_button, self.edit_button):
            actions.addWidget(b)
        actions.addStretch(1)
        actions.addWidget(self.skip_button)
        actions.addWidget(self.commit_button)
        rcol.addLayout(actions)
        self.stack.addWidget(self.review)
        for m in (self.model, self.fhir_model):
            m.dataChanged.connect(lambda *_: self._update_counts())
            m.modelReset.connect(self._update_counts)
        self.mismatch: list[str] = []

    # --- View -------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.stale = False  # nothing to load: the screen shows what is in flight

    def load(self) -> None:
        pass

    def clear(self) -> None:
        super().clear()
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.queue.clear()
        self.pending = None
        self.fhir_pending = None
        self.model.set_pending(None)
        self.fhir_model.set_pending(None)
        self.details.clear()
        self.viewer.clear()
        self.unmatched.clear()
        self.stack.setCurrentWidget(self.idle)

    # --- queue --------------------------------------------------------------------------------

    def pick_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Choose lab reports", "", "PDF files (*.pdf)")
        if names:
            self.add_files([Path(n) for n in names])

    def pick_fhir(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Choose a FHIR file", "", "FHIR Bundle JSON (*.json)"
        )
        if names:
            self.add_files([Path(n) for n in names])

    def add_fhir(self, path: Path) -> None:
        self.add_files([path])

    @property
    def active_model(self) -> Any:
        return self.table.model()

    def _use_model(self, model: Any) -> None:
        if self.table.model() is not model:
            self.table.setModel(model)
            self.table.selectionModel().selectionChanged.connect(lambda *_: self._row_selected())
        fhir = model is self.fhir_model
        self.right.setCurrentWidget(self.details if fhir else self.viewer)
        self.edit_button.setVisible(not fhir)

    def add_files(self, paths: list[Path]) -> None:
        self.queue.extend(paths)
        if self.pending is None and self.job is None:
            self._next()

    def _next(self) -> None:
        self.pending = None
        self.fhir_pending = None
        self.model.set_pending(None)
        self.fhir_model.set_pending(None)
        self.details.clear()
        self.viewer.clear()
        if not self.queue:
            self.stack.setCurrentWidget(self.idle)
            self.header.set_subtitle("Drop PDF files anywhere on this window, or choose them.")
            return
        path = self.queue.popleft()
        if path.suffix.lower() == ".json":
            self.parse_fhir(path)
            return
        try:
            if path.stat().st_size > MAX_BYTES:
                raise BadInput("That file is larger than 50 MB; lab reports are much smaller.")
            content = path.read_bytes()
        except (OSError, BadInput) as exc:
            self.session.bridge.error("Reading the file", exc)
            self._next()
            return
        self.parse(Pending(path, content))

    def parse(self, pending: Pending, password: str | None = None, ocr: bool = False) -> None:
        self.stack.setCurrentWidget(self.parsing)
        self.parse_label.setText(f"Reading {pending.path.name}…")
        self.header.set_subtitle(f"{len(self.queue)} more in the queue" if self.queue else "")
        self.parse_bar.setRange(0, 0)

        def op(ctx: JobContext) -> Any:
            from ohvault.labs.sandbox import parse_pdf_isolated as parse_pdf

            return parse_pdf(
                pending.content,
                password=password,
                ocr=ocr,
                progress=lambda done, total: ctx.progress(
                    done, total, f"Reading page {done} of {total}"
                ),
                should_cancel=ctx.cancelled,
            )

        self.job = self.session.executor.run(
            op,
            success=lambda report: self._parsed(pending, report),
            failure=lambda exc: self._parse_failed(pending, exc, password),
            label="Reading the lab report",
            needs_vault=False,
        )
        self.job.progressed.connect(self._progress)

    def parse_fhir(self, path: Path) -> None:
        self.stack.setCurrentWidget(self.parsing)
        self.parse_label.setText(f"Reading {path.name}…")
        self.parse_bar.setRange(0, 0)

        def op(ctx: JobContext) -> Any:
            from ohvault.fhir.plain import read_fhir_file

            return read_fhir_file(path)

        def failed(exc: BaseException) -> None:
            self.job = None
            self.session.bridge.error(f"Reading {path.name}", exc)
            self._next()

        self.job = self.session.executor.run(
            op,
            success=lambda content: self._fhir_parsed(path, content),
            failure=failed,
            label="Reading the FHIR file",
        )

    def _fhir_parsed(self, path: Path, content: Any) -> None:
        self.job = None
        pending = FhirPending.build(path, content)
        self.fhir_pending = pending
        self._use_model(self.fhir_model)
        self.fhir_model.set_pending(pending)
        self.unmatched.clear()
        self.unmatched.setVisible(False)
        skipped = ", ".join(f"{n} {k}" for k, n in sorted(content.skipped.items()))
        self.unmatched_label.setText(f"Not kept (kinds ohvault does not store): {skipped}")
        self.unmatched_label.setVisible(bool(skipped))
        self.identity_banner.setVisible(False)
        self.mismatch = []
        self.stack.setCurrentWidget(self.review)
        self._size_split()
        profile = self.session.profile
        self.header.set_subtitle(
            f"{path.name} · FHIR R4 Bundle · into {profile.name if profile else 'this profile'}"
        )
        if pending.rows:
            self.table.selectRow(0)

    def _progress(self, done: int, total: int, text: str) -> None:
        self.parse_bar.setRange(0, total)
        self.parse_bar.setValue(done)
        self.parse_label.setText(text)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _parse_failed(
        self, pending: Pending, exc: BaseException, password: str | None = None
    ) -> None:
        self.job = None
        from ohvault.labs.errors import (
            NoTextLayer,
            ParseCancelled,
            PdfPasswordIncorrect,
            PdfPasswordRequired,
        )
        from ohvault.labs.ocr import ocr_available

        if isinstance(exc, ParseCancelled):
            self.session.notify.emit("Import cancelled.")
            self.queue.clear()
            self._next()
            return
        if isinstance(exc, PdfPasswordRequired) and self.session.bridge.interactive:
            wrong = isinstance(exc, PdfPasswordIncorrect)
            text, ok = QInputDialog.getText(
                self,
                "Password-protected PDF",
                ("That password is wrong. " if wrong else "")
                + "This PDF is protected. Enter its password (often printed in the lab's e-mail):",
                QLineEdit.EchoMode.Password,
            )
            if ok and text:
                self.parse(pending, text)
                return
        if (
            isinstance(exc, NoTextLayer)
            and "scanned" in str(exc)
            and ocr_available()
            and self.session.bridge.interactive
        ):
            answer = QMessageBox.question(
                self,
                "Scanned report",
                f"{pending.path.name} is a scanned image with no text in it.\n\n"
                "Read it with text recognition (OCR)? Text recognition can misread digits, so "
                "every value it finds is left unticked for you to check against the page.",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.parse(pending, password, ocr=True)
                return
        self.session.bridge.error(f"Reading {pending.path.name}", exc)
        self._next()

    def _parsed(self, pending: Pending, report: Any) -> None:
        self.job = None
        self._use_model(self.model)
        pending.report = report
        pending.accepted = [
            r.name is not None and r.confidence >= CONFIDENT for r in report.results
        ]
        self.pending = pending
        self.model.set_pending(pending)
        self.viewer.load(pending.content)
        self.unmatched.clear()
        for row in report.unmatched:
            item = QListWidgetItem(f"p.{row.page}  {row.text}")
            item.setToolTip(row.reason)
            self.unmatched.addItem(item)
        self.unmatched.setVisible(bool(report.unmatched))
        self.unmatched_label.setVisible(bool(report.unmatched))
        self.unmatched_label.setText(f"Not recognised ({len(report.unmatched)}) — not imported")
        profile = self.session.profile
        self._check_identity(report)
        self.stack.setCurrentWidget(self.review)
        self._size_split()
        when = report.collection_date.isoformat() if report.collection_date else "date not found"
        self.header.set_subtitle(
            f"{pending.path.name} · {report.lab_name or 'laboratory not found'} · {when} · "
            f"into {profile.name if profile else 'this profile'}"
        )
        if report.results:
            self.table.selectRow(0)

    def _size_split(self) -> None:
        """Give the table what its columns need (the page keeps the rest, at least 260 px)."""
        total = sum(self.split.sizes()) or self.split.width()
        if total <= 0:
            return
        hh = self.table.horizontalHeader()
        need = sum(
            max(hh.sectionSizeHint(c), self.table.sizeHintForColumn(c))
            for c in range(self.active_model.columnCount())
        )
        need += self.table.verticalScrollBar().sizeHint().width() + 8
        # Favour the table up to about two thirds; past that the names elide instead.
        left = max(int(total * 0.6), min(need, int(total * 0.68), total - 260))
        self.split.setSizes([left, total - left])

    def _check_identity(self, report: Any) -> None:
        """The importer's own identity check, run before review so the warning shows up front."""
        pid = self.session.profile_id

        def op(ctx: JobContext) -> list[str]:
            from ohvault.importing import identity_mismatches

            return identity_mismatches(ctx.vault.repo.profile(pid), report)  # type: ignore[arg-type]

        self.identity_banner.setVisible(False)
        self.mismatch = []
        self.session.executor.run(op, success=self._show_mismatch, label="Checking the profile")

    def _show_mismatch(self, reasons: list[str]) -> None:
        self.mismatch = reasons
        if reasons:
            self.identity_text.setText(
                "⚠ This report may belong to someone else: "
                + "; ".join(reasons)
                + ". Check that you are importing into the right profile (switch with Ctrl+P); "
                "you will be asked to confirm."
            )
        self.identity_banner.setVisible(bool(reasons))

    def _update_counts(self) -> None:
        if self.fhir_pending is not None:
            f = self.fhir_pending
            n = sum(f.accepted)
            refs = len(f.rows) - sum(f.storable)
            self.summary.setText(
                f"{len(f.rows)} records read, {n} selected for import"
                + (f" · {refs} links to files elsewhere (nothing to keep)" if refs else "")
                + " · results already in the vault (same test, date and value) are skipped"
            )
            self.commit_button.setText(f"Import {n} record{'s' if n != 1 else ''}")
            self.commit_button.setEnabled(n > 0)
            return
        if self.pending is None or self.pending.report is None:
            return
        n = sum(self.pending.accepted)
        total = len(self.pending.accepted)
        low = sum(1 for r in self.pending.results if r.confidence < CONFIDENT or r.name is None)
        self.summary.setText(
            f"{total} results read, {n} selected for import"
            + (f" · {low} need a check (tinted)" if low else "")
            + (
                f" · {len(self.pending.report.unmatched)} rows not recognised"
                if self.pending.report.unmatched
                else ""
            )
        )
        self.commit_button.setText(f"Import {n} result{'s' if n != 1 else ''}")
        self.commit_button.setEnabled(n > 0)

    def _row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.fhir_pending is not None:
            from html import escape

            record = self.fhir_model.record(rows[0].row())
            self.details.setText(
                "<table>"
                + "".join(
                    f"<tr><td style='color: gray; padding-right: 12px'>{escape(k)}</td>"
                    f"<td>{escape(v)}</td></tr>"
                    for k, v in record_details(record)
                )
                + "</table>"
            )
            return
        if not rows or self.pending is None:
            return
        r = self.model.result(rows[0].row())
        self.viewer.show_box(r.page - 1, r.bbox)

    def _unmatched_selected(self, row: int) -> None:
        if self.pending is None or row < 0:
            return
        u = self.pending.report.unmatched[row]
        self.viewer.show_box(u.page - 1, u.bbox)

    def edit_selected(self) -> EditRowDialog | None:
        if self.fhir_pending is not None:
            return None
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.pending is None:
            return None
        row = rows[0].row()
        dialog = EditRowDialog(self, self.model.result(row))
        dialog.accepted.connect(lambda: self.apply_edit(row, dialog.edited))
        dialog.open()
        return dialog

    def apply_edit(self, row: int, edited: Any) -> None:
        if self.pending is None or edited is None:
            return
        self.pending.edited[row] = edited
        self.pending.accepted[row] = True
        self.model.dataChanged.emit(
            self.model.index(row, 0), self.model.index(row, len(COLUMNS) - 1)
        )

    def skip(self) -> None:
        self._next()

    def commit(self, *, confirm_identity: bool | None = None) -> Any:
        if self.fhir_pending is not None:
            return self._commit_fhir(self.fhir_pending)
        pending = self.pending
        if pending is None:
            return None
        if confirm_identity is None:
            confirm_identity = False
            if self.mismatch:
                if not self.session.bridge.confirm(
                    "Import into this profile?",
                    "The name or birth date on this report does not match the profile you are "
                    "importing into. Import it here anyway?",
                    ok="Import anyway",
                    danger=True,
                ):
                    return None
                confirm_identity = True
        accepted = [r for r, ok in zip(pending.results, pending.accepted, strict=True) if ok]
        pid = self.session.profile_id
        if pid is None:
            return None
        report = pending.report

        def op(ctx: JobContext) -> Any:
            from ohvault.importing import import_report

            return import_report(
                ctx.vault,
                pid,
                pending.content,
                pending.path.name,
                report,
                accepted=accepted,
                confirm_identity=confirm_identity,
            )

        self.commit_button.setEnabled(False)
        return self.session.executor.run(
            op,
            success=self._committed,
            failure=self._commit_failed,
            writes={"observation", "diagnostic_report", "document"},
            label="Importing results",
        )

    def _commit_fhir(self, pending: FhirPending) -> Any:
        pid = self.session.profile_id
        if pid is None:
            return None
        accepted = pending.accepted_ids

        def op(ctx: JobContext) -> Any:
            from ohvault.fhir.plain import store_fhir_import

            return store_fhir_import(ctx.vault, pid, pending.content, accepted=accepted)

        def done(outcome: Any) -> None:
            added = sum(outcome.added.values())
            self.session.notify.emit(
                f"Imported {added} record{'s' if added != 1 else ''}"
                + (
                    f"; {outcome.duplicates} already in the vault were skipped."
                    if outcome.duplicates
                    else "."
                )
            )
            self.committed.emit(outcome)
            self._next()

        self.commit_button.setEnabled(False)
        return self.session.executor.run(
            op,
            success=done,
            failure=self._commit_failed,
            writes={
                "observation",
                "diagnostic_report",
                "document",
                "medication",
                "condition",
                "allergy",
                "immunization",
            },
            label="Importing records",
        )

    def _committed(self, outcome: Any) -> None:
        count = len(getattr(outcome, "imported", []))
        dupes = len(getattr(outcome, "duplicates", []))
        self.session.notify.emit(
            f"Imported {count} result{'s' if count != 1 else ''}"
            + (f"; {dupes} already in the vault were skipped." if dupes else ".")
        )
        self.committed.emit(outcome)
        self._next()

    def _commit_failed(self, exc: BaseException) -> None:
        from ohvault.importing import IdentityMismatch

        self.commit_button.setEnabled(True)
        if isinstance(exc, IdentityMismatch):
            # Found by the importer although the review did not flag it: show it, let them decide.
            self._show_mismatch(exc.reasons)
            return
        self.session.bridge.error("Importing", exc)
