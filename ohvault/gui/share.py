"""Share with a clinician (patient side): choose what, to whom, check the summary, write.

The wizard never writes before the summary page was shown: `plan_export` runs on
the worker and returns counts only (no values reach this screen), the recipients'
fingerprints are listed, and `write_bundle` then streams the encrypted bundle on
the worker with progress and Cancel. The core audits the export.

"Export plain FHIR / CSV" writes UNENCRYPTED files, so it first shows the core's
warning and needs an explicit "Write unencrypted file".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput
from ohvault.gui import theme
from ohvault.gui.dates import DateEdit, qtoday
from ohvault.gui.filedialogs import suggested
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.widgets import StrengthMeter, button, label

if TYPE_CHECKING:
    from ohvault.gui.session import Session

TYPE_WORDS = {
    "observation": "Lab results and measurements",
    "diagnostic_report": "Lab reports",
    "document": "Documents (original PDFs)",
    "medication": "Medications",
    "condition": "Conditions",
    "allergy": "Allergies",
    "immunization": "Immunizations",
}
MIN_BUNDLE_PASSPHRASE = 8  # the core's minimum; the meter encourages far more


@dataclass(frozen=True)
class Recipients:
    keys: list[str]
    fingerprints: list[str]
    passphrase: str | None = None


def parse_keys(text: str) -> tuple[list[str], list[str], str]:
    """(keys, fingerprints, problem) from pasted text: one or more age1… keys, any separators."""
    from ohvault.bundles import age
    from ohvault.identity import fingerprint

    keys: list[str] = []
    for part in text.replace(",", " ").split():
        if part not in keys:
            keys.append(part)
    if not keys:
        return [], [], ""
    for n, key in enumerate(keys, 1):
        try:
            age.parse_recipients([key])
        except BadInput:
            return (
                [],
                [],
                (f"Key {n} is not an age public key (they start with age1 and are 62 characters)."),
            )
    return keys, [fingerprint(k) for k in keys], ""


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def _date_edit(name: str) -> DateEdit:
    edit = DateEdit()
    edit.setAccessibleName(name)
    edit.setDate(qtoday())
    edit.setEnabled(False)
    return edit


class ShareWizard(QDialog):
    """What → to whom → summary → writing → done."""

    def __init__(self, parent: QWidget | None, session: Session) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Share with a clinician")
        self.setAccessibleName("Share with a clinician")
        self.setMinimumWidth(560)
        self.plan: Any = None
        self.summary: dict[str, Any] | None = None
        self.recipients: Recipients | None = None
        self.job: Job | None = None
        self.info: Any = None
        self.out_path: Path | None = None  # tests and scripted runs set it instead of a file dialog
        self.scrypt_log_n: int | None = None  # tests use a cheap work factor
        self.stack = QStackedWidget()
        col = QVBoxLayout(self)
        col.addWidget(self.stack, 1)
        self.error = label("", wrap=True)
        self.error.setStyleSheet(f"color: {theme.colours().high};")
        self.error.setAccessibleName("Problem")
        col.addWidget(self.error)
        nav = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back)
        self.cancel_button = button("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.next_button = button("Next", primary=True)
        self.next_button.clicked.connect(self.next)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.cancel_button)
        nav.addWidget(self.next_button)
        col.addLayout(nav)
        self._build_what()
        self._build_whom()
        self._build_summary()
        self._build_writing()
        self._build_done()
        self._page_changed()

    # --- pages ----------------------------------------------------------------------------

    def _page(self, title: str, text: str) -> QVBoxLayout:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(8, 8, 8, 8)
        col.addWidget(label(title, "h1"))
        if text:
            col.addWidget(label(text, "muted", wrap=True))
        self.stack.addWidget(page)
        return col

    def _build_what(self) -> None:
        col = self._page(
            "What to share",
            "The bundle is encrypted so that only the people you choose can open it, and signed "
            "so they can tell it came from you.",
        )
        form = QFormLayout()
        self.profile = QComboBox()
        self.profile.setAccessibleName("Profile to share")
        for p in self.session.profiles:
            self.profile.addItem(p.name, p.id)
        self.profile.setCurrentIndex(max(self.profile.findData(self.session.profile_id), 0))
        form.addRow("Whose records", self.profile)
        col.addLayout(form)
        grid = QGridLayout()
        self.type_boxes: dict[str, QCheckBox] = {}
        for i, (value, text) in enumerate(TYPE_WORDS.items()):
            box = QCheckBox(text)
            box.setChecked(True)
            box.setAccessibleName(text)
            box.toggled.connect(lambda _=False: self._validate())
            self.type_boxes[value] = box
            grid.addWidget(box, i // 2, i % 2)
        col.addLayout(grid)
        dates = QFormLayout()
        self.use_since = QCheckBox("From")
        self.use_since.setAccessibleName("Limit from date")
        self.since = _date_edit("From date")
        self.since.setDate(qtoday().addYears(-2))
        self.use_since.toggled.connect(self.since.setEnabled)
        self.use_until = QCheckBox("Until")
        self.use_until.setAccessibleName("Limit until date")
        self.until = _date_edit("Until date")
        self.use_until.toggled.connect(self.until.setEnabled)
        for box, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            box.toggled.connect(lambda _=False: self._validate())
            edit.dateChanged.connect(lambda _=None: self._validate())
            row = QHBoxLayout()
            row.addWidget(box)
            row.addWidget(edit)
            row.addStretch(1)
            dates.addRow(row)
        col.addWidget(label("Dates (leave unticked for everything)", "h2"))
        col.addLayout(dates)
        col.addStretch(1)

    def _build_whom(self) -> None:
        col = self._page(
            "Who can open it",
            "Paste your clinician's public key (it starts with age1; they can show it as text "
            "or a QR code), or protect the bundle with a passphrase you tell them separately.",
        )
        self.by_key = QRadioButton("Public keys (recommended)")
        self.by_key.setAccessibleName("Encrypt to public keys")
        self.by_key.setChecked(True)
        self.by_pass = QRadioButton("A passphrase")
        self.by_pass.setAccessibleName("Encrypt with a passphrase")
        group = QButtonGroup(self)
        group.addButton(self.by_key)
        group.addButton(self.by_pass)
        col.addWidget(self.by_key)
        self.keys = QPlainTextEdit()
        self.keys.setAccessibleName("Recipient public keys")
        self.keys.setPlaceholderText("age1…  (one or more keys, one per line)")
        self.keys.setFixedHeight(80)
        self.keys.textChanged.connect(self._validate)
        col.addWidget(self.keys)
        self.key_prints = label("", "muted", wrap=True)
        self.key_prints.setAccessibleName("Recipient fingerprints")
        col.addWidget(self.key_prints)
        col.addWidget(self.by_pass)
        self.pass1 = QLineEdit()
        self.pass1.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass1.setAccessibleName("Bundle passphrase")
        self.pass1.setPlaceholderText(f"Passphrase (at least {MIN_BUNDLE_PASSPHRASE} characters)")
        self.meter = StrengthMeter()
        self.pass1.textChanged.connect(self.meter.update_for)
        self.pass2 = QLineEdit()
        self.pass2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass2.setAccessibleName("Repeat bundle passphrase")
        self.pass2.setPlaceholderText("Repeat the passphrase")
        for w in (self.pass1, self.meter, self.pass2):
            col.addWidget(w)
        for edit in (self.pass1, self.pass2):
            edit.textChanged.connect(self._validate)
        self.by_key.toggled.connect(self._mode_changed)
        col.addStretch(1)
        self._mode_changed()

    def _build_summary(self) -> None:
        col = self._page(
            "Check before sharing", "Only this will be in the bundle. Values are not shown here."
        )
        self.summary_text = QLabel("")
        self.summary_text.setWordWrap(True)
        self.summary_text.setTextFormat(Qt.TextFormat.RichText)
        self.summary_text.setAccessibleName("What will be shared")
        self.summary_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.summary_text)
        col.addStretch(1)

    def _build_writing(self) -> None:
        col = self._page("Writing the bundle…", "Encrypting and signing on this computer.")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Export progress")
        self.bar.setRange(0, 0)
        col.addWidget(self.bar)
        col.addStretch(1)

    def _build_done(self) -> None:
        col = self._page("Bundle written", "")
        self.done_text = label("", wrap=True)
        self.done_text.setAccessibleName("Export result")
        col.addWidget(self.done_text)
        col.addStretch(1)

    # --- navigation --------------------------------------------------------------------------

    @property
    def page(self) -> int:
        return self.stack.currentIndex()

    def _page_changed(self) -> None:
        page = self.page
        self.back_button.setVisible(page in (1, 2))
        self.next_button.setVisible(page != 3)
        self.next_button.setText(
            {0: "Next", 1: "Review", 2: "Write bundle…", 4: "Close"}.get(page, "Next")
        )
        self.cancel_button.setVisible(page != 4)
        self.error.setText("")
        self._validate()

    def _mode_changed(self) -> None:
        keys = self.by_key.isChecked()
        self.keys.setEnabled(keys)
        self.key_prints.setEnabled(keys)
        for w in (self.pass1, self.pass2, self.meter):
            w.setEnabled(not keys)
        self._validate()

    def selected_types(self) -> list[str]:
        return [t for t, box in self.type_boxes.items() if box.isChecked()]

    def date_range(self) -> tuple[date | None, date | None]:
        since = self.since.date().toPython() if self.use_since.isChecked() else None
        until = self.until.date().toPython() if self.use_until.isChecked() else None
        return since, until  # type: ignore[return-value]

    def _validate(self) -> str:
        """The problem with the current page, shown under it; '' when Next may proceed."""
        problem = ""
        page = self.page
        if page == 0:
            since, until = self.date_range()
            if not self.selected_types():
                problem = "Choose at least one kind of record."
            elif since and until and until < since:
                problem = "The end date is before the start date."
            elif self.profile.currentData() is None:
                problem = "There is no profile to share."
        elif page == 1:
            problem = self._check_recipients()[1]
        if hasattr(self, "next_button"):
            self.next_button.setEnabled(not problem or page in (3, 4))
            self.error.setText(problem if page in (0, 1) and self._touched(page) else "")
        return problem

    def _touched(self, page: int) -> bool:
        if page == 1:
            return bool(self.keys.toPlainText().strip() or self.pass1.text() or self.pass2.text())
        return True

    def _check_recipients(self) -> tuple[Recipients | None, str]:
        if self.by_key.isChecked():
            keys, prints, problem = parse_keys(self.keys.toPlainText())
            self.key_prints.setText(
                "\n".join(f"Key {n}: fingerprint {fp}" for n, fp in enumerate(prints, 1))
            )
            if problem:
                return None, problem
            if not keys:
                return None, "Paste at least one public key."
            return Recipients(keys, prints), ""
        p1, p2 = self.pass1.text(), self.pass2.text()
        if len(p1) < MIN_BUNDLE_PASSPHRASE:
            return None, f"Use at least {MIN_BUNDLE_PASSPHRASE} characters."
        if p1 != p2:
            return None, "The two passphrases differ."
        return Recipients([], [], p1), ""

    def back(self) -> None:
        if self.page in (1, 2):
            self.stack.setCurrentIndex(self.page - 1)
            self._page_changed()

    def next(self) -> None:
        page = self.page
        if page == 4:
            self.accept()
            return
        if self._validate():
            return
        if page == 0:
            self.stack.setCurrentIndex(1)
            self._page_changed()
        elif page == 1:
            self.recipients = self._check_recipients()[0]
            self._plan()
        elif page == 2:
            self.write()

    # --- work -----------------------------------------------------------------------------------

    def _plan(self) -> None:
        pid = str(self.profile.currentData())
        types = self.selected_types()
        since, until = self.date_range()

        def op(ctx: JobContext) -> tuple[Any, dict[str, Any]]:
            from ohvault.bundles.export import plan_export
            from ohvault.model import RecordType

            plan = plan_export(
                ctx.vault, pid, types=[RecordType(t) for t in types], since=since, until=until
            )
            return plan, plan.summary()

        self.next_button.setEnabled(False)
        self.session.executor.run(op, success=self._planned, label="Preparing the summary")

    def _planned(self, payload: tuple[Any, dict[str, Any]]) -> None:
        self.plan, self.summary = payload
        s = self.summary
        assert self.recipients is not None
        rows = "".join(
            f"<tr><td>{TYPE_WORDS.get(t, t)}</td><td align='right'>&nbsp;&nbsp;<b>{n}</b></td></tr>"
            for t, n in s["counts"].items()
        )
        if s["since"] or s["until"]:
            span = f"{s['since'] or 'the beginning'} to {s['until'] or 'today'}"
        else:
            span = "all dates"
        who = (
            "<br>".join(
                f"Public key {n}: <tt>{fp}</tt>"
                for n, fp in enumerate(self.recipients.fingerprints, 1)
            )
            if self.recipients.keys
            else "Anyone who knows the passphrase"
        )
        profile = self.profile.currentText()
        total = sum(s["counts"].values())
        extra = []
        if s["deletions"]:
            extra.append(f"{s['deletions']} deletions (so the clinician's copy drops them too)")
        if s["document_bytes"]:
            extra.append(f"{_human_bytes(s['document_bytes'])} of documents")
        self.summary_text.setText(
            f"<p><b>{total}</b> records of <b>{_esc(profile)}</b>, {span}:</p>"
            f"<table>{rows}</table>"
            + (f"<p>{'; '.join(extra)}.</p>" if extra else "")
            + f"<p><b>Who can open it</b><br>{who}</p>"
            "<p>Check the fingerprints with your clinician if you can (they see theirs under "
            "“My public key”).</p>"
        )
        self.stack.setCurrentIndex(2)
        self._page_changed()
        self.next_button.setEnabled(total > 0 or bool(s["deletions"]))
        if total == 0 and not s["deletions"]:
            self.error.setText("Nothing matches: change the record kinds or dates.")

    def write(self, path: Path | None = None) -> Job | None:
        target = path or self.out_path or self._ask_path()
        if target is None or self.plan is None or self.recipients is None:
            return None
        plan, recipients, log_n = self.plan, self.recipients, self.scrypt_log_n

        def op(ctx: JobContext) -> Any:
            from ohvault.bundles.export import write_bundle

            kwargs: dict[str, Any] = {}
            if log_n is not None:
                kwargs["scrypt_log_n"] = log_n
            return write_bundle(
                ctx.vault,
                plan,
                target,
                recipients=recipients.keys,
                passphrase=recipients.passphrase,
                progress=lambda done, total: ctx.progress(done, total, "Writing the bundle"),
                should_cancel=ctx.cancelled,
                **kwargs,
            )

        self.stack.setCurrentIndex(3)
        self._page_changed()
        self.bar.setRange(0, 0)
        self.job = self.session.executor.run(
            op, success=self._written, failure=self._write_failed, label="Writing the bundle"
        )
        self.job.progressed.connect(self._progress)
        self.job.done.connect(self._job_done)
        return self.job

    def _ask_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save the bundle",
            suggested("health-records.ohvbundle"),
            "ohvault bundles (*.ohvbundle)",
        )
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".ohvbundle")

    def _progress(self, done: int, total: int, _text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def _job_done(self) -> None:
        job = self.job
        self.job = None
        if job is not None and job.finished and job.error is not None and job.is_cancelled():
            # Cancelled: the core left no file behind; back to the summary.
            self.stack.setCurrentIndex(2)
            self._page_changed()
            self.session.notify.emit("Export cancelled; nothing was written.")

    def _written(self, info: Any) -> None:
        self.info = info
        self.plan = None  # drop the records as soon as they are written
        self.done_text.setText(
            f"Saved {info.path.name} ({_human_bytes(info.size)}).\n\n"
            f"Your signing fingerprint: {info.sender_fingerprint}\n"
            "Give the file to your clinician (USB stick, e-mail, a file share): it is encrypted."
        )
        self.stack.setCurrentIndex(4)
        self._page_changed()
        self.session.notify.emit(f"Bundle written: {info.path.name}")

    def _write_failed(self, exc: BaseException) -> None:
        self.stack.setCurrentIndex(2)
        self._page_changed()
        self.session.bridge.error("Writing the bundle", exc)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            return
        self.plan = None
        self.reject()

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.plan = None
        super().reject()


def _esc(text: str) -> str:
    from html import escape

    return escape(text)


# --- plain (unencrypted) export ---------------------------------------------------------------


def export_plain(
    parent: QWidget, session: Session, fmt: str, path: Path | None = None
) -> Job | None:
    """Everything in the current profile as FHIR JSON or CSV, after the plaintext warning."""
    from ohvault.fhir.plain import PLAINTEXT_WARNING

    pid = session.profile_id
    if pid is None:
        return None
    if not session.bridge.confirm(
        "Write an unencrypted file?",
        PLAINTEXT_WARNING.replace("WARNING: ", "")
        + "\n\nUse “Share with a clinician” for an encrypted bundle instead.",
        ok="Write unencrypted file",
        danger=True,
    ):
        return None
    if path is None:
        suffix = "json" if fmt == "fhir" else "csv"
        name, _ = QFileDialog.getSaveFileName(
            parent,
            "Export unencrypted",
            suggested(f"health-records.{suffix}"),
            "FHIR JSON (*.json)" if fmt == "fhir" else "CSV (*.csv)",
        )
        if not name:
            return None
        path = Path(name)
    target = path

    def op(ctx: JobContext) -> int:
        from ohvault.bundles.export import plan_export
        from ohvault.fhir.plain import write_csv, write_fhir_json

        plan = plan_export(ctx.vault, pid)
        writer = write_fhir_json if fmt == "fhir" else write_csv
        return writer(ctx.vault, plan, target)

    return session.executor.run(
        op,
        success=lambda n: session.notify.emit(f"Wrote {target.name} (unencrypted)."),
        label="Exporting",
    )
