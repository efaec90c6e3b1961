"""Vital signs as first-class records: kinds, LOINC codes, units, plausible bounds, BMI.

A vital sign is an Observation with category `vital-signs` and the LOINC code of its
kind, so trends, the visit summary and FHIR export treat it like any result. Blood
pressure is ONE reading (panel 85354-9) with systolic (8480-6) and diastolic (8462-4)
components. The CLI and the GUI both call `add_vital` / `list_vitals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ohvault.changes import Change, changes
from ohvault.errors import BadInput
from ohvault.fhir.codes import LOINC, VITAL_SIGNS
from ohvault.model import Observation, Provenance
from ohvault.ucum import display_unit
from ohvault.vault import Vault


@dataclass(frozen=True)
class VitalKind:
    key: str  # the name the CLI takes: weight, height, bmi, bp, heart_rate, temperature, spo2
    name: str  # what a person reads
    loinc: str
    unit: str  # UCUM, as stored
    unit_label: str  # as shown
    low: float  # plausible bounds for an adult or child measurement, in `unit`
    high: float
    decimals: int = 1


VITAL_SIGNS_TEXT = "Vital signs"  # the category people filter results by
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
BP_PANEL = "85354-9"

KINDS: dict[str, VitalKind] = {
    k.key: k
    for k in (
        VitalKind("weight", "Body weight", "29463-7", "kg", "kg", 0.5, 400.0),
        VitalKind("height", "Body height", "8302-2", "cm", "cm", 30.0, 260.0),
        VitalKind("bmi", "Body mass index", "39156-5", "kg/m2", "kg/m²", 8.0, 90.0),
        VitalKind("bp", "Blood pressure", BP_PANEL, "mm[Hg]", "mmHg", 20.0, 300.0, 0),
        VitalKind("heart_rate", "Heart rate", "8867-4", "/min", "beats/min", 20.0, 260.0, 0),
        VitalKind("temperature", "Body temperature", "8310-5", "Cel", "°C", 30.0, 45.0),
        VitalKind("spo2", "Oxygen saturation", "59408-5", "%", "%", 50.0, 100.0, 0),
    )
}
COMPONENT_NAMES = {SYSTOLIC: "Systolic blood pressure", DIASTOLIC: "Diastolic blood pressure"}
# LOINC codes that other systems use for the same vital signs (BP panel variants,
# SpO2 by pulse oximetry, height lying) so their readings land in the same kind.
ALIASES = {"55284-4": "bp", "2708-6": "spo2", "8306-3": "height"}
VITAL_LOINCS = {k.loinc for k in KINDS.values()} | set(ALIASES) | {SYSTOLIC, DIASTOLIC}
# Unit conversions people enter in (to the stored unit).
_TO_STORED = {
    ("weight", "lb"): lambda v: v * 0.45359237,
    ("weight", "[lb_av]"): lambda v: v * 0.45359237,
    ("height", "in"): lambda v: v * 2.54,
    ("height", "[in_i]"): lambda v: v * 2.54,
    ("height", "m"): lambda v: v * 100.0,
    ("temperature", "[degF]"): lambda v: (v - 32.0) * 5.0 / 9.0,
    ("temperature", "°F"): lambda v: (v - 32.0) * 5.0 / 9.0,
}


def kind_of(obs: Observation) -> VitalKind | None:
    """The vital kind of a stored observation, by its LOINC code."""
    if obs.loinc is None:
        return None
    for k in KINDS.values():
        if k.loinc == obs.loinc:
            return k
    alias = ALIASES.get(obs.loinc)
    return KINDS[alias] if alias else None


def get_kind(key: str) -> VitalKind:
    k = KINDS.get(key.replace("-", "_").lower())
    if k is None:
        raise BadInput(f"Unknown vital sign {key!r}; choose one of {', '.join(KINDS)}.")
    return k


def bmi(weight_kg: float, height_cm: float) -> float:
    if height_cm <= 0:
        raise BadInput("A height must be above zero to compute a BMI.")
    return round(weight_kg / (height_cm / 100.0) ** 2, 1)


def _check(kind: VitalKind, value: float, what: str | None = None) -> None:
    if not kind.low <= value <= kind.high:
        raise BadInput(
            f"{what or kind.name} {value:g} {kind.unit_label} is outside what is plausible "
            f"({kind.low:g}–{kind.high:g} {kind.unit_label}); check the value and its unit."
        )


def to_stored_unit(kind: VitalKind, value: float, unit: str | None) -> float:
    if unit is None or unit in (kind.unit, kind.unit_label):
        return value
    convert = _TO_STORED.get((kind.key, unit))
    if convert is None:
        raise BadInput(f"{kind.name} is entered in {kind.unit_label}, not {unit}.")
    return round(float(convert(value)), 2)


def make_vital(
    profile_id: str,
    kind: VitalKind,
    *,
    value: float | None = None,
    systolic: float | None = None,
    diastolic: float | None = None,
    when: date | datetime,
    unit: str | None = None,
    note: str | None = None,
) -> Observation:
    """A vital-sign observation (not stored), with its value checked for plausibility."""
    effective_at = when if isinstance(when, datetime) else None
    day = when.date() if isinstance(when, datetime) else when
    if effective_at is not None and effective_at.tzinfo is None:
        effective_at = effective_at.astimezone()
    common: dict[str, Any] = {
        "profile_id": profile_id,
        "analyte": kind.name,
        "loinc": kind.loinc,
        "codings": [{"system": LOINC, "code": kind.loinc, "display": kind.name}],
        "unit": kind.unit,
        "effective": day,
        "effective_at": effective_at,
        "category_code": VITAL_SIGNS,
        "category": VITAL_SIGNS_TEXT,
        "provenance": Provenance.MANUAL,
        "note": note,
    }
    if kind.key == "bp":
        if systolic is None or diastolic is None:
            raise BadInput("A blood pressure reading needs both systolic and diastolic values.")
        _check(kind, systolic, "Systolic pressure")
        _check(kind, diastolic, "Diastolic pressure")
        if diastolic >= systolic:
            raise BadInput("The diastolic pressure must be lower than the systolic pressure.")
        components = [
            {
                "code": code,
                "name": COMPONENT_NAMES[code],
                "codings": [{"system": LOINC, "code": code, "display": COMPONENT_NAMES[code]}],
                "value": v,
                "unit": kind.unit,
            }
            for code, v in ((SYSTOLIC, systolic), (DIASTOLIC, diastolic))
        ]
        return Observation(**common, components=components)
    if value is None:
        raise BadInput(f"{kind.name} needs a value.")
    stored = to_stored_unit(kind, value, unit)
    _check(kind, stored)
    rounded = round(stored, kind.decimals) if kind.decimals else float(round(stored))
    return Observation(**common, value_num=rounded)


def _latest(vault: Vault, profile_id: str, loinc: str) -> Observation | None:
    rows = vault.repo.records(
        Observation,
        profile_id,
        where="loinc = ? AND value_num IS NOT NULL",
        params=(loinc,),
        order="effective DESC, created_at DESC",
        audit=False,
    )
    return rows[0] if rows else None


@changes(Change.OBSERVATION)
def add_vital(
    vault: Vault,
    profile_id: str,
    kind: str,
    *,
    value: float | None = None,
    systolic: float | None = None,
    diastolic: float | None = None,
    when: date | datetime | None = None,
    unit: str | None = None,
    note: str | None = None,
    derive_bmi: bool = True,
) -> list[Observation]:
    """Store one vital-sign reading; with a weight or height, also the BMI when the other is known.

    Returns what was stored (the reading, then a derived BMI if any), in one transaction.
    """
    k = get_kind(kind)
    moment = when or datetime.now(UTC).astimezone()
    obs = make_vital(
        profile_id, k, value=value, systolic=systolic, diastolic=diastolic, when=moment,
        unit=unit, note=note,
    )  # fmt: skip
    out = [obs]
    if derive_bmi and k.key in ("weight", "height") and obs.value_num is not None:
        other = _latest(vault, profile_id, KINDS["height" if k.key == "weight" else "weight"].loinc)
        if other is not None and other.value_num is not None:
            weight, height = (
                (obs.value_num, other.value_num)
                if k.key == "weight"
                else (other.value_num, obs.value_num)
            )
            value_bmi = bmi(weight, height)
            if KINDS["bmi"].low <= value_bmi <= KINDS["bmi"].high:
                derived = make_vital(profile_id, KINDS["bmi"], value=value_bmi, when=moment)
                derived.note = "Computed from weight and height."
                out.append(derived)
    with vault.db.transaction():
        for o in out:
            vault.repo.add(o)
    return out


def is_vital(obs: Observation) -> bool:
    return obs.category_code == VITAL_SIGNS or (obs.loinc in VITAL_LOINCS)


def list_vitals(
    vault: Vault,
    profile_id: str,
    kind: str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[Observation]:
    """Vital-sign observations of a profile, oldest first; one kind when `kind` is given."""
    marks = ",".join("?" * len(VITAL_LOINCS))
    clauses = [f"(category_code = ? OR loinc IN ({marks}))"]
    params: list[Any] = [VITAL_SIGNS, *sorted(VITAL_LOINCS)]
    if since:
        clauses.append("effective >= ?")
        params.append(since.isoformat())
    if until:
        clauses.append("effective <= ?")
        params.append(until.isoformat())
    rows = vault.repo.records(
        Observation,
        profile_id,
        where=" AND ".join(clauses),
        params=params,
        order="effective, effective_at, created_at",
    )
    if kind is not None:
        wanted = get_kind(kind)
        rows = [o for o in rows if kind_of(o) == wanted]
    return rows


def split_components(obs: Observation) -> list[Observation]:
    """One observation per numeric component (blood pressure → systolic and diastolic),
    for charts and tables that plot one value per point; other observations unchanged."""
    if obs.value_num is not None or not obs.components:
        return [obs]
    out: list[Observation] = []
    for i, c in enumerate(obs.components):
        if not isinstance(c.get("value"), int | float):
            continue
        code = c.get("code")
        out.append(
            Observation(
                id=f"{obs.id}#{i}",
                profile_id=obs.profile_id,
                analyte=COMPONENT_NAMES.get(str(code), str(c.get("name") or code or obs.analyte)),
                loinc=str(code) if code else None,
                value_num=float(c["value"]),
                unit=c.get("unit") or obs.unit,
                effective=obs.effective,
                effective_at=obs.effective_at,
                category_code=obs.category_code,
                flag=None,
                provenance=obs.provenance,
                created_at=obs.created_at,
                updated_at=obs.updated_at,
            )
        )
    return out


def human_unit(loinc: str | None, unit: str | None) -> str | None:
    """The unit a person reads for a vital sign stored in UCUM (the one rule in ohvault.ucum)."""
    return display_unit(unit) or unit


def format_vital(obs: Observation) -> str:
    """ "120/80 mmHg", "72.5 kg": the value with the unit a person reads."""
    label = display_unit(obs.unit)
    value = obs.display_value()
    return f"{value} {label}".strip() if value else ""
