"""First run: name the first profile, choose a passphrase, create the vault, store the recovery key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme
from ohvault.gui.filedialogs import suggested
from ohvault.gui.session import Session, UnlockResult
from ohvault.gui.widgets import StrengthMeter, button, label
from ohvault.vault import MIN_PASSPHRASE_LENGTH


def paint_recovery_sheet(painter: QPainter, page: QRectF, key: str) -> None:
    """The printable recovery sheet (PDF and paper share it)."""
    x, y, w = page.left(), page.top(), page.width()
    title = QFont("Sans Serif", 20, QFont.Weight.Bold)
    body = QFont("Sans Serif", 11)
    mono = QFont("Monospace", 18, QFont.Weight.Bold)
    mono.setStyleHint(QFont.StyleHint.Monospace)
    painter.setFont(title)
    painter.drawText(QRectF(x, y, w, 60), "ohvault recovery key")
    painter.setFont(body)
    lines = (
        "This key opens your health vault if you forget your passphrase or your computer's "
        "keychain is lost. Anyone holding it can read your vault: keep it somewhere safe, "
        "offline, such as with your important papers."
    )
    painter.drawText(QRectF(x, y + 70, w, 100), Qt.TextFlag.TextWordWrap, lines)
    painter.setFont(mono)
    groups = key.split("-")
    half = (len(groups) + 1) // 2
    painter.drawText(
        QRectF(x, y + 190, w, 50), Qt.AlignmentFlag.AlignCenter, "-".join(groups[:half])
    )
    painter.drawText(
        QRectF(x, y + 240, w, 50), Qt.AlignmentFlag.AlignCenter, "-".join(groups[half:])
    )
    painter.setFont(body)
    painter.drawText(QRectF(x, y + 320, w, 30), f"Issued on {date.today().isoformat()}.")


def save_recovery_pdf(path: Path, key: str) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(20, 20, 20, 20), QPageLayout.Unit.Millimeter)
    writer.setResolution(96)
    writer.setTitle("ohvault recovery key")
    painter = QPainter(writer)
    try:
        rect = QRectF(writer.pageLayout().paintRectPixels(writer.resolution()))
        paint_recovery_sheet(painter, QRectF(0, 0, rect.width(), rect.height()), key)
    finally:
        painter.end()
    path.chmod(0o600)


class _Step(QFrame):
    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setFixedWidth(520)
        self.col = QVBoxLayout(self)
        self.col.setContentsMargins(32, 28, 32, 28)
        self.col.setSpacing(12)
        self.col.addWidget(label(title, "h1"))
        self.col.addWidget(label(text, "muted", wrap=True))


class FirstRunWizard(QWidget):
    """Welcome → passphrase → creating → recovery key; `finished` carries the unlock result."""

    finished = Signal(object)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._result: UnlockResult | None = None
        self._recovery = ""
        self.stack = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.stack)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self._build_welcome()
        self._build_passphrase()
        self._build_creating()
        self._build_recovery()
        self._probe_keychain()

    def _probe_keychain(self) -> None:
        """Asking the OS keychain can take a while (D-Bus): do it off the GUI thread."""
        keychain = self.session.keychain
        self.session.executor.run(
            lambda ctx: keychain.status().available,
            success=self._keychain_known,
            failure=lambda exc: self._keychain_known(False),
            label="Looking for the system keychain",
        )

    def _keychain_known(self, available: bool) -> None:
        self.keychain_available = available
        self.skip.setVisible(available)
        self.passphrase_intro.setText(
            "Your system keychain will unlock the vault for you. A passphrase is a second way in "
            "(on another computer, or if the keychain is reset). Recommended."
            if available
            else "No system keychain is available, so you will unlock with this passphrase."
        )

    # --- pages ----------------------------------------------------------------------------

    def _build_welcome(self) -> None:
        step = _Step(
            "Welcome to ohvault",
            "Your lab results, medications and documents, encrypted on this computer. "
            "Nothing leaves it unless you export or sync it. Whose records will you keep first?",
        )
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name (for example: your first name)")
        self.name.setAccessibleName("Profile name")
        self.name.returnPressed.connect(self._to_passphrase)
        step.col.addWidget(self.name)
        step.col.addWidget(label("You can add family members as more profiles later.", "muted"))
        self.welcome_error = label("", wrap=True)
        self.welcome_error.setStyleSheet(f"color: {theme.colours().high};")
        step.col.addWidget(self.welcome_error)
        row = QHBoxLayout()
        row.addStretch(1)
        self.next1 = button("Continue", primary=True)
        self.next1.clicked.connect(self._to_passphrase)
        row.addWidget(self.next1)
        step.col.addLayout(row)
        self.stack.addWidget(step)

    def _build_passphrase(self) -> None:
        step = _Step("Choose a passphrase", "")
        self.passphrase_intro = step.findChildren(QLabel)[1]
        self.keychain_available = False
        self.pass1 = QLineEdit()
        self.pass1.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass1.setPlaceholderText(f"Passphrase (at least {MIN_PASSPHRASE_LENGTH} characters)")
        self.pass1.setAccessibleName("Passphrase")
        self.pass2 = QLineEdit()
        self.pass2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass2.setPlaceholderText("Repeat the passphrase")
        self.pass2.setAccessibleName("Repeat passphrase")
        self.meter = StrengthMeter()
        # Enter moves on: from the first box to the second, from the second to "Create vault".
        self.pass1.returnPressed.connect(self.pass2.setFocus)
        self.pass2.returnPressed.connect(self._submit_passphrase)
        self.pass1.textChanged.connect(self.meter.update_for)
        self.pass1.textChanged.connect(self._check_passphrase)
        self.pass2.textChanged.connect(self._check_passphrase)
        step.col.addWidget(self.pass1)
        step.col.addWidget(self.meter)
        step.col.addWidget(self.pass2)
        step.col.addWidget(
            label(
                "Tip: four or more unrelated words make a strong, memorable passphrase.",
                "muted",
                wrap=True,
            )
        )
        self.pass_error = label("", wrap=True)
        self.pass_error.setStyleSheet(f"color: {theme.colours().high};")
        step.col.addWidget(self.pass_error)
        row = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(lambda: self.stack.setCurrentIndex(0))
        row.addWidget(back)
        row.addStretch(1)
        self.skip = button("Skip: keychain only")
        self.skip.setVisible(False)
        self.skip.clicked.connect(lambda: self.create_vault(None))
        row.addWidget(self.skip)
        self.create_button = button("Create vault", primary=True)
        self.create_button.clicked.connect(lambda: self.create_vault(self.pass1.text()))
        row.addWidget(self.create_button)
        step.col.addLayout(row)
        self.stack.addWidget(step)
        self._check_passphrase()

    def _build_creating(self) -> None:
        step = _Step("Creating your vault…", "Generating keys and encrypting the database.")
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        step.col.addWidget(bar)
        self.stack.addWidget(step)

    def _build_recovery(self) -> None:
        step = _Step(
            "Store your recovery key",
            "This key is shown only once. If you lose your passphrase and your keychain, it is "
            "the only way back into your vault. Print it or save it somewhere safe, offline.",
        )
        self.key_label = QLabel("")
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAccessibleName("Recovery key")
        mono = QFont("Monospace", 15, QFont.Weight.Bold)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.key_label.setFont(mono)
        c = theme.colours()
        self.key_label.setStyleSheet(
            f"background: {c.window}; border: 1px dashed {c.border}; border-radius: 8px;"
            " padding: 16px; font-size: 15pt; font-family: monospace; font-weight: 700;"
        )
        step.col.addWidget(self.key_label)
        actions = QHBoxLayout()
        copy = button(
            "Copy", icon="copy", tip="Copied keys are cleared from the clipboard after 30 s"
        )
        copy.clicked.connect(lambda: self.session.clipboard.copy(self._recovery))
        save = button("Save as PDF…", icon="export")
        save.clicked.connect(self._save_pdf_dialog)
        print_ = button("Print…", icon="print")
        print_.clicked.connect(self._print)
        for b in (copy, save, print_):
            actions.addWidget(b)
        actions.addStretch(1)
        step.col.addLayout(actions)
        self.stored = QCheckBox("I have stored my recovery key somewhere safe")
        self.stored.setAccessibleName("I have stored my recovery key")
        step.col.addWidget(self.stored)
        row = QHBoxLayout()
        row.addStretch(1)
        self.finish_button = button("Open my vault", primary=True)
        self.finish_button.setEnabled(False)
        self.stored.toggled.connect(self.finish_button.setEnabled)
        self.finish_button.clicked.connect(self.finish)
        row.addWidget(self.finish_button)
        step.col.addLayout(row)
        self.stack.addWidget(step)

    # --- behaviour -------------------------------------------------------------------------

    def _to_passphrase(self) -> None:
        if not self.name.text().strip():
            self.welcome_error.setText("Please enter a name for the profile.")
            return
        self.welcome_error.setText("")
        self.stack.setCurrentIndex(1)
        self.pass1.setFocus()

    def _check_passphrase(self) -> str:
        p1, p2 = self.pass1.text(), self.pass2.text()
        problem = ""
        if p1 and len(p1) < MIN_PASSPHRASE_LENGTH:
            problem = f"Use at least {MIN_PASSPHRASE_LENGTH} characters."
        elif p2 and p1 != p2:
            problem = "The two passphrases differ."
        self.pass_error.setText(problem)
        ok = bool(p1) and p1 == p2 and not problem
        self.create_button.setEnabled(ok)
        return problem

    def _submit_passphrase(self) -> None:
        if not self._check_passphrase() and self.create_button.isEnabled():
            self.create_vault(self.pass1.text())

    def create_vault(self, passphrase: str | None) -> None:
        if passphrase is None and not self.keychain_available:
            return
        self.stack.setCurrentIndex(2)
        self.session.executor.run(
            self.session.create_op(passphrase, self.name.text().strip()),
            success=self._created,
            failure=self._create_failed,
            label="Creating the vault",
        )

    def _create_failed(self, exc: BaseException) -> None:
        self.stack.setCurrentIndex(1)
        self.session.bridge.error("Creating the vault", exc)

    def _created(self, payload: tuple[UnlockResult, str]) -> None:
        self._result, self._recovery = payload
        self.pass1.clear()
        self.pass2.clear()
        self.key_label.setText(self._recovery)
        self.stack.setCurrentIndex(3)

    @property
    def recovery_key(self) -> str:
        return self._recovery

    def save_pdf(self, path: Path) -> None:
        save_recovery_pdf(path, self._recovery)

    def _save_pdf_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save recovery key", suggested("ohvault-recovery-key.pdf"), "PDF (*.pdf)"
        )
        if name:
            try:
                self.save_pdf(Path(name))
            except OSError as exc:
                self.session.bridge.error("Saving the recovery key", exc)

    def _print(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        painter = QPainter(printer)
        try:
            rect = printer.pageLayout().paintRectPixels(printer.resolution())
            scale = printer.resolution() / 96
            painter.scale(scale, scale)
            paint_recovery_sheet(
                painter, QRectF(0, 0, rect.width() / scale, rect.height() / scale), self._recovery
            )
        finally:
            painter.end()

    def finish(self) -> None:
        if not self.stored.isChecked() or self._result is None:
            return
        result = self._result
        self._recovery = ""
        self.key_label.clear()
        self.session.clipboard.clear_if_ours()
        self.finished.emit(result)
