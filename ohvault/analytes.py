"""The biomarker catalog as the front ends use it: loaded once, and one rule to find an analyte.

`lookup` is the rule (a LOINC code first, then the catalog's name matching) that the CLI, the
GUI, manual entry, trend charts and the demo data share. `find` and `analyte_names` tolerate a
catalog that cannot be loaded (typing then stays free-form and charts keep each value's own
unit); `manual_entry.find_analyte` uses the strict loader, so a broken install is reported there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ohvault.labs.catalog import Analyte, Catalog

log = logging.getLogger(__name__)
_catalog: Catalog | None = None
_loaded = False


def catalog() -> Catalog | None:
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


def lookup(cat: Catalog, name_or_loinc: str) -> Analyte | None:
    """The analyte a LOINC code or a name (any spelling the catalog knows) stands for."""
    text = name_or_loinc.strip()
    if not text:
        return None
    return cat.by_loinc(text) or cat.match(text)


def analyte_names() -> list[str]:
    cat = catalog()
    if cat is None:
        return []
    return sorted({a.preferred_name for a in cat.all()}, key=str.lower)


def find(name: str) -> Analyte | None:
    cat = catalog()
    return None if cat is None else lookup(cat, name)
