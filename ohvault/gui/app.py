"""Entry point of the desktop app (`ohvault` with no arguments, `make run`)."""

from __future__ import annotations

import sys
from pathlib import Path


def load_qt() -> None:
    """Import the Qt modules the app is built from; no display or platform plugin is touched.

    The launcher does this while it checks for Qt's X11 libraries (cli/main.py): the
    platform plugin that needs them loads only when the application object is created.
    """
    import PySide6.QtGui
    import PySide6.QtWidgets  # noqa: F401


def create_app(argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from ohvault.gui import theme
    from ohvault.gui.settings_store import gui_settings

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("ohvault")
    app.setApplicationDisplayName("ohvault")
    app.setDesktopFileName("ohvault")
    app.setWindowIcon(theme.icon("ohvault", "#1f8a7d"))
    mode = str(gui_settings().value("theme", "system"))
    theme.apply(app, mode)  # type: ignore[arg-type]

    def follow_system(_scheme: object) -> None:
        if str(gui_settings().value("theme", "system")) == "system":
            theme.apply(app, "system")  # type: ignore[arg-type]

    QGuiApplication.styleHints().colorSchemeChanged.connect(follow_system)
    return app


def main(home: Path | None = None) -> int:
    from ohvault.keys.process import disable_core_dumps

    disable_core_dumps()  # also when started without the CLI (python -m ohvault.gui.app)
    app = create_app()
    from ohvault.gui.mainwindow import MainWindow

    window = MainWindow(home=home)
    window.show()
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
