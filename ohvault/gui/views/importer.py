"""Import: drop or pick lab report PDFs, parse them on the worker, review against the page, commit.

A file imported before is recognised from its hash before it is parsed. The
review shows the parsed rows beside the PDF page (rendered from memory);
selecting a row highlights where it was read. Sure results, unmapped tests
(each with "Map to…", remembered for later imports) and doubted rows (collapsed)
are grouped apart; a missing collection date and the laboratory are edited on
the screen. Nothing is stored until "Import".
"""

from __future__ import annotations

from collections import deque
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput
from ohvault.gui import theme
from ohvault.gui.fhir_review import (
    FhirPending,
    FhirReviewModel,
    fhir_outcome_text,
    fhir_skipped_lines,
    fhir_skipped_title,
    record_details,
)
from ohvault.gui.pdf_review import (
    COLUMNS,
    UNMAPPED,
    UNSURE,
    EditRowDialog,
    MappingChoice,
    MapToDialog,
    Pending,
    ReviewModel,
    ReviewRow,
)
from ohvault.gui.pdfview import PdfView
from ohvault.gui.review_groups import ReviewGroups
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ViewHeader, button, label
from ohvault.importing import lab_name_problem

__all__ = ["COLUMNS", "EditRowDialog", "ImportView", "MapToDialog", "Pending", "ReviewModel"]

