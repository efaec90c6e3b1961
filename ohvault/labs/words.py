"""The word lists of the lab report parser, loaded from ``resources/labs/words.json``.

They are data (shipped as package data, found through :func:`ohvault.paths.resources_dir` like
the catalog), normalised as :func:`ohvault.labs.catalog.normalise_name` does. What each list is
for is said in the file's ``_comment`` and beside each name below.
"""

from __future__ import annotations

import json
from typing import Any

from ohvault import paths


def _load() -> dict[str, Any]:
    path = paths.resources_dir() / "labs" / "words.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


_WORDS = _load()

# Labels of report fields by kind ("collected", "dob", "name", "sex", ...).
META_LABELS: dict[str, list[str]] = _WORDS["meta_labels"]
# A label as a word tuple -> its kind; the first kind listed wins.
LABEL_INDEX: dict[tuple[str, ...], str] = {}
for _kind, _labels in META_LABELS.items():
    for _label in _labels:
        LABEL_INDEX.setdefault(tuple(_label.split()), _kind)
MAX_LABEL = max(len(k) for k in LABEL_INDEX)
# A patient's sex as printed ("Male", "Férfi", "W") -> "M" or "F".
SEX_WORDS: dict[str, str] = _WORDS["sex_words"]
# Words of prose and comments, which a test name does not contain; words that name reference
# categories ("Optimal", "Deficiency", "Moderately increased", "Male Reference Range"): a name
# made only of them is not a test.
PROSE_WORDS = frozenset(_WORDS["prose_words"])
CATEGORY_WORDS = frozenset(_WORDS["category_words"])
# Words that make a line a laboratory's name, and headings that are never one.
ORGANISATION_WORDS = frozenset(_WORDS["organisation_words"])
REPORT_HEADINGS = frozenset(_WORDS["report_headings"])
# Method abbreviations printed after a test name ("TESTOSTERONE, TOTAL, MS").
METHOD_WORDS = frozenset(_WORDS["method_words"])
# Specimen and quantity words that may follow a test name without changing the test.
SPECIMEN_WORDS = frozenset(_WORDS["specimen_words"])
# Status labels printed before a value on dashboard prints, under the test's name.
STATUS_LABELS = frozenset(_WORDS["status_labels"])
