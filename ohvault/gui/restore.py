"""Settings → Backups → Restore…: pick a backup, see whose it is and what it holds, restore.

The rules live in the core (`vault/backup.py`: inspect_backup, restore_backup);
this dialog only shows them. Inspecting unlocks the backup on the worker (Argon2
for a passphrase is slow); a backup of another vault needs an explicit tick; the
restore itself is Session.restore: lock, replace, reopen on the restored vault.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.widgets import button, error_label, label

if TYPE_CHECKING:
    from ohvault.gui.session import Session
    from ohvault.vault.backup import BackupDetails

_NAMES = {
    "profiles": ("profile", "profiles"),
    "observation": ("result", "results"),
    "diagnostic_report": ("report", "reports"),
    "document": ("document", "documents"),
    "medication": ("medication", "medications"),
    "condition": ("condition", "conditions"),
    "allergy": ("allergy", "allergies"),
    "immunization": ("immunisation", "immunisations"),
    "note": ("note", "notes"),
}


def describe_counts(counts: dict[str, int]) -> str:
    """ "1 profile, 12 results, 2 documents" (record kinds with none are left out)."""
    parts = []
    for key, count in counts.items():
        one, many = _NAMES.get(key, (key.replace("_", " "), key.replace("_", " ") + "s"))
        if count or key == "profiles":
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def _when(stamp: str) -> str:
    try:
        return f"{datetime.fromisoformat(stamp).astimezone():%Y-%m-%d %H:%M}"
    except ValueError:
        return stamp


class RestoreDialog(QDialog):
    def __init__(self, parent: QWidget | None, session: Session, folder: Path) -> None:
        super().__init__(parent)
        self.session = session
        self.details: BackupDetails | None = None
        self.job: Job | None = None
        self.setWindowTitle("Restore from a backup")
        self.setAccessibleName("Restore from a backup")
        self.setMinimumWidth(560)
        col = QVBoxLayout(self)
        col.addWidget(label("Restore from a backup", "h1"))
        col.addWidget(
            label(
                "The vault is replaced by the backup: changes made since it was written are "
                "lost. The vault you have now is kept aside until the restored one is unlocked.",
                "muted",
                wrap=True,
            )
        )
        form = QFormLayout()
        pick = QHBoxLayout()
        self.backups = QComboBox()
        self.backups.setAccessibleName("Backup")
        self.backups.setMinimumContentsLength(28)
        from ohvault.vault.backup import list_backups

        for path in reversed(list_backups(folder)):  # newest first
            self.backups.addItem(path.name, str(path))
        pick.addWidget(self.backups, 1)
        choose = button("Choose file…")
        choose.clicked.connect(self.choose_file)
        pick.addWidget(choose)
        form.addRow("Backup", pick)
        self.vault_line = label("", wrap=True)
        self.vault_line.setAccessibleName("Backup's vault")
        form.addRow("Vault", self.vault_line)
        self.date_line = label("")
        self.date_line.setAccessibleName("Backup date")
        form.addRow("Made", self.date_line)
        self.counts_line = label("", wrap=True)
        self.counts_line.setAccessibleName("Records in the backup")
        form.addRow("Holds", self.counts_line)
        secret_row = QHBoxLayout()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Passphrase or recovery key of the backup")
        self.secret.setPlaceholderText("Passphrase or recovery key")
        self.secret.setToolTip("The passphrase or recovery key that was valid when it was made")
        self.secret.returnPressed.connect(self.check_secret)
        secret_row.addWidget(self.secret, 1)
        self.use_recovery = QCheckBox("Recovery key")
        self.use_recovery.setAccessibleName("The secret is a recovery key")
        secret_row.addWidget(self.use_recovery)
        self.check_button = button("Unlock backup")
        self.check_button.clicked.connect(self.check_secret)
        secret_row.addWidget(self.check_button)
        self.secret_label = label("Unlock with")
        form.addRow(self.secret_label, secret_row)
        col.addLayout(form)
        self.other_box = QCheckBox(
            "Replace this vault with the other vault's records (this vault's own records go)"
        )
        self.other_box.setAccessibleName("Confirm restoring another vault")
        self.other_box.toggled.connect(lambda _=False: self.check())
        col.addWidget(self.other_box)
        self.error = error_label()
        col.addWidget(self.error)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(8)
        self.busy.setVisible(False)
        col.addWidget(self.busy)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = button("Cancel")
        cancel.clicked.connect(self.reject)
        self.restore_button = button("Restore", primary=True)
        self.restore_button.clicked.connect(self.submit)
        row.addWidget(cancel)
        row.addWidget(self.restore_button)
        col.addLayout(row)
        self.backups.currentIndexChanged.connect(lambda _=0: self.inspect())
        self._show(None)
        if self.backups.count():
            self.inspect()
        else:
            self.error.setText("No backups in the backup folder: choose a backup file.")

    # --- picking and inspecting ---------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        data = self.backups.currentData()
        return Path(str(data)) if data else None

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Choose a backup", str(Path.home()), "ohvault backups (*.ohvbackup)"
        )
        if name:
            self.select(Path(name))

    def select(self, path: Path) -> None:
        index = self.backups.findData(str(path))
        if index < 0:
            self.backups.insertItem(0, path.name, str(path))
            index = 0
        if index == self.backups.currentIndex():
            self.inspect()
        else:
            self.backups.setCurrentIndex(index)  # inspects through currentIndexChanged

    def inspect(self, secret: str | None = None) -> Job | None:
        """Read the chosen backup's id and date, and counts if it unlocks (keychain, `secret`)."""
        path = self.path
        if path is None:
            return None
        from ohvault.vault import Credentials

        recovery = self.use_recovery.isChecked()
        creds = Credentials(
            passphrase=None if (secret is None or recovery) else secret,
            recovery_key=secret if (secret is not None and recovery) else None,
            use_keychain=secret is None,
        )
        home, keychain = self.session.home, self.session.keychain

        def op(ctx: JobContext) -> BackupDetails:
            from ohvault.vault.backup import inspect_backup

            return inspect_backup(path, creds, home=home, keychain=keychain)

        self._show(None)
        self.error.setText("")
        self.busy.setVisible(True)
        self.job = self.session.executor.run(
            op, success=self._inspected, failure=self._failed, label="Reading the backup"
        )
        return self.job

    def check_secret(self) -> Job | None:
        text = self.secret.text()
        if not text.strip():
            self.error.setText("Type the backup's passphrase or recovery key first.")
            return None
        return self.inspect(text)

    def _inspected(self, details: BackupDetails) -> None:
        self.busy.setVisible(False)
        if self.path != details.path:
            return  # another backup was picked meanwhile
        self._show(details)

    def _failed(self, exc: BaseException) -> None:
        from ohvault.gui.bridge import describe

        self.busy.setVisible(False)
        self._show(None)
        self.error.setText(describe(exc)[0])

    def _show(self, details: BackupDetails | None) -> None:
        self.details = details
        if details is None:
            for line in (self.vault_line, self.date_line, self.counts_line):
                line.setText("")
            self.other_box.setVisible(False)
            self.check()
            return
        other = details.same_vault is False
        self.vault_line.setStyleSheet(f"color: {theme.colours().high};" if other else "")
        if other:
            self.vault_line.setText(
                f"ANOTHER vault ({details.vault_id}), not the one open now. Restoring it "
                "replaces this vault's records with that vault's."
            )
        else:
            self.vault_line.setText(f"This vault ({details.vault_id})")
        self.date_line.setText(_when(details.created_at))
        unlocked = details.counts is not None
        self.counts_line.setText(
            describe_counts(details.counts)
            if details.counts is not None
            else "Not known yet: unlock the backup below."
        )
        for widget in (self.secret, self.use_recovery, self.check_button, self.secret_label):
            widget.setVisible(not unlocked)
        if not unlocked and self.secret.text():
            self.error.setText(details.unlock_error or "That does not unlock this backup.")
        self.other_box.setVisible(details.same_vault is False)
        self.other_box.setChecked(False)
        self.check()
        self.adjustSize()  # the wrapped warning and the unlock row change the height

    def check(self) -> str:
        problem = ""
        if self.details is None:
            problem = "Choose a backup."
        elif self.details.counts is None:
            problem = "Unlock the backup first."
        elif self.details.same_vault is False and not self.other_box.isChecked():
            problem = "Tick the box to replace this vault with another vault's backup."
        self.restore_button.setEnabled(not problem)
        return problem

    # --- restoring ----------------------------------------------------------------------

    def submit(self) -> bool:
        if self.check() or self.details is None:
            return False
        from ohvault.vault import Credentials

        secret = self.secret.text() or None
        recovery = self.use_recovery.isChecked()
        creds = Credentials(
            passphrase=None if (secret is None or recovery) else secret,
            recovery_key=secret if (secret is not None and recovery) else None,
        )
        self.secret.clear()
        self.session.restore(
            self.details.path, creds, allow_other_vault=self.details.same_vault is False
        )
        self.accept()
        return True
