"""A user's whole session in the desktop app, run as a separate process by test_phi_canary.py.

    python -m tests.hardening.gui_canary_flow VAULT_HOME SETTINGS_FILE EXPORT_DIR PDF

Creates a vault through the wizard, imports a lab PDF (review, confirm), adds a note,
charts a biomarker, views the stored PDF, exports a chart and a visit summary (to
EXPORT_DIR, the one place the user chose to write plaintext), copies the recovery key,
locks and quits. The canary strings are the profile name, the note and the PDF's values.
It runs in its own process so that the caller can point every cache and temp dir
(XDG_CACHE_HOME, MPLCONFIGDIR, TMPDIR, ...) at directories it then scans.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CANARY_NAME = "Quillon Zebrowskaya"
CANARY_NOTE = "canary-note-Xq7v Zebrowskaya takes moonflower tea"
CANARY_VALUE = "487.913"  # the glucose value on the report
ROWS = [
    ("Glucose", CANARY_VALUE, "mg/dL", "70 - 99"),
    ("Hemoglobin", "13.77", "g/dL", "12.0 - 15.5"),
    ("Sodium", "141.3", "mmol/L", "135 - 145"),
]


class Bot:
    """The one pytest-qt call the GUI test helpers use, without pytest."""

    def waitUntil(self, check: Callable[[], Any], timeout: int = 5000) -> None:
        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout / 1000
        while time.monotonic() < deadline:
            QCoreApplication.processEvents()
            try:
                if check() is not False:
                    return
            except AssertionError:
                pass
            time.sleep(0.01)
        raise TimeoutError("the GUI did not get there in time")


def main(home: str, settings_file: str, export_dir: str, pdf: str) -> int:
    from PySide6.QtCore import QSettings

    from ohvault.gui import theme
    from ohvault.gui.app import create_app
    from ohvault.gui.mainwindow import MainWindow
    from ohvault.keys.keychain import Keychain
    from ohvault.keys.wrap import KdfParams
    from ohvault.logs import setup_logging
    from ohvault.model import Note
    from tests.gui.conftest import create_through_wizard, run_op, wait_idle

    setup_logging()  # as `ohvault` does before it opens the app: the log file is scanned too
    bot = Bot()
    app = create_app()
    theme.apply(app, "light")
    settings = QSettings(settings_file, QSettings.Format.IniFormat)
    window = MainWindow(
        home=Path(home),
        kdf=KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1),  # test-only KDF
        keychain=Keychain(),
        interactive=False,
        settings=settings,
    )
    window.resize(1200, 760)
    window.show()
    create_through_wizard(bot, window, name=CANARY_NAME)
    window.session.bridge.answer = lambda _title, _text: True  # "yes" to every question

    # Import a lab report: parse, review beside the page, confirm.
    importer: Any = window.view("Import")
    window.show_view("Import")
    importer.add_files([Path(pdf)])
    bot.waitUntil(lambda: importer.stack.currentWidget() is importer.review, timeout=30_000)
    wait_idle(bot, window)
    importer.commit()
    bot.waitUntil(lambda: importer.stack.currentWidget() is importer.idle, timeout=30_000)
    wait_idle(bot, window)
    pid = window.session.profile_id
    assert pid is not None
    run_op(
        bot,
        window,
        lambda ctx: ctx.vault.repo.add(Note(profile_id=pid, text=CANARY_NOTE)),
        ("note",),
    )
    stored = run_op(bot, window, lambda ctx: ctx.vault.repo.observations(pid))
    assert any(o.value_num == float(CANARY_VALUE) for o in stored), "the import stored nothing"

    # Dashboard, results, the stored PDF viewed from memory, a chart.
    for name in ("Dashboard", "Results", "Documents"):
        window.show_view(name)
        wait_idle(bot, window)
    documents: Any = window.view("Documents")
    documents.table.selectRow(0)
    wait_idle(bot, window)
    window.show_view("Trends")
    wait_idle(bot, window)
    trends: Any = window.view("Trends")
    trends.select("Glucose")
    trends.canvas.draw()

    # Exports: the user picks where plaintext goes.
    out = Path(export_dir)
    trends.export_chart(out / "glucose.png")
    job = trends.visit_summary(out / "summary.pdf")
    bot.waitUntil(lambda: job.finished, timeout=60_000)
    wait_idle(bot, window)

    # Copy the recovery key, then lock: the clipboard is cleared, the vault closed.
    window.session.clipboard.copy("ABCD-EFGH")
    window.named_actions["lock"].trigger()
    wait_idle(bot, window)
    assert not window.session.is_unlocked
    window.close()
    window.session.executor.wait_for_done()
    settings.sync()
    print(
        json.dumps(
            {"settings": settings.fileName(), "exported": sorted(p.name for p in out.iterdir())}
        )
    )
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
