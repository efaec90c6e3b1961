"""`ohvault records`: list, add and delete every kind of record, not only observations.

One table says, per record type, which record class it is and which fields a person may
set from the command line; parsing and JSON output follow the fields' types, so a field
added to a record class needs one line here to become settable.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ohvault.cli.commands import open_vault, parse_date, resolve_profile
from ohvault.cli.io import print_json, print_table
from ohvault.errors import BadInput
from ohvault.model.records import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Note,
    Observation,
    Record,
)
from ohvault.storage.codec import field_types

Cmd = Callable[..., argparse.ArgumentParser]

# Fields with a closed set of values (FHIR value sets, as the app offers them).
CHOICES: dict[str, tuple[str, ...]] = {
    "clinical_status": ("active", "recurrence", "relapse", "inactive", "remission", "resolved"),
    "criticality": ("low", "high", "unable-to-assess"),
}
MEDICATION_STATUSES = ("active", "completed", "stopped", "on-hold", "intended", "not-taken")


@dataclass(frozen=True)
class RecordKind:
    name: str
    cls: type[Record]
    settable: tuple[str, ...]  # fields `add` takes, in the order `list` shows them
    required: tuple[str, ...] = ()
    where: str = ""  # extra SQL filter within the class's table (vital signs are observations)
    can_add: bool = True


KINDS: dict[str, RecordKind] = {
    k.name: k
    for k in (
        RecordKind(
            "medication",
            MedicationStatement,
            ("name", "dosage", "status", "start", "end", "note"),
            required=("name",),
        ),
        RecordKind(
            "condition",
            Condition,
            ("name", "code", "clinical_status", "onset", "abatement", "note"),
            required=("name",),
        ),
        RecordKind(
            "allergy",
            AllergyIntolerance,
            ("substance", "reaction", "criticality", "recorded", "note"),
            required=("substance",),
        ),
        RecordKind(
            "immunization",
            Immunization,
            ("vaccine", "occurrence", "lot_number", "performer", "note"),
            required=("vaccine", "occurrence"),
        ),
        RecordKind("note", Note, ("text", "noted"), required=("text",)),
        # Documents arrive with their file (import-pdf, the app); reports from imports.
        RecordKind(
            "document", Document, ("filename", "media_type", "size", "description"), can_add=False
        ),
        RecordKind(
            "report", DiagnosticReport, ("title", "lab", "effective", "issued"), can_add=False
        ),
        # Vital signs are observations; list and add go through ohvault.vitals.
        RecordKind(
            "vital",
            Observation,
            ("analyte", "loinc", "value_num", "value_text", "unit", "effective", "components"),
            can_add=False,
        ),
    )
}


def _field_type(kind: RecordKind, field: str) -> type:
    cls: Any = kind.cls  # record classes hash by identity; mypy sees dataclass __hash__ = None
    return field_types(cls)[field]


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def _all_settable() -> list[str]:
    seen: dict[str, None] = {}
    for kind in KINDS.values():
        if kind.can_add:
            seen.update(dict.fromkeys(kind.settable))
    return list(seen)


def _parse(kind: RecordKind, field: str, text: str) -> Any:
    allowed: tuple[str, ...] | None = CHOICES.get(field)
    if (kind.name, field) == ("medication", "status"):
        allowed = MEDICATION_STATUSES
    if allowed and text not in allowed:
        raise BadInput(f"{_flag(field)} must be one of: {', '.join(allowed)}.")
    kind_of_field = _field_type(kind, field)
    if kind_of_field is date:
        return parse_date(text, _flag(field))
    return text


def record_json(kind: RecordKind, record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record.id, "type": kind.name}
    for field in kind.settable:
        value = getattr(record, field)
        out[field] = value.isoformat() if isinstance(value, date) else value
    out["provenance"] = record.provenance.value
    out["updated_at"] = record.updated_at.isoformat()
    return out


def _kind(args: argparse.Namespace) -> RecordKind:
    return KINDS[args.type]


def cmd_records(args: argparse.Namespace) -> int:
    kind = _kind(args)
    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        if kind.name == "vital" and args.action in ("list", "add"):
            return _vitals(vault, profile.id, args)
        if args.action == "list":
            rows = vault.repo.records(kind.cls, profile.id, where=kind.where)
            if args.json:
                print_json([record_json(kind, r) for r in rows])
            else:
                shown = kind.settable[:4]
                print_table(
                    [[_text(getattr(r, f)) for f in shown] + [r.id] for r in rows],
                    [f.replace("_", " ").upper() for f in shown] + ["ID"],
                )
            return 0
        if args.action == "delete":
            if not args.id:
                raise BadInput(f"records delete needs the {kind.name}'s id.")
            vault.repo.delete(kind.cls.TYPE, profile.id, args.id)
            if args.json:
                print_json({"deleted": args.id, "type": kind.name})
            return 0
        # add
        if not kind.can_add:
            how = {
                "document": "import-pdf FILE or the app's Documents screen",
                "report": "import-pdf FILE or import-fhir FILE",
            }[kind.name]
            raise BadInput(f"A {kind.name} is not added with records add.", hint=f"Use {how}.")
        values: dict[str, Any] = {}
        for field in _all_settable():
            text = getattr(args, field, None)
            if text is None:
                continue
            if field not in kind.settable:
                raise BadInput(f"{_flag(field)} does not apply to a {kind.name}.")
            values[field] = _parse(kind, field, text)
        missing = [f for f in kind.required if f not in values]
        if missing:
            raise BadInput(
                f"records add --type {kind.name} needs {', '.join(_flag(f) for f in missing)}."
            )
        record = kind.cls(profile_id=profile.id, **values)
        vault.repo.add(record)
        if args.json:
            print_json(record_json(kind, record))
        else:
            print(record.id)
    return 0


def _vitals(vault: Any, profile_id: str, args: argparse.Namespace) -> int:
    from ohvault import vitals

    kind = KINDS["vital"]
    if args.action == "list":
        rows = vitals.list_vitals(vault, profile_id, args.kind)
        if args.json:
            print_json([record_json(kind, r) | {"kind": _vital_kind(r)} for r in rows])
        else:
            print_table(
                [[r.effective.isoformat(), r.analyte, vitals.format_vital(r), r.id] for r in rows],
                ["DATE", "VITAL SIGN", "VALUE", "ID"],
            )
        return 0
    if not args.kind:
        raise BadInput(
            "records add --type vital needs --kind: " + ", ".join(vitals.KINDS) + ".",
        )
    stored = vitals.add_vital(
        vault,
        profile_id,
        args.kind,
        value=_number(args.value, "--value"),
        systolic=_number(args.systolic, "--systolic"),
        diastolic=_number(args.diastolic, "--diastolic"),
        when=parse_date(args.date, "--date"),
        unit=args.unit,
        note=args.note,
    )
    if args.json:
        print_json([record_json(kind, r) | {"kind": _vital_kind(r)} for r in stored])
    else:
        for r in stored:
            print(r.id)
    return 0


def _vital_kind(obs: Observation) -> str | None:
    from ohvault import vitals

    found = vitals.kind_of(obs)
    return found.key if found else None


def _number(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise BadInput(f"{flag} must be a number.") from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def register(cmd: Cmd, add_data_options: Callable[..., None]) -> None:
    p = cmd(
        "records",
        cmd_records,
        "list, add or delete medications, conditions, allergies, immunizations, notes, "
        "documents, reports and vital signs",
    )
    p.add_argument("action", choices=["list", "add", "delete"])
    p.add_argument("id", nargs="?", help="with delete: the record's id")
    p.add_argument("--type", required=True, choices=list(KINDS), help="the kind of record")
    g = p.add_argument_group("fields for add (each applies to the types that have it)")
    for field in _all_settable():
        users = [k.name for k in KINDS.values() if k.can_add and field in k.settable]
        g.add_argument(
            _flag(field),
            dest=field,
            metavar="YYYY-MM-DD" if _is_date(field) else "TEXT",
            help=f"({', '.join(users)})",
        )
    v = p.add_argument_group("vital signs (--type vital)")
    v.add_argument(
        "--kind",
        metavar="KIND",
        help="weight, height, bmi, bp, heart_rate, temperature or spo2 (list: one kind)",
    )
    v.add_argument("--value", metavar="V", help="the reading (not for bp)")
    v.add_argument("--systolic", metavar="MMHG", help="bp: systolic")
    v.add_argument("--diastolic", metavar="MMHG", help="bp: diastolic")
    v.add_argument("--unit", metavar="U", help="kg/lb, cm/in/m, Cel/[degF] … (default: stored)")
    v.add_argument("--date", metavar="YYYY-MM-DD", help="when it was measured (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_data_options(p, patient=True)


def _is_date(field: str) -> bool:
    return any(field in k.settable and _field_type(k, field) is date for k in KINDS.values())
