"""Where file dialogs open: the person's documents folder, never the app's working directory."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def default_dir() -> Path:
    """The documents folder if there is one, else the home folder."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if found and Path(found).is_dir():
        return Path(found)
    return Path.home()


def suggested(name: str = "") -> str:
    """A path for a file dialog: `name` inside the default folder (or the folder itself)."""
    return str(default_dir() / name) if name else str(default_dir())
