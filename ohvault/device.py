"""A random id for this installation, named in audit entries and sync changes."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import platformdirs

from ohvault.atomic import atomic_write_bytes


def _config_dir() -> Path:
    override = os.environ.get("OHVAULT_CONFIG_DIR")
    return (
        Path(override)
        if override
        else Path(platformdirs.user_config_dir("ohvault", appauthor=False))
    )


def device_id() -> str:
    path = _config_dir() / "device-id"
    with contextlib.suppress(OSError, ValueError):
        return str(uuid.UUID(path.read_text().strip()))
    new = str(uuid.uuid4())
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, new.encode() + b"\n")
    return new
