"""A measurement typed in by hand (CLI or GUI): value, unit, catalog match, plausibility, flag.

One set of rules for both front ends: :func:`parse_value` reads what was typed in the value box,
:func:`enrich_from_catalog` names the analyte, maps the unit to UCUM, picks the LOINC code of the
unit's property, refuses implausible values and flags the value from the reference range with the
same rule as imported results.
"""

from __future__ import annotations

from ohvault.errors import BadInput
from ohvault.importing import derived_flag
from ohvault.labs.catalog import Analyte, load_catalog
from ohvault.labs.errors import UnitConversionError
from ohvault.labs.units import display_unit, normalise_unit
from ohvault.model import Observation


def parse_value(text: str) -> tuple[float | None, str | None]:
    """A number (decimal comma or point) or a text value such as ``<0.5`` or ``Negative``."""
    cleaned = text.strip()
    if not cleaned:
        raise BadInput("Enter a value.")
    number = (
        cleaned.replace(",", ".") if cleaned.count(",") == 1 and "." not in cleaned else cleaned
    )
    try:
        return float(number), None
    except ValueError:
        return None, cleaned


def find_analyte(name_or_loinc: str) -> Analyte | None:
    catalog = load_catalog()
    return catalog.by_loinc(name_or_loinc.strip()) or catalog.match(name_or_loinc)


def to_ucum(typed: str | None) -> str | None:
    """The UCUM code of a unit as a person types it (``mIU/L``, ``µmol/l``, ``10³/µL``), or None."""
    if typed is None or not typed.strip():
        return None
    return normalise_unit(typed.strip())


def enrich_from_catalog(obs: Observation) -> Observation:
    """Fill LOINC, name, category, UCUM unit, default range and flag; refuse implausible values.

    ``obs.unit`` may hold what the person typed; what is stored is always a UCUM code or None.
    An analyte the catalog does not know is kept as typed (people track things no catalog lists);
    its unit, when it is no unit we know, is kept in the note rather than stored as a unit code
    (the observation has no column for free-text units).
    """
    typed_unit = obs.unit.strip() if obs.unit and obs.unit.strip() else None
    ucum = to_ucum(typed_unit)
    analyte = find_analyte(obs.analyte)
    if analyte is None:
        obs.unit = ucum
        if typed_unit is not None and ucum is None:
            kept = f"Unit as typed: {typed_unit}"
            if kept not in (obs.note or ""):
                obs.note = f"{obs.note}\n{kept}" if obs.note else kept
        obs.flag = _flag(obs)
        return obs
    obs.analyte = analyte.preferred_name
    obs.category = analyte.category
    if obs.value_num is None and typed_unit is None:
        obs.loinc = analyte.loinc
        return obs
    if typed_unit is not None and (ucum is None or not analyte.accepts(ucum)):
        raise BadInput(
            f"{typed_unit!r} is not a unit for {analyte.preferred_name}; "
            f"use one of: {_accepted(analyte)}."
        )
    unit = ucum or analyte.canonical_unit
    obs.unit = unit or None
    obs.loinc = analyte.loinc_for_unit(unit)
    if obs.value_num is None:
        return obs
    try:
        canonical = analyte.to_canonical(obs.value_num, unit)
    except UnitConversionError:
        raise BadInput(
            f"{typed_unit!r} is not a unit for {analyte.preferred_name}; "
            f"use one of: {_accepted(analyte)}."
        ) from None
    if not analyte.is_plausible(canonical):
        shown = display_unit(analyte.canonical_unit)
        raise BadInput(
            f"That value is outside what is physiologically plausible for {analyte.preferred_name} "
            f"({_bound(analyte.plausible_low)}–{_bound(analyte.plausible_high)} {shown}); "
            "check the number and the unit."
        )
    if obs.ref_low is None and obs.ref_high is None:
        obs.ref_low = _in_unit(analyte, analyte.ref_low, unit)
        obs.ref_high = _in_unit(analyte, analyte.ref_high, unit)
    obs.flag = _flag(obs)
    return obs


def _flag(obs: Observation) -> str | None:
    """H/L from the range by the importer's rule; a text value keeps the flag it has."""
    if obs.value_num is None:
        return obs.flag
    return derived_flag(obs.value_num, obs.ref_low, obs.ref_high)


def _accepted(analyte: Analyte) -> str:
    return ", ".join(display_unit(u) or "(no unit)" for u in analyte.units)


def _bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def _in_unit(analyte: Analyte, canonical_value: float | None, unit: str) -> float | None:
    if canonical_value is None:
        return None
    return round(analyte.convert(canonical_value, analyte.canonical_unit, unit), 4)
