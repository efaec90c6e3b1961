"""Settings → Sync: turn sync on (new account or existing), join from another device, pair, turn off.

Every button here that talks to the server runs on the sync lane (see
sync_ui.py), so the rest of the app keeps working while it waits. Passwords and
codes are cleared from the fields as soon as they were used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme
from ohvault.gui.sync_ui import DEFAULT_INTERVAL_MINUTES, describe_status
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.widgets import button, label

if TYPE_CHECKING:
    from ohvault.gui.session import Session


def _line(name: str, placeholder: str = "", *, secret: bool = False) -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    if secret:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class SyncPanel(QGroupBox):
    def __init__(self, session: Session) -> None:
        super().__init__("Sync")
        self.session = session
        self.controller = session.sync
        col = QVBoxLayout(self)
        col.addWidget(
            label(
                "Keep this vault in step with your other devices through a sync server. Everything "
                "is encrypted on this computer first: the server stores only ciphertext it cannot "
                "read. ohvault keeps working offline and catches up later.",
                "muted",
                wrap=True,
            )
        )
        self.stack = QStackedWidget()
        col.addWidget(self.stack)
        self._build_off()
        self._build_on()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(8)
        self.busy.setAccessibleName("Sync working")
        self.busy.setVisible(False)
        col.addWidget(self.busy)
        self.error = label("", wrap=True)
        self.error.setStyleSheet(f"color: {theme.colours().high};")
        self.error.setAccessibleName("Sync problem")
        col.addWidget(self.error)
        self.controller.status_changed.connect(self.show_status)
        self.controller.sync_started.connect(lambda: self.sync_button.setEnabled(False))
        self.controller.sync_finished.connect(lambda _: self.sync_button.setEnabled(True))
        self._loading = False

    # --- layout --------------------------------------------------------------------------------

    def _build_off(self) -> None:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.url = _line("Sync server address", "https://sync.example.org")
        self.username = _line("Sync account name", "your account name")
        self.password = _line("Sync account password", "account password", secret=True)
        form.addRow("Server", self.url)
        form.addRow("Account", self.username)
        form.addRow("Password", self.password)
        col.addLayout(form)
        row = QHBoxLayout()
        self.register_button = button("Create account and turn on", primary=True)
        self.register_button.clicked.connect(lambda: self.enable(register=True))
        self.login_button = button("Log in and turn on")
        self.login_button.clicked.connect(lambda: self.enable(register=False))
        row.addWidget(self.register_button)
        row.addWidget(self.login_button)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(label("Already syncing on another device?", "h2"))
        col.addWidget(
            label(
                "Log in with the same account above, then enter the pairing code that device shows "
                "(Settings → Sync → Show pairing code), or this vault's recovery key.",
                "muted",
                wrap=True,
            )
        )
        jrow = QHBoxLayout()
        self.join_code = _line("Pairing code or recovery key", "XXXX-XXXX-…", secret=True)
        jrow.addWidget(self.join_code, 1)
        self.join_pair_button = button("Join with pairing code")
        self.join_pair_button.clicked.connect(lambda: self.join(pairing=True))
        self.join_recovery_button = button("Join with recovery key")
        self.join_recovery_button.clicked.connect(lambda: self.join(pairing=False))
        jrow.addWidget(self.join_pair_button)
        jrow.addWidget(self.join_recovery_button)
        col.addLayout(jrow)
        self.stack.addWidget(page)

    def _build_on(self) -> None:
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        self.status_text = label("", wrap=True)
        self.status_text.setAccessibleName("Sync status details")
        col.addWidget(self.status_text)
        form = QFormLayout()
        self.interval = QSpinBox()
        self.interval.setRange(0, 24 * 60)
        self.interval.setSuffix(" minutes")
        self.interval.setSpecialValueText("Only when I ask")
        self.interval.setAccessibleName("Sync every minutes")
        self.interval.valueChanged.connect(self._interval_changed)
        form.addRow("Sync automatically every", self.interval)
        col.addLayout(form)
        row = QHBoxLayout()
        self.sync_button = button("Sync now", primary=True, tip="Sync now (F5)")
        self.sync_button.clicked.connect(lambda: self.controller.sync_now(manual=True))
        self.pair_button = button("Show pairing code…", tip="Add another device to this sync")
        self.pair_button.clicked.connect(self.show_pairing_code)
        self.relogin = _line("Sync account password (to log in again)", "password", secret=True)
        self.relogin.setVisible(False)
        self.relogin_button = button("Log in again")
        self.relogin_button.setVisible(False)
        self.relogin_button.clicked.connect(self.log_in_again)
        for w in (self.sync_button, self.pair_button):
            row.addWidget(w)
        row.addStretch(1)
        col.addLayout(row)
        lrow = QHBoxLayout()
        lrow.addWidget(self.relogin, 1)
        lrow.addWidget(self.relogin_button)
        col.addLayout(lrow)
        self.pairing_code = label("", wrap=True)
        self.pairing_code.setAccessibleName("Pairing code")
        self.pairing_code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pairing_code.setVisible(False)
        col.addWidget(self.pairing_code)
        off = QHBoxLayout()
        self.delete_remote = QCheckBox("Also delete the server's copy")
        self.delete_remote.setAccessibleName("Also delete the server's copy")
        self.disable_button = button("Turn off sync…", danger=True)
        self.disable_button.clicked.connect(self.disable)
        off.addWidget(self.delete_remote)
        off.addStretch(1)
        off.addWidget(self.disable_button)
        col.addLayout(off)
        self.stack.addWidget(page)

    # --- state --------------------------------------------------------------------------------

    def load(self) -> None:
        self._loading = True
        try:
            self.interval.setValue(
                int(
                    float(self.session.setting("sync_interval_minutes") or DEFAULT_INTERVAL_MINUTES)
                )
            )
        except ValueError:
            self.interval.setValue(int(DEFAULT_INTERVAL_MINUTES))
        self._loading = False
        self.show_status(self.controller.status)
        self.controller.refresh_status()

    def show_status(self, status: Any) -> None:
        on = bool(status is not None and status.enabled)
        self.stack.setCurrentIndex(1 if on else 0)
        if not on:
            self.pairing_code.setVisible(False)
            return
        short, tip = describe_status(status)
        self.status_text.setText(
            f"On · server {status.server_url} · account {status.username}\n"
            f"{short.lstrip('⟳ ')}\n{tip.splitlines()[0]}"
            + (f"\n{status.last_error}" if status.last_error else "")
        )
        needs_login = status.state == "login-required"
        self.relogin.setVisible(needs_login)
        self.relogin_button.setVisible(needs_login)

    def _interval_changed(self, value: int) -> None:
        if self._loading or not self.session.is_unlocked:
            return
        self.session.save_settings({"sync_interval_minutes": str(value)})
        self.controller.apply_settings()

    def _working(self, job: Job) -> Job:
        self.busy.setVisible(True)
        self.error.setText("")
        for b in (self.register_button, self.login_button, self.join_pair_button):
            b.setEnabled(False)
        self.join_recovery_button.setEnabled(False)

        def finished() -> None:
            self.busy.setVisible(False)
            for b in (self.register_button, self.login_button, self.join_pair_button):
                b.setEnabled(True)
            self.join_recovery_button.setEnabled(True)

        job.done.connect(finished)
        return job

    def _failed(self, exc: BaseException) -> None:
        from ohvault.gui.bridge import describe

        text, hint = describe(exc)
        self.error.setText(text + (f" {hint}" if hint else ""))

    def _fields(self) -> tuple[str, str, str] | None:
        url, user, password = (
            self.url.text().strip(),
            self.username.text().strip(),
            self.password.text(),
        )
        if not url.startswith(("https://", "http://")):
            self.error.setText("Enter the sync server's address (https://…).")
            return None
        if not user or not password:
            self.error.setText("Enter the account name and password.")
            return None
        return url, user, password

    def _turned_on(self, status: Any) -> None:
        self.password.clear()
        self.join_code.clear()
        self.session.sync_enabled = True
        self.controller.apply_settings()
        self.controller.refresh_status()
        self.session.notify.emit("Sync is on.")
        self.controller.sync_now(manual=True)

    def enable(self, *, register: bool) -> Job | None:
        fields = self._fields()
        if fields is None:
            return None
        url, user, password = fields

        def work(client: Any, ctx: JobContext) -> Any:
            return ctx.apply(client.enable, url, user, password, register=register)

        return self._working(
            self.controller.run_network(
                work,
                success=self._turned_on,
                failure=self._failed,
                label="Turning sync on",
            )
        )

    def join(self, *, pairing: bool) -> Job | None:
        fields = self._fields()
        if fields is None:
            return None
        url, user, password = fields
        code = self.join_code.text().strip()
        if not code:
            self.error.setText("Enter the pairing code or the recovery key.")
            return None

        def work(client: Any, ctx: JobContext) -> Any:
            if pairing:
                return ctx.apply(client.join, url, user, password, pairing_code=code)
            return ctx.apply(client.join, url, user, password, recovery_key=code)

        return self._working(
            self.controller.run_network(
                work,
                success=self._turned_on,
                failure=self._failed,
                label="Joining sync",
            )
        )

    def show_pairing_code(self) -> Job:
        def work(client: Any, ctx: JobContext) -> str:
            return str(client.pairing_code())

        def done(code: str) -> None:
            self.pairing_code.setText(
                f"Pairing code (one use, valid 10 minutes):\n{code}\n"
                "Enter it on the other device under Settings → Sync → Join with pairing code."
            )
            self.pairing_code.setVisible(True)
            self.last_pairing_code = code

        return self._working(
            self.controller.run_network(
                work, success=done, failure=self._failed, label="Making a pairing code"
            )
        )

    def log_in_again(self) -> Job | None:
        password = self.relogin.text()
        if not password:
            return None

        def work(client: Any, ctx: JobContext) -> None:
            client.login(password)

        def done(_: object) -> None:
            self.relogin.clear()
            self.controller.sync_now(manual=True)

        return self._working(
            self.controller.run_network(
                work, success=done, failure=self._failed, label="Logging in to sync"
            )
        )

    def disable(self) -> Job | None:
        remote = self.delete_remote.isChecked()
        if not self.session.bridge.confirm(
            "Turn off sync?",
            "This computer stops syncing; your records stay here."
            + (" The server's encrypted copy is deleted too." if remote else ""),
            ok="Turn off sync",
            danger=remote,
        ):
            return None

        def work(client: Any, ctx: JobContext) -> None:
            ctx.apply(client.disable, delete_remote=remote)

        def done(_: object) -> None:
            self.session.sync_enabled = False
            self.controller.apply_settings()
            self.controller.refresh_status()
            self.session.notify.emit("Sync is off.")

        return self._working(
            self.controller.run_network(
                work,
                success=done,
                failure=self._failed,
                label="Turning sync off",
            )
        )
