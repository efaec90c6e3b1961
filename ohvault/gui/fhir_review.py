"""Review rows for a FHIR R4 Bundle JSON import (the Import screen's second kind of source).

`read_fhir_file` validates and maps the file on the worker; this model lists its
records with an accept checkbox, like the PDF review, and `store_fhir_import`
stores the accepted ids in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ohvault.gui import theme
from ohvault.model import is_out_of_range
from ohvault.reports.trends import fmt_value
from ohvault.ucum import display_unit
from ohvault.wording import flag_word

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ["", "Kind", "Name", "Value", "Unit", "Flag", "Date"]
KIND_WORDS = {
    "observation": "Result",
    "diagnostic_report": "Report",
    "document": "Document",
    "medication": "Medication",
    "condition": "Condition",
    "allergy": "Allergy",
    "immunization": "Immunization",
    "note": "Note",
}
_SKIP = {"id", "profile_id", "created_at", "updated_at", "provenance", "source_id", "deleted"}


@dataclass
class FhirPending:
    path: Path
    content: Any  # FhirContent
    rows: list[Any] = field(default_factory=list)  # records, documents last
    storable: list[bool] = field(default_factory=list)
    accepted: list[bool] = field(default_factory=list)

    @classmethod
    def build(cls, path: Path, content: Any) -> FhirPending:
        rows = list(content.records) + [d.record for d in content.documents]
        storable = [True] * len(content.records) + [d.inline is not None for d in content.documents]
        return cls(path, content, rows, storable, list(storable))

    @property
    def accepted_ids(self) -> list[str]:
        return [r.id for r, ok in zip(self.rows, self.accepted, strict=True) if ok]


def record_name(r: Any) -> str:
    for attr in ("analyte", "name", "title", "substance", "vaccine", "filename", "text"):
        value = getattr(r, attr, None)
        if value:
            return str(value)
    return ""


def status_words(r: Any) -> str:
    """Statuses that change what a record means, as a person reads them ("" when plain)."""
    kind = r.TYPE.value
    parts: list[str] = []
    if getattr(r, "no_known", False):
        return "statement"
    if kind == "condition" and r.clinical_status not in ("active", "unknown"):
        parts.append(r.clinical_status)
    if kind == "allergy" and r.clinical_status not in (None, "active"):
        parts.append(r.clinical_status)
    if kind in ("condition", "allergy") and r.verification_status in ("refuted", "unconfirmed"):
        parts.append(r.verification_status)
    if kind == "immunization" and r.status == "not-done":
        parts.append(
            "not given"
            + (f": {r.status_reason}" if r.status_reason not in (None, "not given") else "")
        )
    if kind == "medication" and r.status not in ("active",):
        parts.append(r.status)
    return ", ".join(parts)


def record_value(r: Any) -> tuple[str, str]:
    if r.TYPE.value == "observation":
        if r.value_text is not None:
            return r.value_text, display_unit(r.unit)
        if r.value_num is None:
            return r.display_value(), display_unit(r.unit)
        return fmt_value(r.value_num), display_unit(r.unit)
    words = status_words(r)
    if r.TYPE.value == "medication":
        return " · ".join(x for x in (r.dosage, words) if x), ""
    if r.TYPE.value == "allergy":
        return " · ".join(x for x in (r.reaction, words) if x), ""
    if r.TYPE.value == "document":
        return f"{r.size:,}", "bytes"
    return words, ""


def fhir_skipped_title(content: Any) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(content.skipped.items()))
    n = len(content.problems)
    title = f"Skipped ({n})" if n else "Nothing skipped"
    return title + (f" · not kept (kinds ohvault does not store): {kinds}" if kinds else "")


def fhir_skipped_lines(content: Any) -> list[str]:
    """Every resource that was not imported with its path and reason, then adjustments."""
    lines = [f"{p.resource_type} at {p.path}: {p.reason}" for p in content.problems]
    return lines + [f"Note: {n}" for n in content.notes]


def fhir_outcome_text(outcome: Any) -> str:
    """What an import did, in one sentence for the status bar."""

    def n(d: dict[str, int]) -> int:
        return sum(d.values())

    added, updated, unchanged = n(outcome.added), n(outcome.updated), n(outcome.unchanged)
    if outcome.imported_before:
        return "This file was imported before; nothing was changed."
    parts = [f"Imported {added} record{'s' if added != 1 else ''}"]
    if updated:
        parts.append(f"{updated} updated")
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    if outcome.duplicates:
        parts.append(f"{outcome.duplicates} already in the vault")
    if outcome.skipped:
        parts.append(f"{len(outcome.skipped)} skipped")
    return ", ".join(parts) + "."


def record_date(r: Any) -> str:
    for attr in ("effective", "start", "onset", "recorded", "occurrence", "noted"):
        value = getattr(r, attr, None)
        if value is not None:
            return str(value.isoformat())
    return ""


_SYSTEM_NAMES = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips": "IPS",
}


def _coding_text(c: dict[str, str]) -> str:
    system = c.get("system", "")
    name = _SYSTEM_NAMES.get(system, system.rsplit("/", 1)[-1] or "code")
    return f"{name} {c.get('code', '')}" + (f" ({c['display']})" if c.get("display") else "")


def _component_text(c: dict[str, Any]) -> str:
    value = c.get("value")
    shown = (
        f"{value:g}" if isinstance(value, int | float) else c.get("value_text") or c.get("absent")
    )
    return f"{c.get('name') or c.get('code')}: {shown or '—'} {c.get('unit') or ''}".strip()


def record_details(r: Any) -> list[tuple[str, str]]:
    """Every field of the record for the side pane (shown, never logged)."""
    out = []
    for f in fields(r):
        if f.name in _SKIP:
            continue
        value = getattr(r, f.name)
        if value is None or value == "" or value == [] or value is False:
            continue
        if f.name == "codings":
            text = "\n".join(_coding_text(c) for c in value)
        elif f.name == "components":
            text = "\n".join(_component_text(c) for c in value)
        elif value is True:
            text = "yes"
        else:
            text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        out.append((f.name.replace("_", " ").capitalize(), text))
    return out


class FhirReviewModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.pending: FhirPending | None = None

    def set_pending(self, pending: FhirPending | None) -> None:
        self.beginResetModel()
        self.pending = pending
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.pending is None:
            return 0
        return len(self.pending.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def record(self, row: int) -> Any:
        assert self.pending is not None
        return self.pending.rows[row]

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsSelectable
        if self.pending is not None and self.pending.storable[index.row()]:
            base |= Qt.ItemFlag.ItemIsEnabled
            if index.column() == 0:
                base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.pending is None:
            return None
        row, col = index.row(), index.column()
        r = self.pending.rows[row]
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if self.pending.accepted[row] else Qt.CheckState.Unchecked
        flag = getattr(r, "flag", None)
        if role == Qt.ItemDataRole.DisplayRole:
            value, unit = record_value(r)
            return [
                "",
                KIND_WORDS.get(r.TYPE.value, r.TYPE.value),
                record_name(r),
                value,
                unit,
                flag_word(flag),
                record_date(r),
            ][col]
        if role == Qt.ItemDataRole.ForegroundRole and col in (3, 5) and is_out_of_range(flag):
            return QBrush(QColor(theme.flag_colour(flag)))
        if role == Qt.ItemDataRole.ToolTipRole:
            if not self.pending.storable[row]:
                return "Only a link to a file elsewhere: there is nothing to keep."
            if col == 2:
                return record_name(r)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if self.pending is None or index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        if not self.pending.storable[index.row()]:
            return False
        self.pending.accepted[index.row()] = Qt.CheckState(value) == Qt.CheckState.Checked
        self.dataChanged.emit(index, index, [role])
        return True

    def set_all(self, accepted: bool) -> None:
        if self.pending is None:
            return
        self.pending.accepted = [accepted and ok for ok in self.pending.storable]
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))
