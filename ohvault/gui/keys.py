"""Settings → Keys: change the passphrase, issue a new recovery key, rotate the data key.

Every key operation runs on the vault worker. A new recovery key (also the one
a rotation makes) is shown once, like the first-run wizard's: copy marks it
secret and clears it after 30 s, and the dialog closes only after "I have
stored it" is ticked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme
from ohvault.gui.filedialogs import suggested
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.widgets import StrengthMeter, button, label

if TYPE_CHECKING:
    from ohvault.gui.session import Session


def _password(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    return edit


class _KeyDialog(QDialog):
    def __init__(self, parent: QWidget | None, session: Session, title: str, text: str) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(480)
        self.col = QVBoxLayout(self)
        self.col.addWidget(label(title, "h1"))
        self.col.addWidget(label(text, "muted", wrap=True))
        self.form = QFormLayout()
        self.col.addLayout(self.form)
        self.error = label("", wrap=True)
        self.error.setStyleSheet(f"color: {theme.colours().high};")
        self.error.setAccessibleName("Problem")
        self.col.addWidget(self.error)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(8)
        self.busy.setVisible(False)
        self.col.addWidget(self.busy)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = button("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = button("OK", primary=True)
        # Enter in the last box means OK, never Cancel (the first button would be the default).
        self.ok_button.setDefault(True)
        self.cancel_button.setAutoDefault(False)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        self.col.addLayout(row)
        self.job: Job | None = None

    def working(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.ok_button.setEnabled(not on)
        self.cancel_button.setEnabled(not on)

    def failed(self, exc: BaseException) -> None:
        from ohvault.gui.bridge import describe

        self.working(False)
        self.error.setText(describe(exc)[0])

    def clear_secrets(self) -> None:
        for edit in self.findChildren(QLineEdit):
            edit.clear()


class ChangePassphraseDialog(_KeyDialog):
    def __init__(self, parent: QWidget | None, session: Session) -> None:
        super().__init__(
            parent,
            session,
            "Change passphrase",
            "The new passphrase unlocks this vault from now on; the old one stops working. "
            "Your keychain and recovery key keep working.",
        )
        from ohvault.vault import MIN_PASSPHRASE_LENGTH

        self.min_length = MIN_PASSPHRASE_LENGTH
        self.current = _password("Current passphrase", "Current passphrase")
        self.current.setVisible(session.passphrase_set)
        if session.passphrase_set:
            self.form.addRow("Current", self.current)
        self.new1 = _password("New passphrase", f"At least {MIN_PASSPHRASE_LENGTH} characters")
        self.meter = StrengthMeter()
        self.new2 = _password("Repeat new passphrase", "Repeat the new passphrase")
        self.form.addRow("New", self.new1)
        self.form.addRow("", self.meter)
        self.form.addRow("Repeat", self.new2)
        self.new1.textChanged.connect(self.meter.update_for)
        for edit in (self.current, self.new1, self.new2):
            edit.textChanged.connect(lambda _=None: self.check())
        self.ok_button.setText("Change passphrase")
        self.ok_button.clicked.connect(self.submit)
        self.check()

    def check(self) -> str:
        p1, p2 = self.new1.text(), self.new2.text()
        problem = ""
        if self.session.passphrase_set and not self.current.text():
            problem = "Enter your current passphrase."
        elif len(p1) < self.min_length:
            problem = f"Use at least {self.min_length} characters."
        elif p1 != p2:
            problem = "The two new passphrases differ."
        self.ok_button.setEnabled(not problem)
        touched = bool(p1 or p2)
        self.error.setText(problem if touched else "")
        return problem

    def submit(self) -> Job | None:
        if self.check():
            return None
        current = self.current.text() if self.session.passphrase_set else None
        new = self.new1.text()

        def op(ctx: JobContext) -> None:
            from ohvault.errors import WrongKey

            vault = ctx.vault
            if current is not None and not vault.verify_passphrase(current):
                raise WrongKey("That is not the current passphrase.")
            ctx.apply(vault.change_passphrase, new)

        def done(_: object) -> None:
            self.session.passphrase_set = True
            self.clear_secrets()
            self.session.notify.emit("Passphrase changed.")
            self.accept()

        self.working(True)
        self.job = self.session.executor.run(
            op, success=done, failure=self.failed, label="Changing passphrase"
        )
        return self.job


class RecoveryKeyDialog(QDialog):
    """Shows a new recovery key once; closes only once the user says it is stored."""

    def __init__(self, parent: QWidget | None, session: Session, key: str, why: str) -> None:
        super().__init__(parent)
        self.session = session
        self._key = key
        self.setWindowTitle("Your new recovery key")
        self.setAccessibleName("Your new recovery key")
        col = QVBoxLayout(self)
        col.addWidget(label("Store your new recovery key", "h1"))
        col.addWidget(
            label(
                why + " It is shown only this once. Print it or save it somewhere safe, offline.",
                "muted",
                wrap=True,
            )
        )
        self.key_label = QLabel(key)
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setAccessibleName("Recovery key")
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("Monospace", 14, QFont.Weight.Bold)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.key_label.setFont(mono)
        c = theme.colours()
        self.key_label.setStyleSheet(
            f"background: {c.window}; border: 1px dashed {c.border}; border-radius: 8px;"
            " padding: 14px;"
        )
        col.addWidget(self.key_label)
        row = QHBoxLayout()
        copy = button(
            "Copy", icon="copy", tip="Copied keys are cleared from the clipboard after 30 s"
        )
        copy.clicked.connect(lambda: self.session.clipboard.copy(self._key))
        row.addWidget(copy)
        save = button("Save as PDF…", icon="export")
        save.clicked.connect(self._save_pdf)
        row.addWidget(save)
        row.addStretch(1)
        col.addLayout(row)
        self.stored = QCheckBox("I have stored my new recovery key somewhere safe")
        self.stored.setAccessibleName("I have stored my new recovery key")
        col.addWidget(self.stored)
        done_row = QHBoxLayout()
        done_row.addStretch(1)
        self.done_button = button("Done", primary=True)
        self.done_button.setEnabled(False)
        self.stored.toggled.connect(self.done_button.setEnabled)
        self.done_button.clicked.connect(self.accept)
        done_row.addWidget(self.done_button)
        col.addLayout(done_row)

    @property
    def recovery_key(self) -> str:
        return self._key

    def _save_pdf(self) -> None:
        from pathlib import Path

        from PySide6.QtWidgets import QFileDialog

        from ohvault.gui.wizard import save_recovery_pdf

        name, _ = QFileDialog.getSaveFileName(
            self, "Save recovery key", suggested("ohvault-recovery-key.pdf"), "PDF (*.pdf)"
        )
        if name:
            try:
                save_recovery_pdf(Path(name), self._key)
            except OSError as exc:
                self.session.bridge.error("Saving the recovery key", exc)

    def reject(self) -> None:
        # Escape must not lose the only copy before it was stored.
        if self.stored.isChecked():
            self.accept()

    def done(self, result: int) -> None:
        if result == QDialog.DialogCode.Accepted and not self.stored.isChecked():
            return
        self._key = ""
        self.key_label.clear()
        self.session.clipboard.clear_if_ours()
        super().done(result)


def new_recovery_key(parent: QWidget, session: Session) -> Job | None:
    if not session.bridge.confirm(
        "Issue a new recovery key?",
        "Your current recovery key will stop working for this vault as soon as the new one is "
        "made (backups made before keep opening with it: delete them once a new backup "
        "exists). Do this if the old one may have been seen by someone else, or was lost.",
        ok="Issue a new key",
        danger=True,
    ):
        return None

    def op(ctx: JobContext) -> str:
        return ctx.apply(ctx.vault.new_recovery_key)

    def done(key: str) -> None:
        RecoveryKeyDialog(parent, session, key, "Your old recovery key no longer works.").open()

    return session.executor.run(op, success=done, label="New recovery key")


class RotateKeyDialog(_KeyDialog):
    """Replace the data key: the database is re-encrypted, a new recovery key is issued."""

    def __init__(self, parent: QWidget | None, session: Session) -> None:
        super().__init__(
            parent,
            session,
            "Rotate the data key",
            "The whole vault is re-encrypted under a new key, and a new recovery key replaces "
            "the old one. Do this if you think a copy of the vault and one of its keys were "
            "exposed. It takes a moment; the vault stays safe if it is interrupted. Backups "
            "made before keep the old keys: delete them once a new backup exists.",
        )
        self.passphrase = _password("Passphrase", "Your passphrase")
        if session.passphrase_set:
            self.form.addRow("Passphrase", self.passphrase)
        self.confirm_box = QCheckBox("I understand that my current recovery key will stop working")
        self.confirm_box.setAccessibleName("Confirm key rotation")
        self.col.insertWidget(3, self.confirm_box)
        self.confirm_box.toggled.connect(lambda _=False: self.check())
        self.passphrase.textChanged.connect(lambda _=None: self.check())
        self.ok_button.setText("Rotate key")
        self.ok_button.setProperty("danger", True)
        self.ok_button.clicked.connect(self.submit)
        self.check()

    def check(self) -> str:
        problem = ""
        if not self.confirm_box.isChecked():
            problem = "Tick the box to confirm."
        elif self.session.passphrase_set and not self.passphrase.text():
            problem = "Enter your passphrase."
        self.ok_button.setEnabled(not problem)
        return problem

    def submit(self) -> Job | None:
        if self.check():
            return None
        passphrase = self.passphrase.text() if self.session.passphrase_set else None

        def op(ctx: JobContext) -> str:
            # A sync's steps run on this worker too, so none is inside the database meanwhile.
            return ctx.apply(ctx.vault.rotate_key, passphrase)

        def done(key: str) -> None:
            self.clear_secrets()
            self.accept()
            RecoveryKeyDialog(
                self.parent() if isinstance(self.parent(), QWidget) else None,  # type: ignore[arg-type]
                self.session,
                key,
                "The data key was replaced, and with it the recovery key.",
            ).open()
            self.session.notify.emit("Data key rotated.")

        self.working(True)
        self.job = self.session.executor.run(
            op, success=done, failure=self.failed, label="Rotating the key"
        )
        return self.job
