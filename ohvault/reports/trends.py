"""Results over time: one series per analyte in one unit, for the Trends screen, the dashboard's
sparklines and the visit summary (plain Python, no Qt).

A value is charted in its analyte's canonical unit as stored with it on import (schema v6); only
rows without a stored canonical value (older rows, edited values, other units) are converted
here, with the catalog's conversion.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ohvault import analytes
from ohvault.model import MedicationStatement, Observation
from ohvault.vault import Vault


def fmt_value(v: float, max_decimals: int = 3, max_digits: int = 4) -> str:
    """A measured value as a lab prints it: no float noise, at most 3 decimals, 4 significant digits.

    Values read from reports keep their printed digits (14.6, 0.95); long computed or converted
    values (108.8812) are cut to what a tile can show without crowding the unit.
    """
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    whole = len(str(int(abs(v)))) if abs(v) >= 1 else 0
    decimals = max(0, min(max_decimals, max_digits - whole))
    if whole == 0 and v != 0:
        # Below 1, significant digits start after the leading zeros (0.0123 stays 0.0123).
        decimals = -math.floor(math.log10(abs(v))) - 1 + 3
    text = f"{round(v, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def series_key(o: Observation) -> str:
    """Results of one test share a key: its LOINC code, else its name."""
    return o.loinc or o.analyte.lower()


@dataclass
class Series:
    """One analyte over time, in one unit."""

    key: str
    name: str
    unit: str | None
    points: list[tuple[date, float]] = field(default_factory=list)
    flags: list[str | None] = field(default_factory=list)
    ref_low: float | None = None
    ref_high: float | None = None
    skipped: int = 0  # values that could not be converted to the series unit


def _convert(value: float, from_unit: str | None, to_unit: str | None, name: str) -> float | None:
    if from_unit == to_unit or to_unit is None:
        return value
    analyte = analytes.find(name)
    if analyte is None or from_unit is None:
        return None
    try:
        return float(analyte.convert(value, from_unit, to_unit))
    except Exception:  # unit unknown to the catalog: leave the point out rather than guess
        return None


def build_series(observations: list[Observation], unit: str | None = None) -> Series | None:
    """Numeric values of one analyte, converted to one unit (the catalog's canonical, else the latest)."""
    numeric = sorted(
        (o for o in observations if o.value_num is not None), key=lambda o: o.effective
    )
    if not numeric:
        return None
    latest = numeric[-1]
    if unit is None:
        analyte = analytes.find(latest.loinc or latest.analyte)
        unit = analyte.canonical_unit if analyte is not None else latest.unit
        if analyte is not None and not any(
            o.unit_canonical == unit
            or _convert(1.0, o.unit, unit, latest.loinc or latest.analyte) is not None
            for o in numeric
        ):
            unit = latest.unit
    series = Series(series_key(latest), latest.analyte, unit)
    for o in numeric:
        if o.value_canonical is not None and o.unit_canonical == unit:
            # Computed once on import (schema v6); an edit of the value drops it (Repository.update).
            value: float | None = o.value_canonical
        else:
            value = _convert(o.value_num, o.unit, unit, o.loinc or o.analyte)  # type: ignore[arg-type]
        if value is None:
            series.skipped += 1
            continue
        series.points.append((o.effective, value))
        series.flags.append(o.flag)
    # The reference range of the latest value that has one, converted too.
    for o in reversed(numeric):
        if o.ref_low is not None or o.ref_high is not None:
            name = o.loinc or o.analyte
            series.ref_low = None if o.ref_low is None else _convert(o.ref_low, o.unit, unit, name)
            series.ref_high = (
                None if o.ref_high is None else _convert(o.ref_high, o.unit, unit, name)
            )
            break
    return series


def change_since_previous_date(series: Series | None) -> float | None:
    """Latest value minus the last value of an earlier date (a repeat on the same day is no change)."""
    if series is None or not series.points:
        return None
    when, latest = series.points[-1]
    earlier = [v for d, v in series.points if d < when]
    return latest - earlier[-1] if earlier else None


@dataclass
class MedicationSpan:
    name: str
    start: date | None
    end: date | None


def medication_spans(vault: Vault, profile_id: str) -> list[MedicationSpan]:
    meds = vault.repo.records(MedicationStatement, profile_id)
    return [MedicationSpan(m.name, m.start, m.end) for m in meds if m.start or m.end]


@dataclass
class TrendData:
    analytes: list[tuple[str, str]]  # (key, display name) of analytes with numeric values
    series: dict[str, Series]
    medications: list[MedicationSpan]
    # Entries that chart several series together (blood pressure: systolic and diastolic).
    groups: dict[str, list[str]] = field(default_factory=dict)

    def members(self, key: str) -> list[Series]:
        keys = self.groups.get(key, [key])
        return [self.series[k] for k in keys if k in self.series]


def trend_data(vault: Vault, profile_id: str) -> TrendData:
    from ohvault.vitals import BP_PANEL, DIASTOLIC, SYSTOLIC, human_unit, split_components

    by_key: dict[str, list[Observation]] = defaultdict(list)
    for o in vault.repo.observations(profile_id):
        # A reading made of parts (blood pressure) charts one series per part.
        for part in split_components(o):
            by_key[series_key(part)].append(part)
    series: dict[str, Series] = {}
    for key, obs in by_key.items():
        s = build_series(obs)
        if s is not None and s.points:
            # Vital signs are stored in UCUM (mm[Hg], Cel, /min); people read mmHg, °C, beats/min.
            s.unit = human_unit(s.key, s.unit)
            series[key] = s
    names = sorted(((k, s.name) for k, s in series.items()), key=lambda kv: kv[1].lower())
    groups: dict[str, list[str]] = {}
    if SYSTOLIC in series and DIASTOLIC in series:
        groups[BP_PANEL] = [SYSTOLIC, DIASTOLIC]
        names.insert(
            next(
                (i for i, (_k, n) in enumerate(names) if n.lower() > "blood pressure"), len(names)
            ),
            (BP_PANEL, "Blood pressure"),
        )
    return TrendData(names, series, medication_spans(vault, profile_id), groups)
