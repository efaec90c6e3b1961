"""The one window: first-run wizard, unlock screen, or the app shell with its sidebar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ohvault import __version__
from ohvault.gui import theme
from ohvault.gui.autolock import IdleWatcher, SystemLockWatcher
from ohvault.gui.session import Session, UnlockResult
from ohvault.gui.settings_store import gui_settings
from ohvault.gui.sync_ui import SyncIndicator
from ohvault.gui.tasks import Job
from ohvault.gui.unlock import UnlockPage
from ohvault.gui.views import VIEWS, sidebar_order
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ElidedLabel, button, retint_buttons

if TYPE_CHECKING:
    from ohvault.gui.profiles import DeleteProfileDialog, ProfileDialog
    from ohvault.gui.share import ShareWizard
    from ohvault.gui.wizard import FirstRunWizard
    from ohvault.keys.keychain import KeyStore
    from ohvault.keys.wrap import KdfParams

log = logging.getLogger(__name__)

ADD_PROFILE = "__add__"
EDIT_PROFILE = "__edit__"
BUNDLE_SUFFIX = ".ohvbundle"
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
DROPPABLE = (".pdf", ".json", BUNDLE_SUFFIX, *IMAGES)


class MainWindow(QMainWindow):
    def __init__(
        self,
        home: Path | None = None,
        kdf: KdfParams | None = None,
        keychain: KeyStore | None = None,
        *,
        interactive: bool = True,
        settings: QSettings | None = None,
        autostart: bool = True,
    ) -> None:
        super().__init__()
        self.session = Session(home, kdf, keychain, interactive=interactive)
        self.session.bridge.parent_widget = self
        self.qsettings = settings or gui_settings()
        self.setWindowTitle("ohvault")
        self.setWindowIcon(theme.icon("ohvault", "#1f8a7d"))
        self.setMinimumSize(QSize(960, 620))
        self.setAcceptDrops(True)

        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.setCentralWidget(self.pages)
        self.unlock_page = UnlockPage(self.session)
        self.unlock_page.done.connect(self._unlocked)
        self.pages.addWidget(self.unlock_page)
        self.wizard: FirstRunWizard | None = None
        self.shell = QWidget()
        self.pages.addWidget(self.shell)
        self._built: dict[int, View] = {}
        self._build_shell()
        self._build_menus()
        self._build_status()
        self._apply_mode()  # the View menu lists only the screens this vault has

        self.idle = IdleWatcher(self._autolock_seconds())
        self.idle.expired.connect(lambda: self.lock("idle"))
        self.system_lock: SystemLockWatcher | None = None  # connected at the first unlock
        self.session.locked.connect(self._after_lock)
        self.session.restored.connect(self._restored)
        self.session.settings_changed.connect(self._settings_changed)
        self.session.profile_changed.connect(self._profile_changed)
        self.session.profiles_changed.connect(self._fill_profiles)
        self.session.notify.connect(lambda text: self.statusBar().showMessage(text, 6000))

        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1220, 780)
        last = self.qsettings.value("window/view", "Dashboard")
        self._current_view = self._view_index(str(last))
        if autostart:
            self.start()

    # --- start-up -------------------------------------------------------------------------

    def start(self) -> None:
        if self.session.vault_exists():
            self.pages.setCurrentWidget(self.unlock_page)
            self.unlock_page.try_keychain()
        else:
            self.show_wizard()

    def show_wizard(self) -> None:
        from ohvault.gui.wizard import FirstRunWizard

        self.wizard = FirstRunWizard(self.session)
        self.wizard.finished.connect(self._unlocked)
        self.pages.addWidget(self.wizard)
        self.pages.setCurrentWidget(self.wizard)

    def _unlocked(self, result: UnlockResult) -> None:
        if self.wizard is not None:
            self.pages.removeWidget(self.wizard)
            self.wizard.deleteLater()
            self.wizard = None
        self.session.adopt(result)
        self._fill_profiles()
        self._apply_mode()
        if self.session.is_clinician and self.session.profile_id is None:
            self._current_view = self._view_index("Patients")
        self.pages.setCurrentWidget(self.shell)
        for view in self.views:
            view.stale = True
        self.show_view(self._current_view)
        self.idle.set_timeout(self._autolock_seconds())
        self.idle.start()
        if self.system_lock is None:
            self.system_lock = SystemLockWatcher()
            self.system_lock.sleeping.connect(lambda: self._system_lock("sleep"))
            self.system_lock.screen_locked.connect(lambda: self._system_lock("screen"))
        report = result.report
        how = {"keychain": "your keychain", "passphrase": "your passphrase"}.get(
            report.method.value, "your recovery key"
        )
        self.unlock_label.setText(f"Unlocked with {how}")
        if result.recovery_unconfirmed:
            self.session.bridge.warn(
                "New recovery key needed",
                "A key change was finished after an interruption, so your old recovery key no "
                "longer works. Issue a new one with `ohvault key new-recovery-key` and store it "
                "safely.",
            )

    def _restored(self, result: UnlockResult) -> None:
        self._unlocked(result)
        self.session.notify.emit("Backup restored.")

    def _settings_changed(self) -> None:
        if self.session.is_unlocked:
            self.idle.set_timeout(self._autolock_seconds())

    def _autolock_seconds(self) -> float:
        try:
            return float(self.session.setting("autolock_minutes")) * 60
        except ValueError:
            return 15 * 60

    # --- shell ------------------------------------------------------------------------------

    def _build_shell(self) -> None:
        row = QHBoxLayout(self.shell)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        side = QFrame()
        side.setObjectName("sidebar")
        side.setFixedWidth(232)
        col = QVBoxLayout(side)
        col.setContentsMargins(0, 16, 0, 12)
        col.setSpacing(8)
        brand = QHBoxLayout()
        brand.setContentsMargins(18, 0, 12, 4)
        logo = QLabel()
        logo.setPixmap(theme.icon("ohvault", "#1f8a7d").pixmap(28, 28))
        brand.addWidget(logo)
        name = QLabel("ohvault")
        name.setObjectName("brand")
        brand.addWidget(name)
        brand.addStretch(1)
        col.addLayout(brand)
        self.profile_box = QComboBox()
        self.profile_box.setAccessibleName("Profile")
        self.profile_box.setToolTip("Switch profile (Ctrl+P)")
        self.profile_box.activated.connect(self._profile_chosen)
        prow = QHBoxLayout()
        prow.setContentsMargins(12, 4, 12, 8)
        prow.addWidget(self.profile_box)
        # Clinician vaults: the patient being viewed (chosen on the Patients screen).
        self.patient_label = ElidedLabel("")
        self.patient_label.setObjectName("muted")
        self.patient_label.setAccessibleName("Patient being viewed")
        self.patient_label.setVisible(False)
        prow.addWidget(self.patient_label)
        col.addLayout(prow)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Sections")
        self.nav.setIconSize(QSize(18, 18))
        # Clinician screens first in the sidebar; VIEWS order (and Ctrl+1…0) stays as it was.
        self._nav_order = sidebar_order()
        for i in self._nav_order:
            spec = VIEWS[i]
            item = QListWidgetItem(theme.icon(spec.icon), spec.title)
            item.setToolTip(f"{spec.title} (Ctrl+{(i + 1) % 10})" if i < 10 else spec.title)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(
            lambda row: self.show_view(self._nav_order[row]) if row >= 0 else None
        )
        col.addWidget(self.nav, 1)
        self.lock_button = button("Lock", icon="lock", tip="Lock the vault (Ctrl+L)")
        self.lock_button.clicked.connect(lambda: self.lock("user"))
        lrow = QHBoxLayout()
        lrow.setContentsMargins(12, 0, 12, 0)
        lrow.addWidget(self.lock_button)
        col.addLayout(lrow)
        row.addWidget(side)
        self.content = QStackedWidget()
        for _ in VIEWS:
            self.content.addWidget(QWidget())  # replaced by the screen when first shown
        row.addWidget(self.content, 1)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.named_actions: dict[str, QAction] = {}

        def act(menu, key: str, text: str, shortcut, slot, icon: str = "") -> QAction:  # type: ignore[no-untyped-def]
            action = QAction(theme.icon(icon) if icon else theme.icon("none"), text, self)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.addAction(action)
            self.named_actions[key] = action
            return action

        act(file_menu, "import", "&Import lab reports…", "Ctrl+I", self.import_files, "import")
        act(file_menu, "add", "&Add measurement…", "Ctrl+N", self.add_measurement, "add")
        act(file_menu, "add_vital", "Add &vital sign…", "Ctrl+Shift+V", self.add_vital, "add")
        act(
            file_menu,
            "summary",
            "Visit &summary PDF…",
            "Ctrl+Shift+S",
            self.visit_summary,
            "summary",
        )
        act(file_menu, "profile", "New &profile…", None, self.add_profile, "profile")
        act(file_menu, "edit_profile", "&Edit profile…", None, self.edit_profile, "edit")
        act(file_menu, "delete_profile", "&Delete profile…", None, self.delete_profile, "delete")
        act(file_menu, "import_fhir", "Import &FHIR file…", None, self.import_fhir, "import")
        file_menu.addSeparator()
        act(file_menu, "share", "S&hare with a clinician…", "Ctrl+Shift+E", self.share, "share")
        plain = file_menu.addMenu(theme.icon("export"), "Export &unencrypted")
        act(plain, "export_fhir", "Plain FHIR JSON…", None, lambda: self.export_plain("fhir"))
        act(plain, "export_csv", "Plain CSV…", None, lambda: self.export_plain("csv"))
        self.clinician_actions = [
            act(
                file_menu,
                "import_bundle",
                "Import &bundle…",
                "Ctrl+B",
                self.import_bundle,
                "import",
            ),
            act(file_menu, "my_key", "My public &key…", None, self.show_my_key, "key"),
        ]
        file_menu.addSeparator()
        act(file_menu, "sync_now", "S&ync now", "F5", self.sync_now, "sync")
        file_menu.addSeparator()
        act(file_menu, "lock", "&Lock", "Ctrl+L", lambda: self.lock("user"), "lock")
        act(file_menu, "quit", "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit_menu = bar.addMenu("&Edit")
        undo = self.session.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.session.undo.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.named_actions["undo"], self.named_actions["redo"] = undo, redo
        edit_menu.addSeparator()
        act(edit_menu, "find", "&Find results…", QKeySequence.StandardKey.Find, self.find_results)
        act(edit_menu, "switch_profile", "Switch &profile", "Ctrl+P", self._focus_profiles)
        view_menu = bar.addMenu("&View")
        for i in self._nav_order:
            spec = VIEWS[i]
            shortcut = f"Ctrl+{(i + 1) % 10}" if i < 10 else None
            act(
                view_menu,
                f"view:{spec.title}",
                spec.title.replace("&", "&&"),  # a lone & would be taken as a mnemonic
                shortcut,
                lambda _=False, i=i: self.show_view(i),
                spec.icon,
            )
        help_menu = bar.addMenu("&Help")
        act(help_menu, "shortcuts", "&Keyboard shortcuts", "F1", self.show_shortcuts)
        act(help_menu, "about", "&About ohvault", None, self.show_about)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.unlock_label = QLabel("")
        self.unlock_label.setObjectName("muted")
        status.addPermanentWidget(self.unlock_label)
        self.job_label = QLabel("")
        self.job_bar = QProgressBar()
        self.job_bar.setFixedWidth(160)
        self.job_bar.setFixedHeight(12)
        self.job_bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setAccessibleName("Cancel the running task")
        self.cancel_button.clicked.connect(self._cancel_job)
        for w in (self.job_label, self.job_bar, self.cancel_button):
            status.addWidget(w)
            w.setVisible(False)
        self._job: Job | None = None
        self.session.executor.job_started.connect(self._job_started)
        self.sync_indicator = SyncIndicator(self.session.sync)
        self.sync_indicator.clicked.connect(lambda: self.show_view("Settings"))
        status.addPermanentWidget(self.sync_indicator)
        self.session.sync.status_changed.connect(lambda _s: self._apply_mode())
        self.session.sync.lane.job_started.connect(self._job_started)

    def retheme(self) -> None:
        """Icons are tinted for the theme: redo them after a theme change."""
        for row, i in enumerate(self._nav_order):
            self.nav.item(row).setIcon(theme.icon(VIEWS[i].icon))
        retint_buttons(self)
        if self.session.is_unlocked:
            self._fill_profiles()
        for view in self.views:
            view.mark_stale()

    # --- jobs in the status bar ---------------------------------------------------------------

    def _job_started(self, job: Job) -> None:
        job.progressed.connect(
            lambda done, total, text, job=job: self._job_progress(job, done, total, text)
        )
        job.done.connect(lambda job=job: self._job_done(job))

    def _job_progress(self, job: Job, done: int, total: int, text: str) -> None:
        self._job = job
        self.job_label.setText(text or job.label)
        self.job_bar.setRange(0, max(total, 0))
        self.job_bar.setValue(done)
        for w in (self.job_label, self.job_bar, self.cancel_button):
            w.setVisible(True)

    def _job_done(self, job: Job) -> None:
        if self._job is job:
            self._job = None
            for w in (self.job_label, self.job_bar, self.cancel_button):
                w.setVisible(False)

    def _cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()

    # --- navigation ----------------------------------------------------------------------------

    @property
    def views(self) -> list[View]:
        """The screens built so far, in sidebar order."""
        return [self._built[i] for i in sorted(self._built)]

    def _view_index(self, title: str) -> int:
        return next((i for i, spec in enumerate(VIEWS) if spec.title == title), 0)

    def view_at(self, index: int) -> View:
        view = self._built.get(index)
        if view is None:
            view = VIEWS[index].build(self.session)
            self._built[index] = view
            placeholder = self.content.widget(index)
            self.content.insertWidget(index, view)
            if placeholder is not None:
                self.content.removeWidget(placeholder)
                placeholder.deleteLater()
        return view

    def view(self, title: str) -> View:
        return self.view_at(self._view_index(title))

    def show_view(self, index: int | str) -> None:
        if isinstance(index, str):
            index = self._view_index(index)
        if not 0 <= index < len(VIEWS):
            return
        self._current_view = index
        if not self.session.is_unlocked:
            return
        for i, view in self._built.items():
            if i != index:
                view.deactivate()
        current = self.view_at(index)
        self.content.setCurrentWidget(current)
        row = self._nav_order.index(index)
        if self.nav.currentRow() != row:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        current.activate()
        self.qsettings.setValue("window/view", VIEWS[index].title)

    @property
    def current_view(self) -> View:
        return self.view_at(self._current_view)

    def view_available(self, index: int) -> bool:
        mode = VIEWS[index].mode
        if mode == "clinician":
            return self.session.is_clinician
        if mode == "sync":
            return self.session.sync_enabled
        return True

    def _apply_mode(self) -> None:
        """Clinician vaults list patients instead of switching personal profiles."""
        clinician = self.session.is_clinician
        for row, i in enumerate(self._nav_order):
            self.nav.setRowHidden(row, not self.view_available(i))
            self.named_actions[f"view:{VIEWS[i].title}"].setVisible(self.view_available(i))
        self.profile_box.setVisible(not clinician)
        self.patient_label.setVisible(clinician)
        profile = self.session.profile
        self.patient_label.setText(
            f"Viewing: {profile.name}" if clinician and profile else "No patient chosen"
        )
        for action in self.clinician_actions:
            action.setVisible(clinician)
        for key in ("profile", "edit_profile", "delete_profile"):
            self.named_actions[key].setVisible(not clinician)
        if self.session.is_unlocked and not self.view_available(self._current_view):
            self.show_view("Dashboard")

    # --- profiles ------------------------------------------------------------------------------

    def _fill_profiles(self) -> None:
        box = self.profile_box
        box.blockSignals(True)
        box.clear()
        for p in self.session.profiles:
            box.addItem(theme.icon("profile"), p.name, p.id)
        box.insertSeparator(box.count())
        box.addItem(theme.icon("add"), "Add profile…", ADD_PROFILE)
        if self.session.profile_id is not None:
            box.addItem(theme.icon("edit"), "Edit this profile…", EDIT_PROFILE)
        idx = box.findData(self.session.profile_id)
        box.setCurrentIndex(max(idx, 0))
        box.blockSignals(False)

    def _profile_chosen(self, index: int) -> None:
        data = self.profile_box.itemData(index)
        if data == ADD_PROFILE:
            self._fill_profiles()
            self.add_profile()
        elif data == EDIT_PROFILE:
            self._fill_profiles()
            self.edit_profile()
        elif data:
            self.switch_profile(str(data))

    def switch_profile(self, profile_id: str) -> None:
        self.session.set_profile(profile_id)

    def _profile_changed(self) -> None:
        for view in self.views:
            view.clear()
        self._fill_profiles()
        self._apply_mode()
        if self.session.is_unlocked:
            self.current_view.activate()

    def add_profile(self) -> None:
        name, ok = QInputDialog.getText(
            self, "New profile", "Whose records will this profile hold?"
        )
        if ok and name.strip():
            self.session.add_profile(name)

    def edit_profile(self) -> ProfileDialog | None:
        from ohvault.gui.profiles import ProfileDialog

        profile = self.session.profile
        if not self.session.is_unlocked or profile is None:
            return None
        dialog = ProfileDialog(self, self.session, profile)
        dialog.open()
        return dialog

    def delete_profile(self) -> DeleteProfileDialog | None:
        from ohvault.gui.profiles import DeleteProfileDialog

        profile = self.session.profile
        if not self.session.is_unlocked or profile is None:
            return None
        dialog = DeleteProfileDialog(self, self.session, profile)
        dialog.open()
        return dialog

    def _focus_profiles(self) -> None:
        self.profile_box.setFocus()
        self.profile_box.showPopup()

    # --- actions ------------------------------------------------------------------------------

    def import_files(self) -> None:
        if self.session.is_unlocked:
            self.show_view("Import")
            self.view("Import").pick_files()  # type: ignore[attr-defined]

    def add_measurement(self) -> None:
        if self.session.is_unlocked:
            self.show_view("Results")
            self.view("Results").add_measurement()  # type: ignore[attr-defined]

    def add_vital(self, kind: str = "weight") -> Any:
        """Quick entry of a vital sign; stored by the core (`vitals.add_vital`) on the worker."""
        if not self.session.is_unlocked or self.session.profile_id is None:
            return None
        from ohvault.gui.vitals_dialog import VitalsDialog

        pid = self.session.profile_id
        dialog = VitalsDialog(self, pid, kind)

        def save() -> None:
            entry = dialog.entry
            if entry is None:
                return

            def op(ctx: Any) -> Any:
                from ohvault import vitals

                return ctx.apply(
                    vitals.add_vital, ctx.vault, pid, entry.kind, value=entry.value,
                    systolic=entry.systolic, diastolic=entry.diastolic, unit=entry.unit,
                    when=entry.when.astimezone(), note=entry.note,
                )  # fmt: skip

            def done(stored: Any) -> None:
                from ohvault.vitals import format_vital

                self.session.notify.emit(
                    "Saved " + "; ".join(f"{o.analyte} {format_vital(o)}" for o in stored) + "."
                )

            self.session.executor.run(op, success=done, label="Saving the vital sign")

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    def show_trend(self, key: str) -> None:
        """Trends with just this analyte charted (a dashboard tile was opened)."""
        if self.session.is_unlocked:
            self.view("Trends").open_analyte(key)  # type: ignore[attr-defined]
            self.show_view("Trends")

    def find_results(self) -> None:
        if self.session.is_unlocked:
            self.show_view("Results")
            self.view("Results").focus_search()  # type: ignore[attr-defined]

    def visit_summary(self) -> None:
        if self.session.is_unlocked:
            self.show_view("Trends")
            self.view("Trends").visit_summary_dialog()  # type: ignore[attr-defined]

    def share(self) -> ShareWizard | None:
        if not self.session.is_unlocked:
            return None
        from ohvault.gui.share import ShareWizard

        wizard = ShareWizard(self, self.session)
        wizard.open()
        return wizard

    def export_plain(self, fmt: str, path: Path | None = None) -> Job | None:
        if not self.session.is_unlocked:
            return None
        from ohvault.gui.share import export_plain

        return export_plain(self, self.session, fmt, path)

    def import_fhir(self) -> None:
        if self.session.is_unlocked:
            self.show_view("Import")
            self.view("Import").pick_fhir()  # type: ignore[attr-defined]

    def import_bundle(self, paths: list[Path] | None = None) -> None:
        if not self.session.is_unlocked or not self.session.is_clinician:
            return
        self.show_view("Patients")
        view = self.view("Patients")
        if paths:
            view.import_files(paths)  # type: ignore[attr-defined]
        else:
            view.pick_bundle()  # type: ignore[attr-defined]

    def show_my_key(self) -> None:
        if self.session.is_unlocked:
            from ohvault.gui.bundle_import import show_my_key

            show_my_key(self, self.session)

    def sync_now(self) -> Job | None:
        return self.session.sync.sync_now(manual=True)

    @staticmethod
    def _dropped(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        return [f for f in files if f.suffix.lower() in DROPPABLE]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.session.is_unlocked and self._dropped(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._dropped(event)
        if not files or not self.session.is_unlocked:
            return
        event.acceptProposedAction()
        bundles = [f for f in files if f.suffix.lower() == BUNDLE_SUFFIX]
        if bundles and self.session.is_clinician:
            self.import_bundle(bundles)
        elif bundles:
            self.session.bridge.warn(
                "Not a clinician vault",
                "Bundles are imported by clinicians. To see your own records elsewhere, use sync.",
            )
        pdfs = [f for f in files if f.suffix.lower() == ".pdf"]
        images = [f for f in files if f.suffix.lower() in IMAGES]
        on_documents = self.current_view.title == "Documents"
        if images or (pdfs and on_documents):
            # Images are always documents; PDFs dropped on Documents are letters and such.
            self.show_view("Documents")
            documents = self.view("Documents")
            attach = images + (pdfs if on_documents else [])
            for f in attach:
                documents.attach(f, f.stem, "other", None)  # type: ignore[attr-defined]
            pdfs = [f for f in pdfs if f not in attach]
        fhir = [f for f in files if f.suffix.lower() == ".json"]
        if pdfs or fhir:
            self.show_view("Import")
            view = self.view("Import")
            if pdfs:
                view.add_files(pdfs)  # type: ignore[attr-defined]
            for f in fhir:
                view.add_fhir(f)  # type: ignore[attr-defined]

    # --- locking --------------------------------------------------------------------------------

    def lock(self, reason: str = "user") -> None:
        self.session.lock(reason)

    def _system_lock(self, reason: str) -> None:
        if self.session.setting("lock_on_sleep") == "1":
            self.lock(reason)

    def _after_lock(self, reason: str) -> None:
        self.idle.stop()
        for view in self.views:
            view.deactivate()
            view.clear()
        self.profile_box.clear()
        self.unlock_label.setText("")
        for w in self.findChildren(QWidget):
            # Dialogs opened from a view may show PHI too.
            if w.isWindow() and w is not self and w.isVisible():
                w.close()
        note = {
            "idle": "Locked after a period of inactivity.",
            "sleep": "Locked because the computer went to sleep.",
            "screen": "Locked because the screen was locked.",
            "restore": "Restoring the backup…",
            "restore-failed": "The backup was not restored; your vault is unchanged.",
        }.get(reason, "Locked.")
        self.pages.setCurrentWidget(self.unlock_page)
        if reason == "restore":  # the app reopens by itself once the backup is in place
            self.unlock_page.working(note)
        else:
            self.unlock_page.reset(note)

    # --- help ----------------------------------------------------------------------------------

    def shortcut_list(self) -> list[tuple[str, str]]:
        out = []
        for action in self.named_actions.values():
            seq = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if seq:
                out.append((action.text().replace("&", "").rstrip("…"), seq))
        return out

    def show_shortcuts(self) -> None:
        from ohvault.gui.about import ShortcutsDialog

        ShortcutsDialog(self, self.shortcut_list()).open()

    def show_about(self) -> None:
        from ohvault.gui.about import AboutDialog

        AboutDialog(self).open()

    # --- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.sync()
        self.idle.stop()
        self.session.shutdown()
        self.session.sync.lane.wait_for_done()
        super().closeEvent(event)


__all__ = ["MainWindow", "__version__"]
