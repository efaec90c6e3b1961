"""The unlock screen: tries the keychain by itself, then asks for passphrase or recovery key."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput, OhvaultError, VaultLocked
from ohvault.gui import theme
from ohvault.gui.session import Session, UnlockResult
from ohvault.gui.widgets import button, label


def _reason_text(exc: OhvaultError) -> str:
    text = exc.message
    # "The vault could not be unlocked from the OS keychain: <reasons>." → the reasons
    if ": " in text:
        head, tail = text.split(": ", 1)
        return f"{head}:\n• " + tail.rstrip(".").replace("; ", "\n• ")
    return text


class UnlockPage(QWidget):
    done = Signal(object)  # UnlockResult

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setFixedWidth(440)
        col = QVBoxLayout(panel)
        col.setContentsMargins(32, 28, 32, 28)
        col.setSpacing(12)
        logo = QLabel()
        logo.setPixmap(theme.icon("ohvault", "#1f8a7d").pixmap(56, 56))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(logo)
        title = label("Unlock your health vault", "h1")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(title)
        self.status = label("", "muted", wrap=True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.status)
        self.reason = label("", wrap=True)
        self.reason.setObjectName("reason")
        self.reason.setVisible(False)
        col.addWidget(self.reason)

        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Passphrase")
        self.secret.setPlaceholderText("Passphrase")
        self.secret.returnPressed.connect(self.submit)
        col.addWidget(self.secret)
        self.use_recovery = QCheckBox("Use my recovery key instead")
        self.use_recovery.setAccessibleName("Use recovery key")
        self.use_recovery.toggled.connect(self._mode_changed)
        col.addWidget(self.use_recovery)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedHeight(6)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        col.addWidget(self.busy)
        row = QHBoxLayout()
        self.retry = button(
            "Unlock with keychain", tip="Use the key stored in your system keychain"
        )
        self.retry.clicked.connect(self.try_keychain)
        row.addWidget(self.retry)
        row.addStretch(1)
        self.unlock_button = button("Unlock", primary=True, icon="key")
        self.unlock_button.clicked.connect(self.submit)
        row.addWidget(self.unlock_button)
        col.addLayout(row)

        hrow = QHBoxLayout()
        hrow.addStretch(1)
        hrow.addWidget(panel)
        hrow.addStretch(1)
        outer.addLayout(hrow)
        outer.addStretch(3)
        self._show_form(False)
        self.note = ""

    def _mode_changed(self, recovery: bool) -> None:
        # "That passphrase does not unlock…" is about what was typed before; it goes with it.
        self.status.setText(self.note)
        self.secret.clear()
        self.secret.setEchoMode(
            QLineEdit.EchoMode.Normal if recovery else QLineEdit.EchoMode.Password
        )
        self.secret.setPlaceholderText("Recovery key (XXXX-XXXX-…)" if recovery else "Passphrase")
        self.secret.setAccessibleName("Recovery key" if recovery else "Passphrase")
        self.secret.setFocus()

    def _show_form(self, visible: bool) -> None:
        for w in (self.secret, self.use_recovery, self.unlock_button, self.retry):
            w.setVisible(visible)

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.unlock_button.setEnabled(not on)
        self.secret.setEnabled(not on)

    def working(self, note: str) -> None:
        """Locked while the app works on the vault itself (a restore): no form, a busy bar."""
        self.reset(note)
        self._show_form(False)
        self._busy(True)

    def reset(self, note: str = "") -> None:
        """Back to a clean state (after a lock): nothing typed survives."""
        self.secret.clear()
        self.reason.setVisible(False)
        self.note = note
        self.status.setText(note)
        self._busy(False)
        self._show_form(True)
        self.secret.setFocus()

    def try_keychain(self) -> None:
        """At start-up only: after a lock the user must ask (a lock that undid itself is no lock)."""
        self.status.setText("Unlocking with your system keychain…")
        self.reason.setVisible(False)
        self._show_form(False)
        self._busy(True)
        self.session.executor.run(
            self.session.open_op(),  # the keychain
            success=self._unlocked,
            failure=self._keychain_failed,
            label="Unlocking",
        )

    def _keychain_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._show_form(True)
        if isinstance(exc, OhvaultError):
            self.status.setText(
                (self.note + " " if self.note else "") + "Enter your passphrase or recovery key."
            )
            self._set_reason(_reason_text(exc))
        else:
            self.session.bridge.error("Unlocking", exc)
        self.secret.setFocus()

    def _set_reason(self, text: str) -> None:
        self.reason.setText(text)
        self.reason.setStyleSheet(f"color: {theme.colours().muted};")
        self.reason.setVisible(True)

    def submit(self) -> None:
        text = self.secret.text()
        if not text.strip():
            self._set_reason("Type your passphrase or recovery key first.")
            return
        recovery = self.use_recovery.isChecked()
        if recovery:
            from ohvault.keys import recovery as rk

            try:
                rk.parse(text)
            except BadInput as exc:
                self._set_reason(exc.message)
                return
        from ohvault.vault import Credentials

        creds = Credentials(
            passphrase=None if recovery else text,
            recovery_key=text if recovery else None,
            use_keychain=False,
        )
        self.status.setText("Checking…")
        self._busy(True)
        self.session.executor.run(
            self.session.open_op(creds),
            success=self._unlocked,
            failure=self._manual_failed,
            label="Unlocking",
        )

    def _manual_failed(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, VaultLocked):
            what = "recovery key" if self.use_recovery.isChecked() else "passphrase"
            self.status.setText(f"That {what} does not unlock this vault. Try again.")
            self.secret.selectAll()
            self.secret.setFocus()
        elif isinstance(exc, OhvaultError):
            self._set_reason(exc.message)
        else:
            self.session.bridge.error("Unlocking", exc)

    def _unlocked(self, result: UnlockResult) -> None:
        self._busy(False)
        self.secret.clear()
        self.done.emit(result)
