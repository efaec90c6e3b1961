"""QSettings for window geometry, last view and theme: never PHI, never per-profile data."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from ohvault.device import _config_dir


def gui_settings(path: Path | None = None) -> QSettings:
    """An INI file in ohvault's config dir (OHVAULT_CONFIG_DIR in tests)."""
    target = path or (_config_dir() / "gui.ini")
    target.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(target), QSettings.Format.IniFormat)
