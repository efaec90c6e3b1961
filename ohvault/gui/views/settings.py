"""Settings: auto-lock, backups, appearance (and sync, once it exists)."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme
from ohvault.gui.settings_store import gui_settings
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ViewHeader, button, label

THEMES = [("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")]


class SettingsView(View):
    title = "Settings"
    icon_name = "settings"
    watches = frozenset({"settings"})

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
        self.autolock.setSuffix(" minutes")
        self.autolock.setSpecialValueText("never")
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
        self.interval.setSuffix(" hours")
        self.interval.setSpecialValueText("off")
        self.interval.setAccessibleName("Backup every hours")
        bform.addRow("Back up automatically every", self.interval)
        self.keep = QSpinBox()
        self.keep.setRange(1, 1000)
        self.keep.setAccessibleName("Backups to keep")
        bform.addRow("Backups to keep", self.keep)
        where = QHBoxLayout()
        self.location = QLineEdit()
        self.location.setAccessibleName("Backup folder")
        self.location.setPlaceholderText("the vault's own backups folder")
        where.addWidget(self.location, 1)
        browse = button("Choose…")
        browse.clicked.connect(self._choose_dir)
        where.addWidget(browse)
        bform.addRow("Folder", where)
        now_row = QHBoxLayout()
        self.backup_now = button("Back up now", icon="export")
        self.backup_now.clicked.connect(self.run_backup)
        now_row.addWidget(self.backup_now)
        self.last_backup = label("", "muted")
        now_row.addWidget(self.last_backup, 1)
        bform.addRow("", now_row)
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

        look = QGroupBox("Appearance")
        lform = QFormLayout(look)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for text, value in THEMES:
            self.theme.addItem(text, value)
        lform.addRow("Theme", self.theme)
        col.addWidget(look)

        sync = QGroupBox("Sync")
        sform = QVBoxLayout(sync)
        available = importlib.util.find_spec("ohvault.sync") is not None
        sform.addWidget(
            label(
                "Sync between your devices is set up from the command line (ohvault sync --help)."
                if available
                else "Sync between devices is not part of this version yet. Your vault stays on "
                "this computer.",
                "muted",
                wrap=True,
            )
        )
        col.addWidget(sync)
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

        def op(ctx: JobContext) -> str | None:
            return ctx.vault.get_setting("last_backup")

        self.session.executor.run(op, success=self._show_last_backup, label="Reading settings")

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
        folder = QFileDialog.getExistingDirectory(self, "Backup folder")
        if folder:
            self.location.setText(folder)
            self._save("backup_dir", folder)

    def run_backup(self) -> None:
        folder = self.location.text().strip()

        def op(ctx: JobContext) -> str:
            from ohvault.storage.backup import create_backup

            info = create_backup(ctx.vault, Path(folder) if folder else None)
            return info.path.name

        self.backup_now.setEnabled(False)
        job = self.session.executor.run(
            op,
            success=lambda name: self.session.notify.emit(f"Backup written: {name}"),
            writes={"settings"},
            label="Backing up",
        )
        job.done.connect(lambda: self.backup_now.setEnabled(True))

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
