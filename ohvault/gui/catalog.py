"""The biomarker catalog for autocompletion and units, if the labs package is installed."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
_catalog: Any = None
_loaded = False


def catalog() -> Any | None:
    """The catalog (loaded once), or None when it cannot be loaded: typing then stays free-form."""
    global _catalog, _loaded
    if not _loaded:
        _loaded = True
        try:
            from ohvault.labs import load_catalog

            _catalog = load_catalog()
        except Exception as exc:  # a missing or broken catalog must not stop data entry
            log.warning("biomarker catalog unavailable (%s)", type(exc).__name__)
            _catalog = None
    return _catalog


def analyte_names() -> list[str]:
    cat = catalog()
    if cat is None:
        return []
    return sorted({a.preferred_name for a in cat.all()}, key=str.lower)


def find(name: str) -> Any | None:
    cat = catalog()
    if cat is None or not name.strip():
        return None
    return cat.by_loinc(name.strip()) or cat.match(name.strip())
