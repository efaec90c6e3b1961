"""How long until the first window is on screen, from a cold process start.

    python -m benchmarks.gui_startup [--runs 7] [--write-docs]

Each run starts a fresh interpreter (as `ohvault` does) that creates the app
and the main window for an existing vault, shows it and reports when the
unlock screen is exposed. The parent measures from just before spawning, so
interpreter start-up and imports count. The keychain unlock that follows runs
on the worker thread and is measured separately (it does not block the window).
Also reported: which heavy modules were loaded by then (matplotlib and
pdfplumber must not be).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

TITLE = "Desktop app start-up"
TARGET_S = 1.5
HEAVY = ("matplotlib", "pdfplumber", "pypdfium2", "fpdf", "fitz")

CHILD = textwrap.dedent(
    """
    import os, sys, time, json
    from pathlib import Path
    from ohvault.gui.app import create_app
    app = create_app()
    from ohvault.gui.mainwindow import MainWindow
    from ohvault.keys.keychain import Keychain, KeychainStatus

    class NoKeychain(Keychain):
        def status(self):
            return KeychainStatus(False, "none", "benchmark")

    w = MainWindow(home=Path(sys.argv[1]), keychain=NoKeychain(), interactive=False)
    w.show()
    while not (w.windowHandle() and w.windowHandle().isExposed()):
        app.processEvents()
    app.processEvents()
    shown = time.time()
    heavy = [m for m in {heavy!r} if m in sys.modules]
    page = type(w.pages.currentWidget()).__name__
    # Now the (failing, here) keychain attempt on the worker, as at a real start.
    while not w.unlock_page.secret.isVisible():
        app.processEvents()
    ready = time.time()
    print(json.dumps({{"shown": shown, "ready": ready, "heavy": heavy, "page": page}}))
    w.close()
    """
).format(heavy=HEAVY)


def _make_vault(home: Path) -> None:
    from ohvault.keys.keychain import Keychain, KeychainStatus
    from ohvault.vault import Vault

    class NoKeychain(Keychain):
        def status(self) -> KeychainStatus:
            return KeychainStatus(False, "none", "benchmark")

    vault, _ = Vault.create(
        home, passphrase="benchmark passphrase", profile_name="Bench", keychain=NoKeychain()
    )
    vault.lock()


def run(runs: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ohvault-bench-") as tmp:
        home = Path(tmp) / "vault"
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["OHVAULT_CONFIG_DIR"] = str(Path(tmp) / "config")
        env["OHVAULT_LOG_DIR"] = str(Path(tmp) / "logs")
        os.environ["OHVAULT_CONFIG_DIR"] = env["OHVAULT_CONFIG_DIR"]
        _make_vault(home)
        shown: list[float] = []
        ready: list[float] = []
        heavy: set[str] = set()
        page = ""
        for _ in range(runs + 1):  # the first run warms the OS file cache and is dropped
            start = time.time()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(home)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=True,
            )
            data = json.loads(out.stdout.strip().splitlines()[-1])
            shown.append(data["shown"] - start)
            ready.append(data["ready"] - start)
            heavy.update(data["heavy"])
            page = data["page"]
        shown, ready = shown[1:], ready[1:]
    return {
        "runs": runs,
        "cpus": os.cpu_count(),
        "window_shown_median_s": round(statistics.median(shown), 3),
        "window_shown_max_s": round(max(shown), 3),
        "unlock_form_ready_median_s": round(statistics.median(ready), 3),
        "target_s": TARGET_S,
        "median_meets_target": statistics.median(shown) < TARGET_S,
        "first_screen": page,
        "heavy_modules_loaded": sorted(heavy) or "none",
    }


def markdown(result: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in result.items())
    return (
        "Cold start of a fresh interpreter to the unlock screen being exposed (offscreen Qt "
        "platform), for an existing vault; median and worst of the runs after one warm-up.\n\n"
        "| measure | value |\n|---|---|\n" + rows + "\n"
    )


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("gui_startup", TITLE, markdown(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    result = run(args.runs)
    print(json.dumps(result, indent=2))
    if args.write_docs:
        write_docs(result)


if __name__ == "__main__":
    main()