MAX_BYTES = 50 * 1024 * 1024


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


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
        self.imported_any = False  # in this run of the queue: leave the screen when it empties
        self.stack = QStackedWidget()
        self.root.addWidget(self.stack, 1)
        self._build_idle()
        self._build_parsing()
        self._build_review()
        self.mismatch: list[str] = []

    # --- layout -------------------------------------------------------------------------------

    def _build_idle(self) -> None:
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

    def _build_parsing(self) -> None:
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

    def _banner(self, name: str) -> tuple[QFrame, QLabel]:
        frame = QFrame()
        frame.setObjectName("warning")
        row = QHBoxLayout(frame)
        text = label("", wrap=True)
        text.setAccessibleName(name)
        row.addWidget(text, 1)
        frame.setVisible(False)
        return frame, text

    def _build_review(self) -> None:
        self.review = QWidget()
        rcol = QVBoxLayout(self.review)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.setSpacing(8)
        self.identity_banner, self.identity_text = self._banner("Profile mismatch warning")
        rcol.addWidget(self.identity_banner)
        self.date_banner, self.date_text = self._banner("Collection date warning")
        rcol.addWidget(self.date_banner)

        # What the report is: when the samples were taken and where (both editable).
        self.meta = QWidget()
        mrow = QHBoxLayout(self.meta)
        mrow.setContentsMargins(0, 0, 0, 0)
        mrow.addWidget(label("Collected"))
        self.date_edit = QDateEdit()
        self.date_edit.setAccessibleName("Collection date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.date_edit.dateChanged.connect(self._date_changed)
        mrow.addWidget(self.date_edit)
        mrow.addSpacing(16)
        mrow.addWidget(label("Laboratory"))
        self.lab_edit = QLineEdit()
        self.lab_edit.setAccessibleName("Laboratory")
        self.lab_edit.setPlaceholderText("Laboratory not found: type it (optional)")
        self.lab_edit.setMinimumWidth(220)
        self.lab_edit.textChanged.connect(lambda _: self._update_counts())
        mrow.addWidget(self.lab_edit, 1)
        self.lab_error = label("", wrap=True)
        self.lab_error.setStyleSheet(f"color: {theme.colours().high};")
        self.lab_error.setAccessibleName("Laboratory error")
        mrow.addWidget(self.lab_error, 1)
        rcol.addWidget(self.meta)
        self.summary = label("", "muted", wrap=True)
        rcol.addWidget(self.summary)

        split = QSplitter()
        self.groups = ReviewGroups()
        g = self.groups
        # The screen's parts by their names (tests and the FHIR review use the main table).
        self.table, self.model = g.table, g.model
        self.unmapped_table, self.unmapped_model = g.unmapped_table, g.unmapped_model
        self.unsure_table, self.unsure_model = g.unsure_table, g.unsure_model
        self.unsure_toggle, self.unsure_row = g.unsure_toggle, g.unsure_row
        self.reject_unsure_button = g.reject_unsure_button
        self.unmatched, self.unmatched_label = g.unmatched, g.unmatched_label
        self.unmapped_label = g.unmapped_label
        self.review_tables = g.tables
        self.fhir_model = FhirReviewModel()
        g.changed.connect(self._update_counts)
        g.selected.connect(self._selected)
        g.unmatched_selected.connect(self._show_unmatched)
        g.edit_requested.connect(self.edit_selected)
        g.map_requested.connect(self.map_row)
        split.addWidget(g)

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
        self.all_button.clicked.connect(lambda: self.set_all(True))
        self.none_button = button("Reject all")
        self.none_button.clicked.connect(lambda: self.set_all(False))
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
        self.fhir_model.dataChanged.connect(lambda *_: self._update_counts())
        self.fhir_model.modelReset.connect(self._update_counts)
        self.date_confirmed = True

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
        self.imported_any = False
        self._reset_review()
        self.stack.setCurrentWidget(self.idle)

    def _reset_review(self) -> None:
        self.pending = None
        self.fhir_pending = None
        self.groups.clear()
        self.fhir_model.set_pending(None)
        self.details.clear()
        self.viewer.clear()
        self.lab_edit.clear()
        self.lab_error.clear()

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
            self.groups.watch_selection(self.table)
        fhir = model is self.fhir_model
        self.right.setCurrentWidget(self.details if fhir else self.viewer)
        self.edit_button.setVisible(not fhir)
        self.meta.setVisible(not fhir)
        if fhir:
            self.date_banner.setVisible(False)

    def add_files(self, paths: list[Path]) -> None:
        self.queue.extend(paths)
        if self.pending is None and self.job is None:
            self._next()

    def _next(self) -> None:
        self._reset_review()
        if not self.queue:
            self.stack.setCurrentWidget(self.idle)
            self.header.set_subtitle("Drop PDF files anywhere on this window, or choose them.")
            self._leave_after_import()
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
        self.check_previous(Pending(path, content))

    def _leave_after_import(self) -> None:
        """An emptied queue after an import shows what came in, not an empty Import screen."""
        if not self.imported_any:
            return
        self.imported_any = False
        window = self.window()
        # Only when the person is still here: never pull them off a screen they went to.
        if getattr(window, "current_view", None) is self and hasattr(window, "show_view"):
            window.show_view("Dashboard")

    def check_previous(self, pending: Pending) -> None:
        """A file imported before is known from its hash, before minutes of parsing."""
        pid = self.session.profile_id
        self.stack.setCurrentWidget(self.parsing)
        self.parse_label.setText(f"Checking {pending.path.name}…")
        self.parse_bar.setRange(0, 0)

        def op(ctx: JobContext) -> Any:
            from ohvault.importing import previous_import

            return previous_import(ctx.vault.repo, pid, pending.content)  # type: ignore[arg-type]

        def checked(document: Any) -> None:
            job, self.job = self.job, None
            if job is not None and job.is_cancelled():
                self.session.notify.emit("Import cancelled.")
                self.queue.clear()
                self._next()
                return
            if document is None:
                self.parse(pending)
                return
            self.session.bridge.info(
                "Imported before",
                f"{pending.path.name} was imported before (on "
                f"{document.created_at.date().isoformat()}); nothing was changed.",
            )
            self._next()

        def failed(exc: BaseException) -> None:
            self.job = None
            self.session.bridge.error(f"Checking {pending.path.name}", exc)
            self._next()

        self.job = self.session.executor.run(
            op, success=checked, failure=failed, label="Checking the file"
        )

    def parse(self, pending: Pending, password: str | None = None, ocr: bool = False) -> None:
        self.stack.setCurrentWidget(self.parsing)
        self.parse_label.setText(f"Reading {pending.path.name}…")
        self.header.set_subtitle(f"{len(self.queue)} more in the queue" if self.queue else "")
        self.parse_bar.setRange(0, 0)

        def op(ctx: JobContext) -> Any:
            # The one place the app parses a PDF: in a limited child process.
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
        self.table.fit_columns()
        # Skipped resources (with path and reason), adjustments and kinds not kept.
        self.groups.show_other(fhir_skipped_title(content), fhir_skipped_lines(content))
        self.identity_banner.setVisible(False)
        self.mismatch = []
        pid = self.session.profile_id

        def check(ctx: JobContext) -> list[str]:
            from ohvault.fhir.plain import fhir_identity_mismatches

            return fhir_identity_mismatches(ctx.vault.repo.profile(pid), content)  # type: ignore[arg-type]

        self.session.executor.run(check, success=self._show_mismatch, label="Checking the profile")
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
                "a value is ticked only when its name, unit, range and flag agree with it; "
                "every other value is left unticked for you to check against the page.",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.parse(pending, password, ocr=True)
                return
        self.session.bridge.error(f"Reading {pending.path.name}", exc)
        self._next()

    def _parsed(self, pending: Pending, report: Any) -> None:
        """Parsed: apply the vault's taught names and the profile checks, then review."""
        pid = self.session.profile_id

        def op(ctx: JobContext) -> tuple[Any, list[str]]:
            from ohvault.importing import identity_mismatches, prepare_report

            vault = ctx.vault
            assert vault is not None and pid is not None
            profile = vault.repo.profile(pid)
            prepared = prepare_report(report, vault.repo.name_mappings(), profile)
            return prepared, identity_mismatches(profile, report)

        def failed(exc: BaseException) -> None:
            self.job = None
            self.session.bridge.error(f"Reading {pending.path.name}", exc)
            self._next()

        self.job = self.session.executor.run(
            op,
            success=lambda out: self._review(pending, out[0], out[1]),
            failure=failed,
            label="Checking the report",
        )

    def _review(self, pending: Pending, report: Any, mismatch: list[str]) -> None:
        self.job = None
        self._use_model(self.model)
        pending.set_report(report)
        self.pending = pending
        self.viewer.load(pending.content)
        self._set_meta(report)
        self._show_mismatch(mismatch)
        self.groups.show_pending(pending)
        self.stack.setCurrentWidget(self.review)
        self._size_split()  # after the rows are in: the split follows what the columns need
        self._update_subtitle()

    def _set_meta(self, report: Any) -> None:
        found = report.collection_date
        fallback = report.reported_date or report.received_date
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(_qdate(found or fallback or date.today()))
        self.date_edit.blockSignals(False)
        # Without a printed collection date the person sets it; a report date is a good guess.
        self.date_confirmed = found is not None or fallback is not None
        if found is None:
            self.date_text.setText(
                "⚠ The report does not say when the samples were collected. "
                + (
                    "The date below is the report's date: check it before importing."
                    if fallback
                    else "Enter the collection date below to import."
                )
            )
        self.date_banner.setVisible(found is None)
        self.lab_edit.setText(report.lab_name or "")

    def _date_changed(self, _: QDate) -> None:
        self.date_confirmed = True
        self._update_counts()

    def collection_date(self) -> date:
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def _update_subtitle(self) -> None:
        if self.pending is None or self.pending.report is None:
            return
        profile = self.session.profile
        lab = self.lab_edit.text().strip() or "laboratory not found"
        self.header.set_subtitle(
            f"{self.pending.path.name} · {lab} · into {profile.name if profile else 'this profile'}"
        )

    # --- groups --------------------------------------------------------------------------------

    def set_all(self, accepted: bool) -> None:
        if self.fhir_pending is not None:
            self.fhir_model.set_all(accepted)
        else:
            self.groups.set_all(accepted)

    # --- counts and selection ------------------------------------------------------------------

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
        total = len(self.pending.rows)
        unmapped = len(self.pending.group(UNMAPPED))
        unsure = len(self.pending.group(UNSURE))
        self.summary.setText(
            f"{total} result{'s' if total != 1 else ''} read, {n} selected for import"
            + (f" · {unmapped} not in the catalog" if unmapped else "")
            + (f" · {unsure} unsure" if unsure else "")
        )
        self.groups.label_unsure()
        problem = self.lab_problem()
        self.lab_error.setText(problem or "")
        self.lab_error.setVisible(bool(problem))
        self._update_subtitle()
        self.commit_button.setText(f"Import {n} result{'s' if n != 1 else ''}")
        self.commit_button.setEnabled(n > 0 and self.date_confirmed and problem is None)
        self.commit_button.setToolTip(
            "" if self.date_confirmed else "Enter the collection date first"
        )

    def lab_problem(self) -> str | None:
        """The core's rule, shown as the person types: a lab is never the patient."""
        if self.pending is None or self.pending.report is None:
            return None
        profile = self.session.profile
        problem = lab_name_problem(
            self.lab_edit.text().strip() or None,
            self.pending.report.patient_name,
            profile.name if profile else None,
        )
        return f"Not a laboratory: {problem}." if problem else None

    def selected_row(self) -> ReviewRow | None:
        return self.groups.selected_row()

    def _show_unmatched(self, row: Any) -> None:
        self.viewer.show_box(row.page - 1, row.bbox)

    def _selected(self, model: Any, row: int) -> None:
        if model is self.fhir_model and self.fhir_pending is not None:
            from html import escape

            record = self.fhir_model.record(row)
            self.details.setText(
                "<table>"
                + "".join(
                    f"<tr><td style='color: gray; padding-right: 12px'>{escape(k)}</td>"
                    f"<td>{escape(v).replace(chr(10), '<br>')}</td></tr>"
                    for k, v in record_details(record)
                )
                + "</table>"
            )
            return
        if isinstance(model, ReviewModel) and self.pending is not None:
            result = model.rows[row].result
            self.viewer.show_box(result.page - 1, result.bbox)

    def _size_split(self) -> None:
        """Give the tables what their columns need (the page keeps the rest, at least 260 px)."""
        total = sum(self.split.sizes()) or self.split.width()
        if total <= 0:
            return
        need = self.groups.size_hint_width(self.active_model)
        need += self.table.verticalScrollBar().sizeHint().width() + 8
        # Favour the table up to about two thirds; past that the names elide instead.
        left = max(int(total * 0.6), min(need, int(total * 0.7), total - 260))
        self.split.setSizes([left, total - left])
        for t in self.review_tables:
            t.fit_columns()

    def _show_mismatch(self, reasons: list[str]) -> None:
        self.mismatch = reasons
        if reasons:
            what = "file" if self.fhir_pending is not None else "report"
            self.identity_text.setText(
                f"⚠ This {what} may belong to someone else: "
                + "; ".join(reasons)
                + ". Check that you are importing into the right profile (switch with Ctrl+P); "
                "you will be asked to confirm."
            )
        self.identity_banner.setVisible(bool(reasons))

    # --- corrections and mappings --------------------------------------------------------------

    def edit_selected(self) -> EditRowDialog | None:
        if self.fhir_pending is not None:
            return None
        row = self.selected_row()
        if row is None:
            return None
        dialog = EditRowDialog(self, row.result)
        dialog.accepted.connect(lambda: self.apply_edit(row, dialog.edited))
        dialog.open()
        return dialog

    def apply_edit(self, row: ReviewRow | int, edited: Any) -> None:
        if self.pending is None or edited is None:
            return
        if isinstance(row, int):  # a row of the main table
            row = self.model.rows[row]
        row.result = edited
        row.edited = True
        row.accepted = True
        self.groups.regroup()

    def map_row(self, row: ReviewRow) -> MapToDialog | None:
        if self.pending is None:
            return None
        lab = self.lab_edit.text().strip() or None
        dialog = MapToDialog(self, row.result, lab)
        dialog.accepted.connect(lambda: self.teach(dialog.choice))
        dialog.open()
        return dialog

    def teach(self, choice: MappingChoice | None) -> Any:
        """Remember the mapping in the vault, then apply it to every row of this file it fits."""
        if choice is None or self.pending is None:
            return None
        pending = self.pending

        def op(ctx: JobContext) -> Any:
            from ohvault.importing import teach_mapping

            return ctx.apply(
                teach_mapping,
                ctx.vault,
                choice.printed_name,
                analyte=choice.analyte,
                own_test=choice.own_test,
                lab=choice.lab,
            )

        return self.session.executor.run(
            op,
            success=lambda mapping: self._apply_taught(pending, mapping),
            label="Remembering the test name",
        )

    def _apply_taught(self, pending: Pending, mapping: Any) -> None:
        if pending is not self.pending:
            return  # the file was skipped meanwhile; the mapping is kept for next time
        from ohvault import analytes
        from ohvault.mappings import apply_mapping, lookup

        lab = self.lab_edit.text().strip() or None
        count = 0
        for row in pending.rows:
            if lookup([mapping], row.result.printed_name, lab) is not None:
                row.result = apply_mapping(row.result, mapping, analytes.catalog())
                row.mapped = True
                row.accepted = True
                count += 1
        self.groups.regroup()
        self.session.notify.emit(
            f"{mapping.describe()}: applied to {count} row{'s' if count != 1 else ''}, "
            "and remembered for later imports."
        )

    def skip(self) -> None:
        self._next()

    # --- commit --------------------------------------------------------------------------------

    def commit(self, *, confirm_identity: bool | None = None) -> Any:
        if self.fhir_pending is not None:
            return self._commit_fhir(self.fhir_pending)
        pending = self.pending
        if pending is None:
            return None
        if not self.date_confirmed:
            self.date_edit.setFocus()
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
        accepted = [row.result for row in pending.rows if row.accepted]
        pid = self.session.profile_id
        if pid is None:
            return None
        report = pending.report
        collected = self.collection_date()
        lab = self.lab_edit.text().strip()

        def op(ctx: JobContext) -> Any:
            from ohvault.importing import import_report

            return ctx.apply(
                import_report,
                ctx.vault,
                pid,
                pending.content,
                pending.path.name,
                report,
                accepted=accepted,
                confirm_identity=confirm_identity,
                collection_date=collected,
                lab_name=lab,
            )

        self.commit_button.setEnabled(False)
        return self.session.executor.run(
            op,
            success=self._committed,
            failure=self._commit_failed,
            label="Importing results",
        )

    def _commit_fhir(self, pending: FhirPending) -> Any:
        pid = self.session.profile_id
        if pid is None:
            return None
        accepted = pending.accepted_ids
        confirm = False
        if self.mismatch:
            if not self.session.bridge.confirm(
                "Import into this profile?",
                "The name or birth date in this file does not match the profile you are "
                "importing into. Import it here anyway?",
                ok="Import anyway",
                danger=True,
            ):
                return None
            confirm = True

        def op(ctx: JobContext) -> Any:
            from ohvault.fhir.plain import store_fhir_import

            return ctx.apply(
                store_fhir_import,
                ctx.vault,
                pid,
                pending.content,
                accepted=accepted,
                confirm_identity=confirm,
            )

        def done(outcome: Any) -> None:
            self.session.notify.emit(fhir_outcome_text(outcome))
            self.committed.emit(outcome)
            self.imported_any = True
            self._next()

        def failed(exc: BaseException) -> None:
            from ohvault.importing import IdentityMismatch

            if isinstance(exc, IdentityMismatch) and not confirm:
                # The check had not come back before the click: ask now, then import.
                self._show_mismatch(exc.reasons)
                self.commit_button.setEnabled(True)
                self._commit_fhir(pending)
                return
            self._commit_failed(exc)

        self.commit_button.setEnabled(False)
        return self.session.executor.run(
            op,
            success=done,
            failure=failed,
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
        self.imported_any = True
        self._next()

    def _commit_failed(self, exc: BaseException) -> None:
        from ohvault.importing import IdentityMismatch

        self.commit_button.setEnabled(True)
        if isinstance(exc, IdentityMismatch):
            # Found by the importer although the review did not flag it: show it, let them decide.
            self._show_mismatch(exc.reasons)
            return
        self.session.bridge.error("Importing", exc)
