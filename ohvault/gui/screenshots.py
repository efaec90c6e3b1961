"""`make screenshots`: render each main screen with a synthetic profile to PNG files.

Runs offscreen against a throwaway vault in a temporary directory, unlocked by
passphrase only (the OS keychain is left alone), then deletes it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSPHRASE = "screenshot vault passphrase"  # noqa: S105 - a throwaway vault's

# The committed screenshots show dates (demo results, report dates, the audit log): with
# the clock pinned, `make screenshots` gives the same pictures on any day.
PINNED_AT = (2026, 11, 2, 9, 30)  # a Monday morning, UTC
SCREENSHOT_DEVICE = "5c2e0f4a-0000-4000-8000-000000000001"
# A public key whose private half was thrown away: the share pictures stay the same.
SHARE_RECIPIENT = "age1gu09d5m6fl5vcz2uxxav93jjgjqx84l4umwx6w7ztl7zvuj2wvjs27mhfv"


def pin_clock(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> None:
    """Make ohvault's `date.today()` and `datetime.now()` return a fixed moment.

    Every ohvault module is imported first, then the `date` and `datetime` names in
    them are swapped for subclasses whose `today()`/`now()` are pinned; the datetime
    module itself is left alone (Qt's bindings check for its exact types). Values are
    always real dates and datetimes, and `isinstance` accepts them. Each `now()`
    advances the clock by a millisecond, so order holds and every run sees the same times.
    """
    import datetime as dt
    import importlib
    import pkgutil

    import ohvault

    for info in pkgutil.walk_packages(ohvault.__path__, "ohvault."):
        if info.name == __name__ or ".server" in info.name:
            continue  # this module; the server needs its own extras
        try:
            importlib.import_module(info.name)
        except ImportError:
            continue  # an optional part this install lacks

    real_date, real_datetime = dt.date, dt.datetime
    start = real_datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
    ticks = [0]

    def _now() -> dt.datetime:
        ticks[0] += 1
        return start + dt.timedelta(milliseconds=ticks[0])

    class _DateMeta(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, real_date)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, real_date)

    class _DatetimeMeta(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, real_datetime)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, real_datetime)

    class PinnedDate(real_date, metaclass=_DateMeta):  # type: ignore[misc, valid-type]
        def __new__(cls, *args: Any, **kwargs: Any) -> dt.date:  # type: ignore[misc]
            return real_date(*args, **kwargs)

        @classmethod
        def today(cls) -> dt.date:
            return _now().date()

    class PinnedDatetime(real_datetime, metaclass=_DatetimeMeta):  # type: ignore[misc, valid-type]
        def __new__(cls, *args: Any, **kwargs: Any) -> dt.datetime:  # type: ignore[misc]
            return real_datetime(*args, **kwargs)

        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
            moment = _now()
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

        @classmethod
        def today(cls) -> dt.datetime:
            return cls.now()

    for name, module in list(sys.modules.items()):
        if not name.startswith("ohvault"):
            continue
        if getattr(module, "date", None) is real_date:
            module.date = PinnedDate  # type: ignore[attr-defined]
        if getattr(module, "datetime", None) is real_datetime:
            module.datetime = PinnedDatetime  # type: ignore[attr-defined]


def _pump(app, seconds: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def _settle(app, window, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _pump(app, 0.05)
        if not window.session.executor.busy:
            _pump(app, 0.15)
            if not window.session.executor.busy:
                return
    raise TimeoutError("the worker did not finish")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    os.environ["TZ"] = "UTC"  # times are shown in local time: the same everywhere
    time.tzset()
    pin_clock(*PINNED_AT)
    out = Path(args[0] if args else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    # A fixed folder and device id: both show in the pictures (backup folder, audit log).
    tmp = Path(tempfile.gettempdir()) / "ohvault-screenshots"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "config").mkdir(parents=True)
    (tmp / "config" / "device-id").write_text(SCREENSHOT_DEVICE + "\n")
    os.environ["OHVAULT_CONFIG_DIR"] = str(tmp / "config")
    os.environ["OHVAULT_LOG_DIR"] = str(tmp / "logs")
    try:
        return _render(out, tmp / "vault")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _render(out: Path, home: Path) -> int:
    from PySide6.QtWidgets import QScrollArea

    from ohvault.gui.app import create_app

    app = create_app([sys.argv[0]])
    from ohvault import demo
    from ohvault.changes import Change
    from ohvault.gui import theme
    from ohvault.gui.mainwindow import MainWindow
    from ohvault.keys.keychain import Keychain, KeychainStatus
    from ohvault.vault import Vault

    class NoKeychain(Keychain):
        """Keeps the throwaway vault out of the user's real keychain."""

        def status(self) -> KeychainStatus:
            return KeychainStatus(False, "none", "screenshots do not use the keychain")

    app.setCursorFlashTime(0)  # a blinking text cursor would differ from run to run
    font = app.font()
    font.setFamily("DejaVu Sans")
    app.setFont(font)
    window = MainWindow(home=home, keychain=NoKeychain(), interactive=False)
    window.resize(1220, 780)  # the default window size
    window.show()
    shots: list[str] = []

    def shot(name: str) -> None:
        _settle(app, window)
        _pump(app, 0.3)
        window.grab().save(str(out / f"{name}.png"))
        shots.append(name)

    def shot_widget(name: str, widget, owner=None) -> None:  # type: ignore[no-untyped-def]
        _settle(app, owner or window)
        _pump(app, 0.3)
        widget.grab().save(str(out / f"{name}.png"))
        shots.append(name)

    wizard = window.wizard
    assert wizard is not None
    wizard.name.setText("Alex Example")
    wizard._to_passphrase()
    wizard.pass1.setText(PASSPHRASE)
    wizard.pass2.setText(PASSPHRASE)
    shot("01-first-run")
    wizard.create_vault(PASSPHRASE)
    _settle(app, window)
    shot("02-recovery-key")
    wizard.stored.setChecked(True)
    wizard.finish()
    _settle(app, window)

    def populate(ctx):  # type: ignore[no-untyped-def]
        from datetime import timedelta

        from ohvault.model import Note

        pid = str(window.session.profile_id)
        count = demo.populate(ctx.vault, pid)
        for days_ago, text in (
            (3, "Ask about the LDL result and whether to keep the statin dose."),
            (40, "Knee sore after running; better after two days of rest."),
        ):
            noted = demo.date.today() - timedelta(days=days_ago)  # type: ignore[attr-defined]  # pinned
            ctx.vault.repo.add(Note(profile_id=pid, text=text, noted=noted))
        return count

    window.session.executor.run(
        populate,
        writes={Change.OBSERVATION, Change.DOCUMENT, Change.MEDICATION, Change.NOTE},
    )
    _settle(app, window)
    from ohvault.gui.views import VIEWS

    for i in range(len(VIEWS)):
        if not window.view_available(i):
            continue  # clinician and sync screens are shown further down
        window.show_view(i)
        view = window.view_at(i)
        _settle(app, window)
        if view.title == "Trends":
            view.select("Cholesterol in LDL", "LDL cholesterol", "Hemoglobin A1c", "Glucose")  # type: ignore[attr-defined]
        if view.title == "Documents":
            view.table.selectRow(0)  # type: ignore[attr-defined]
        if view.title == "Import":
            _import_review(app, window, view, home)
        slug = view.title.lower().replace(" & ", "-").replace(" ", "-")
        # Screens added after the numbered set get numbers after the dark-theme pictures (20-22).
        shot(f"{i + 3:02d}-{slug}" if i < 10 else f"{i + 13:02d}-{slug}")
    settings = window.view("Settings")
    window.show_view("Settings")
    settings.findChild(QScrollArea).ensureWidgetVisible(settings.sync_panel, 0, 0)  # type: ignore[union-attr, attr-defined]
    shot("13-settings-keys-sync")
    _share_shots(app, window, shot_widget)
    _clinician_shots(app, window, home, shot_widget)
    theme.apply(app, "dark")
    window.show_view("Dashboard")
    window.view("Dashboard").mark_stale()
    shot("20-dashboard-dark")
    window.view("Trends").mark_stale()
    window.show_view("Trends")
    shot("21-trends-dark")
    window.show_view("Import")  # still reviewing the report with unmapped tests
    shot("22-import-dark")
    theme.apply(app, "light")
    window.lock("user")
    _settle(app, window)
    shot("00-unlock")
    window.close()
    Vault.destroy(home, keychain=NoKeychain(), with_backups=True)
    print("\n".join(str(out / f"{s}.png") for s in sorted(shots)))
    return 0


# Tests a real report carries that the catalog does not know: the parser returns them
# unmapped (name None) and the review lists them in their own group with "Map to...".
UNMAPPED_ROWS = [
    ("Zonulin", "38.5", "ng/mL", "< 48.0"),
    ("Soluble ST2 (sST2)", "22.4", "ng/mL", "< 35.0"),
]


def _import_review(app, window, view, home: Path) -> None:  # type: ignore[no-untyped-def]
    """A report with unmapped tests under review, parsed as the app parses any file."""
    from datetime import date

    from ohvault import demo

    when = date.today()
    rows = [
        (n, f"{start:g}", unit, f"{lo:g} - {hi:g}")
        for n, unit, lo, hi, start, _, _ in demo.ANALYTES
    ]
    content = demo._report_pdf("Annual check-up panel", when, rows[:12] + UNMAPPED_ROWS)
    tmp_pdf = home.parent / "lab-report.pdf"
    tmp_pdf.write_bytes(content)
    view.add_files([tmp_pdf])
    _settle(app, window)


def _share_shots(app, window, shot_widget) -> None:  # type: ignore[no-untyped-def]
    """The share wizard's recipient and summary pages (a throwaway age key as recipient)."""

    wizard = window.share()
    wizard.next()
    wizard.keys.setPlainText(SHARE_RECIPIENT)
    shot_widget("14-share-recipients", wizard)
    wizard.next()
    _settle(app, window)
    shot_widget("15-share-summary", wizard)
    wizard.reject()


def _clinician_shots(app, window, home: Path, shot_widget) -> None:  # type: ignore[no-untyped-def]
    """A clinician vault next to the patient's: patients list, my key, read-only results."""
    from ohvault.bundles.export import plan_export, write_bundle
    from ohvault.gui.bundle_import import MyKeyDialog
    from ohvault.gui.mainwindow import MainWindow
    from ohvault.vault import Vault

    keychain = window.session.keychain
    clinic_home = home.parent / "clinic"
    clinic, _ = Vault.create(
        clinic_home, passphrase=PASSPHRASE, kind="clinician", keychain=keychain
    )
    clinic.lock()
    doctor = MainWindow(home=clinic_home, keychain=keychain, interactive=False)
    doctor.resize(1220, 780)  # the default window size
    doctor.show()
    doctor.unlock_page.secret.setText(PASSPHRASE)
    doctor.unlock_page.submit()
    _settle(app, doctor)
    doctor.show_my_key()
    _settle(app, doctor)
    dialog = doctor.findChildren(MyKeyDialog)[-1]
    key = dialog.key_text.text()
    shot_widget("16-clinician-my-key", dialog, doctor)
    dialog.accept()
    bundle = home.parent / "alex.ohvbundle"
    pid = str(window.session.profile_id)
    window.session.executor.run(
        lambda ctx: write_bundle(ctx.vault, plan_export(ctx.vault, pid), bundle, recipients=[key])
    )
    _settle(app, window)
    doctor.session.bridge.answer = lambda title, text: True
    doctor.import_bundle([bundle])
    _settle(app, doctor)
    patients = doctor.view("Patients")
    doctor.show_view("Patients")
    _settle(app, doctor)
    patients.table.selectRow(0)  # type: ignore[attr-defined]
    shot_widget("17-clinician-patients", doctor, doctor)
    patients.open_selected()  # type: ignore[attr-defined]
    _settle(app, doctor)
    results = doctor.view("Results")
    results.table.selectRow(0)  # type: ignore[attr-defined]
    shot_widget("18-clinician-read-only-results", doctor, doctor)
    doctor.close()
    Vault.destroy(clinic_home, keychain=keychain, with_backups=True)


if __name__ == "__main__":
    raise SystemExit(main())
