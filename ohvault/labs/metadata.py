"""Report metadata from the page text: labelled fields (dates, patient), the date order, the
patient's sex, and the laboratory's name.

Fields are found by their labels (``resources/labs/words.json``, ``meta_labels``), in any of the
languages listed there; the value follows the label on its line or sits below it (table style).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ohvault.labs.catalog import normalise_name
from ohvault.labs.layout import Line
from ohvault.labs.values import find_dates, numeric_date_evidence
from ohvault.labs.words import (
    LABEL_INDEX,
    MAX_LABEL,
    ORGANISATION_WORDS,
    REPORT_HEADINGS,
    SEX_WORDS,
)

_US_HINT = re.compile(r"\b(?:[A-Z]{2} \d{5}(?:-\d{4})?|Reference Interval|Out Of Range|In Range)\b")


@dataclass
class Label:
    """A field label found on a line: its kind and the words it spans."""

    kind: str
    start: int
    end: int  # exclusive word index
    colon: bool


@dataclass(frozen=True)
class ReportMeta:
    """The labelled fields of a report."""

    collected: date | None
    received: date | None
    reported: date | None
    dob: date | None
    name: str | None
    lab: str | None


@functools.lru_cache(maxsize=65536)
def _word_key(text: str) -> str:
    """normalise_name of one word; the same words recur on every page, so it is cached."""
    return normalise_name(text)


def find_labels(line: Line) -> list[Label]:
    """The field labels on a line; a label counts when a colon follows it, or for dates."""
    words = line.words
    keys = [_word_key(w.text) for w in words]
    out: list[Label] = []
    i = 0
    while i < len(words):
        found = None
        for length in range(min(MAX_LABEL, len(words) - i), 0, -1):
            parts: list[str] = []
            for k in keys[i : i + length]:
                parts.extend(k.split())
            if not parts:
                continue
            kind = LABEL_INDEX.get(tuple(parts))
            if kind is None:
                continue
            last = words[i + length - 1].text
            nxt = words[i + length].text if i + length < len(words) else ""
            colon = last.endswith(":") or nxt.startswith(":") or last.endswith(":-")
            found = Label(kind, i, i + length, colon)
            break
        if found is not None and (
            found.colon or found.kind in ("collected", "received", "reported", "dob")
        ):
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


def date_order(lines: list[Line], width: float, height: float) -> str:
    """``"DMY"`` or ``"MDY"``: how the report writes numeric dates, from page 1."""
    text = "\n".join(ln.text for ln in lines)
    dmy, mdy = numeric_date_evidence(text)
    if dmy != mdy:
        return "DMY" if dmy > mdy else "MDY"
    # US Letter paper (8.5 x 11 in) is itself a hint: the US prints month first.
    letter = abs(width - 612) < 3 and abs(height - 792) < 3
    return "MDY" if letter or _US_HINT.search(text) else "DMY"


def scan_sex(lines: list[Line]) -> str | None:
    """The patient's sex (``"M"``/``"F"``) from a labelled field near the top of page 1."""
    for ln in lines[:40]:
        for lab in find_labels(ln):
            if lab.kind != "sex":
                continue
            for w in ln.words[lab.end : lab.end + 6]:
                for tok in re.split(r"[/,;:\s]+", w.text):
                    s = SEX_WORDS.get(normalise_name(tok))
                    if s:
                        return s
    return None


def read_metadata(lines: list[Line], first_page_lines: list[Line], order: str | None) -> ReportMeta:
    """The labelled fields of the first pages' ``lines``; the lab from page 1's lines."""
    order = order or "DMY"
    found: dict[str, Any] = {}
    for li, ln in enumerate(lines):
        labels = find_labels(ln)
        for k, lab in enumerate(labels):
            if lab.kind in found:
                continue
            stop = labels[k + 1].start if k + 1 < len(labels) else len(ln.words)
            after = ln.words[lab.end : stop]
            after_text = " ".join(w.text for w in after).lstrip(":-– ").strip()
            if lab.kind in ("collected", "received", "reported", "dob"):
                dates = find_dates(after_text, order)
                if not dates:
                    # table style: label above, value below
                    below = _line_below(lines, li, ln.words[lab.start].x0, ln.words[lab.end - 1].x1)
                    dates = find_dates(below, order) if below else []
                if dates:
                    found[lab.kind] = dates[0][1]
            elif lab.kind == "name" and lab.colon:
                val = _gap_limited(after)
                val = val.lstrip(":-– ").strip()
                if val and any(ch.isalpha() for ch in val) and not find_dates(val, order):
                    found["name"] = val
    return ReportMeta(
        collected=found.get("collected"),
        received=found.get("received"),
        reported=found.get("reported"),
        dob=found.get("dob"),
        name=found.get("name"),
        lab=lab_name(first_page_lines, found.get("name")),
    )


def lab_name(first_page_lines: list[Line], patient: str | None) -> str | None:
    """The laboratory: the most prominent text near the top of page 1 that names an
    organisation ("... Laboratories", "... Diagnostics", "... Kft.", "... Hospital").

    Never the patient's name, a labelled field or a heading such as "DIAGNOSTIC REPORT";
    when nothing names an organisation the lab is unknown (None) rather than guessed.
    """
    patient_key = normalise_name(patient or "")
    best: tuple[float, float, str] | None = None
    for ln in first_page_lines:
        if ln.top > 320 or find_labels(ln):
            continue
        cells = ln.cells()
        for ci, cell in enumerate(cells):
            nxt = cells[ci + 1].text if ci + 1 < len(cells) else ""
            if re.search(r"[:#]\s*$", cell.text) or nxt.startswith(":"):
                continue  # a field label ("Lab Ref #:", "Lab No. : 123")
            text = cell.text.strip().strip(",").strip()
            key = normalise_name(text)
            words = set(key.split())
            if not words or len(words) > 8 or "@" in text or re.search(r"\d{3}", text):
                continue
            if patient_key and (key in patient_key or patient_key in key):
                continue
            if not words & ORGANISATION_WORDS or words & REPORT_HEADINGS:
                continue
            if len(words) == 1 and key in ORGANISATION_WORDS:
                continue  # a column heading ("Lab") or a bare word, not a name
            parts = text.split(", ")
            k = next((i for i, p in enumerate(parts) if i and re.search(r"\d", p)), None)
            text = ", ".join(parts[:k]) if k else text  # "..., 12 Sample Lane": address
            size = max(w.size for w in cell.words)
            if best is None or size > best[0] + 0.5:
                best = (size, ln.top, text)
    return best[2] if best else None


def _line_below(lines: list[Line], index: int, x0: float, x1: float) -> str:
    if index + 1 >= len(lines):
        return ""
    ln = lines[index + 1]
    if ln.page != lines[index].page:
        return ""
    ws = [w for w in ln.words if w.x1 > x0 - 5 and w.x0 < x1 + 60]
    return " ".join(w.text for w in ws)


def _gap_limited(words: list[Any]) -> str:
    out: list[str] = []
    for i, w in enumerate(words):
        if i and w.x0 - words[i - 1].x1 > 3 * max(w.size, 4):
            break
        out.append(w.text)
    return " ".join(out)
