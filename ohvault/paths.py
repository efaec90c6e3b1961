"""Where ohvault keeps things on disk.

`OHVAULT_HOME` overrides the vault directory (tests, portable installs, several
vaults side by side); otherwise the platform data dir is used.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "ohvault"

DB_FILENAME = "vault.db"
HEADER_FILENAME = "vault.header.json"
BACKUP_DIRNAME = "backups"


def vault_home() -> Path:
    override = os.environ.get("OHVAULT_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    override = os.environ.get("OHVAULT_LOG_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    """The shipped data (catalog, icons, LOINC subset, the lab parser's words): the package
    `ohvault.resources`, which pyproject.toml maps to the top-level resources/ folder.
    importlib.resources finds it in an installed wheel and the PyInstaller app, from any
    directory.

    A source checkout uses its own resources/ folder: a second checkout of the code (a git
    worktree run with PYTHONPATH) must not read, or have its tools write, the data of the
    checkout an editable install points `ohvault.resources` at.
    """
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (
        checkout / "resources" / "__init__.py"
    ).is_file():
        return checkout / "resources"
    import importlib.resources

    try:
        return Path(str(importlib.resources.files("ohvault.resources")))
    except ModuleNotFoundError:
        return checkout / "resources"


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # e.g. a mounted filesystem that ignores modes
        path.chmod(0o700)
    return path
