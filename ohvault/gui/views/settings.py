"""Settings: locking, backups, keys, appearance and sync."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ohvault import paths
from ohvault.changes import Change
from ohvault.gui import theme
from ohvault.gui.filedialogs import suggested
from ohvault.gui.settings_store import gui_settings
from ohvault.gui.sync_panel import SyncPanel
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ViewHeader, button, label
from ohvault.wording import plural

THEMES = [("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")]


def _plural_suffix(spin: QSpinBox, unit: str) -> None:
    """ "1 minute", "5 minutes": the suffix follows the value."""

    def update(value: int) -> None:
        spin.setSuffix(" " + plural(value, unit).split(" ", 1)[1])

    spin.valueChanged.connect(update)
    update(spin.value())


class SettingsView(View):
    title = "Settings"
    icon_name = "settings"
    watches = frozenset({Change.SETTINGS})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.root.addWidget(ViewHeader("Settings", "These apply to this vault on this computer."))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        host = QWidget()
        col = QVBoxLayout(host)
        col.setSpacing(14)
        col.setContentsMargins(0, 0, 8, 0)
        scroll.setWidget(host)
        self.root.addWidget(scroll, 1)

        security = QGroupBox("Locking")
        form = QFormLayout(security)
        self.autolock = QSpinBox()
        self.autolock.setRange(0, 240)
        _plural_suffix(self.autolock, "minute")
        self.autolock.setSpecialValueText("Never")
        self.autolock.setAccessibleName("Lock after idle minutes")
        form.addRow("Lock after being idle for", self.autolock)
        self.lock_on_sleep = QCheckBox("Lock when the computer sleeps or the screen locks")
        self.lock_on_sleep.setAccessibleName("Lock on sleep or screen lock")
        form.addRow("", self.lock_on_sleep)
        self.sleep_note = label("", "muted", wrap=True)
        form.addRow("", self.sleep_note)
        col.addWidget(security)

        backups = QGroupBox("Backups")
        bform = QFormLayout(backups)
        self.interval = QSpinBox()
        self.interval.setRange(0, 24 * 30)
        _plural_suffix(self.interval, "hour")
        self.interval.setSpecialValueText("Off")
        self.interval.setAccessibleName("Backup every hours")
        bform.addRow("Back up automatically every", self.interval)
        self.keep = QSpinBox()
        self.keep.setRange(1, 1000)
        self.keep.setAccessibleName("Backups to keep")
        bform.addRow("Backups to keep", self.keep)
        where = QHBoxLayout()
        self.location = QLineEdit()
        self.location.setAccessibleName("Backup folder")
        self.location.setPlaceholderText("The vault's own backups folder")
        where.addWidget(self.location, 1)
        browse = button("Choose…")
        browse.clicked.connect(self._choose_dir)
        where.addWidget(browse)
        bform.addRow("Folder", where)
        self.backup_where = label("", "muted", wrap=True)
        self.backup_where.setAccessibleName("Where backups go")
        bform.addRow("Backups go to", self.backup_where)
        now_row = QHBoxLayout()
        self.backup_now = button("Back up now", icon="export")
        self.backup_now.clicked.connect(self.run_backup)
        now_row.addWidget(self.backup_now)
        self.backup_bar = QProgressBar()
        self.backup_bar.setRange(0, 0)  # the core reports no steps: a busy indicator
        self.backup_bar.setTextVisible(False)
        self.backup_bar.setFixedSize(120, 8)
        self.backup_bar.setAccessibleName("Backup in progress")
        self.backup_bar.setVisible(False)
        now_row.addWidget(self.backup_bar)
        self.last_backup = label("", "muted")
        self.last_backup.setAccessibleName("Last backup")
        now_row.addWidget(self.last_backup, 1)
        bform.addRow("", now_row)
        self.restore_button = button("Restore…", icon="import")
        self.restore_button.setAccessibleName("Restore from a backup")
        self.restore_button.clicked.connect(self.restore)
        restore_row = QHBoxLayout()
        restore_row.addWidget(self.restore_button)
        restore_row.addWidget(
            label("Replace the vault with a backup; the app locks and reopens on it.", "muted"), 1
        )
        bform.addRow("", restore_row)
        bform.addRow(
            "",
            label(
                "Backups are encrypted like the vault: they open only with your passphrase, "
                "keychain or recovery key.",
                "muted",
                wrap=True,
            ),
        )
        col.addWidget(backups)

        keys = QGroupBox("Keys")
        kform = QVBoxLayout(keys)
        kform.addWidget(
            label(
                "Your vault opens with your passphrase, this computer's keychain, or your "
                "recovery key.",
                "muted",
                wrap=True,
            )
        )
        krow = QHBoxLayout()
        self.passphrase_button = button("Change passphrase…", icon="key")
        self.passphrase_button.clicked.connect(self.change_passphrase)
        self.recovery_button = button("New recovery key…", icon="key")
        self.recovery_button.clicked.connect(self.new_recovery_key)
        self.rotate_button = button("Rotate data key…", icon="key", danger=True)
        self.rotate_button.clicked.connect(self.rotate_key)
        for b in (self.passphrase_button, self.recovery_button, self.rotate_button):
            krow.addWidget(b)
        krow.addStretch(1)
        kform.addLayout(krow)
        col.addWidget(keys)

        look = QGroupBox("Appearance")
        lform = QFormLayout(look)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for text, value in THEMES:
            self.theme.addItem(text, value)
        lform.addRow("Theme", self.theme)
        col.addWidget(look)

        self.sync_panel = SyncPanel(session)
        col.addWidget(self.sync_panel)
        col.addStretch(1)

        self.autolock.valueChanged.connect(lambda v: self._save("autolock_minutes", str(v)))
        self.lock_on_sleep.toggled.connect(lambda v: self._save("lock_on_sleep", "1" if v else "0"))
        self.interval.valueChanged.connect(lambda v: self._save("backup_interval_hours", str(v)))
        self.keep.valueChanged.connect(lambda v: self._save("backup_keep", str(v)))
        self.location.editingFinished.connect(
            lambda: self._save("backup_dir", self.location.text().strip())
        )
        self.theme.currentIndexChanged.connect(self._theme_changed)
        self._loading = False

    def _save(self, key: str, value: str) -> None:
        if not self._loading and self.session.is_unlocked:
            self.session.save_settings({key: value})

    def load(self) -> None:
        self._loading = True
        s = self.session
        self.autolock.setValue(int(float(s.setting("autolock_minutes") or 0)))
        self.lock_on_sleep.setChecked(s.setting("lock_on_sleep") == "1")
        self.interval.setValue(int(float(s.setting("backup_interval_hours") or 0)))
        self.keep.setValue(int(s.setting("backup_keep") or 30))
        self.location.setText(s.setting("backup_dir"))
        mode = str(gui_settings().value("theme", "system"))
        self.theme.setCurrentIndex(max(self.theme.findData(mode), 0))
        watcher = getattr(self.window(), "system_lock", None)
        sources = getattr(watcher, "connected", [])
        self.sleep_note.setText(
            "This desktop reports sleep and screen locking."
            if sources
            else "This desktop does not report sleep or screen locking; the idle timer still applies."
        )
        self._loading = False

        folder = self.location.text().strip()

        def op(ctx: JobContext) -> tuple[str | None, str]:
            where = folder or str(ctx.vault.files.backups)
            return ctx.vault.get_setting("last_backup"), where

        def done(payload: tuple[str | None, str]) -> None:
            self.backup_where.setText(payload[1])
            self._show_last_backup(payload[0])

        self.session.executor.run(op, success=done, label="Reading settings")
        self.passphrase_button.setText(
            "Change passphrase…" if s.passphrase_set else "Set a passphrase…"
        )
        self.sync_panel.load()

    def _show_last_backup(self, stamp: str | None) -> None:
        if not stamp:
            self.last_backup.setText("No backup yet.")
            return
        try:
            when = datetime.fromisoformat(stamp).astimezone()
            self.last_backup.setText(f"Last backup: {when:%Y-%m-%d %H:%M}")
        except ValueError:
            self.last_backup.setText("")

    def _choose_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Backup folder", suggested())
        if folder:
            self.location.setText(folder)
            self._save("backup_dir", folder)

    def run_backup(self) -> Job:
        folder = self.location.text().strip()

        def op(ctx: JobContext) -> str:
            from ohvault.vault.backup import create_backup

            info = ctx.apply(create_backup, ctx.vault, Path(folder) if folder else None)
            return info.path.name

        self.backup_now.setEnabled(False)
        self.backup_bar.setVisible(True)
        self.last_backup.setText("Backing up…")
        job = self.session.executor.run(
            op,
            success=self._backed_up,
            label="Backing up",
        )
        job.done.connect(self._backup_done)
        return job

    def _backed_up(self, name: str) -> None:
        self.session.notify.emit(f"Backup written: {name}")

    def _backup_done(self) -> None:
        self.backup_now.setEnabled(True)
        self.backup_bar.setVisible(False)
        if self.session.is_unlocked:
            self.load()

    def restore(self) -> QDialog:
        from ohvault.gui.restore import RestoreDialog

        folder = self.location.text().strip() or self.backup_where.text().strip()
        where = Path(folder) if folder else self.session.home / paths.BACKUP_DIRNAME
        dialog = RestoreDialog(self, self.session, where)
        dialog.open()
        return dialog

    # --- keys -------------------------------------------------------------------------------

    def change_passphrase(self) -> QDialog:
        from ohvault.gui.keys import ChangePassphraseDialog

        dialog = ChangePassphraseDialog(self, self.session)
        dialog.open()
        return dialog

    def new_recovery_key(self) -> Job | None:
        from ohvault.gui.keys import new_recovery_key

        return new_recovery_key(self, self.session)

    def rotate_key(self) -> QDialog:
        from ohvault.gui.keys import RotateKeyDialog

        dialog = RotateKeyDialog(self, self.session)
        dialog.open()
        return dialog

    def _theme_changed(self, _: int) -> None:
        if self._loading:
            return
        mode = str(self.theme.currentData())
        store = gui_settings()
        store.setValue("theme", mode)
        store.sync()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, mode)
