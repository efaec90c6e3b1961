"""A vault's defaults and limits, in a module light enough for the first window.

The GUI shows them before any vault is open (the first-run wizard, the settings defaults);
importing them must not load SQLCipher or the key code, as `lifecycle.py` and `backup.py` do.
"""

from __future__ import annotations

DEFAULT_INTERVAL_HOURS = 24  # hours between automatic backups
DEFAULT_KEEP = 30  # automatic backups kept
MIN_PASSPHRASE_LENGTH = 8
