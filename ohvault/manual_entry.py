"""A measurement typed in by hand (CLI or GUI): value, unit, catalog match, plausibility, flag.

One set of rules for both front ends: :func:`parse_value` reads what was typed in the value box,
:func:`enrich_from_catalog` names the analyte, maps the unit to UCUM, picks the LOINC code of the
unit's property, refuses implausible values and flags the value from the reference range with the
same rule as imported results. :func:`correct_result` applies the same rules to a parsed lab
result the person corrects on the review screen.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from ohvault.analytes import lookup
from ohvault.errors import BadInput
from ohvault.importing import derived_flag
from ohvault.labs.catalog import Analyte, load_catalog
from ohvault.labs.errors import UnitConversionError
from ohvault.labs.units import display_unit, normalise_unit
from ohvault.model import Observation

if TYPE_CHECKING:
    from ohvault.labs.parser import ParsedResult


def parse_value(text: str) -> tuple[float | None, str | None]:
    """A number (decimal comma or point) or a text value such as ``<0.5`` or ``Negative``."""
    cleaned = text.strip()
    if not cleaned:
        raise BadInput("Enter a value.")
    number = (
        cleaned.replace(",", ".") if cleaned.count(",") == 1 and "." not in cleaned else cleaned
    )
    try:
        value = float(number)
    except ValueError:
        return None, cleaned
    # "nan" and "inf" are words to float(); no measurement is either.
    return (value, None) if math.isfinite(value) else (None, cleaned)


def parse_number(text: str, what: str) -> float:
    """A number typed for `what` ("systolic pressure"), read like :func:`parse_value`."""
    if not text.strip():
        raise BadInput(f"Enter the {what}.")
    number, _ = parse_value(text)
    if number is None:
        raise BadInput(f"The {what} must be a number.")
    return number


def find_analyte(name_or_loinc: str) -> Analyte | None:
    return lookup(load_catalog(), name_or_loinc)


def to_ucum(typed: str | None) -> str | None:
    """The UCUM code of a unit as a person types it (``mIU/L``, ``µmol/l``, ``10³/µL``), or None."""
    if typed is None or not typed.strip():
        return None
    return normalise_unit(typed.strip())


def enrich_from_catalog(obs: Observation) -> Observation:
    """Fill LOINC, name, category, UCUM unit, canonical value, default range and flag; refuse
    implausible values.

    ``obs.unit`` may hold what the person typed; what is stored is always a UCUM code or None.
    An analyte the catalog does not know is kept as typed (people track things no catalog lists);
    its unit, when it is no unit we know, is kept in the note rather than stored as a unit code
    (the observation has no column for free-text units).
    """
    typed_unit = obs.unit.strip() if obs.unit and obs.unit.strip() else None
    ucum = to_ucum(typed_unit)
    analyte = find_analyte(obs.analyte)
    if analyte is None:
        obs.value_canonical = obs.unit_canonical = None  # no catalog unit to hold it in
        obs.unit = ucum
        if typed_unit is not None and ucum is None:
            kept = f"Unit as typed: {typed_unit}"
            if kept not in (obs.note or ""):
                obs.note = f"{obs.note}\n{kept}" if obs.note else kept
        obs.flag = _flag(obs)
        return obs
    obs.analyte = analyte.preferred_name
    obs.category = analyte.category
    unit, obs.loinc, canonical = check_unit_and_value(analyte, obs.value_num, typed_unit, ucum)
    # Stored with the value, as for imported results: charts read it instead of converting.
    obs.value_canonical = canonical
    obs.unit_canonical = analyte.canonical_unit if canonical is not None else None
    if obs.value_num is None and typed_unit is None:
        return obs
    obs.unit = unit or None
    if obs.value_num is None:
        return obs
    if obs.ref_low is None and obs.ref_high is None:
        obs.ref_low = _in_unit(analyte, analyte.ref_low, unit)
        obs.ref_high = _in_unit(analyte, analyte.ref_high, unit)
    obs.flag = _flag(obs)
    return obs


def check_unit_and_value(
    analyte: Analyte, value_num: float | None, typed_unit: str | None, ucum: str | None
) -> tuple[str, str | None, float | None]:
    """The UCUM unit ("" for a unitless test), the LOINC code of its property and the value in
    the analyte's canonical unit (None for a text value).

    `ucum` is the UCUM reading of `typed_unit` (None when it has none); no unit typed means the
    analyte's canonical unit. Raises BadInput for a unit the analyte is not measured in and for
    a physiologically implausible value. A text value without a unit keeps the analyte's main
    LOINC code.
    """
    if value_num is None and typed_unit is None:
        return "", analyte.loinc, None
    if typed_unit is not None and (ucum is None or not analyte.accepts(ucum)):
        raise BadInput(
            f"{typed_unit!r} is not a unit for {analyte.preferred_name}; "
            f"use one of: {_accepted(analyte)}."
        )
    unit = ucum or analyte.canonical_unit
    loinc = analyte.loinc_for_result(unit, text_value=value_num is None)
    if value_num is None:
        return unit, loinc, None
    try:
        canonical = analyte.to_canonical(value_num, unit)
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
    return unit, loinc, canonical


def correct_result(result: ParsedResult, name: str, value: str, unit: str | None) -> ParsedResult:
    """A parsed lab result as the person corrected it before import (raises BadInput).

    The same rules as a typed measurement: the name is looked up in the catalog (a name it does
    not know stays the person's own test), the value is read by :func:`parse_value`, the unit
    must be one the analyte is measured in and the value plausible. A unit left as printed keeps
    the parser's reading of it. The corrected result counts as sure (confidence 1).
    """
    name = name.strip()
    if not name:
        raise BadInput("Enter the name of the test.")
    value_num, value_text = parse_value(value)
    typed_unit = unit.strip() if unit and unit.strip() else None
    ucum = to_ucum(typed_unit)
    if typed_unit is not None and typed_unit == result.unit and result.unit_ucum is not None:
        ucum = result.unit_ucum  # untouched: the parser already read this printed unit
    analyte = find_analyte(name)
    loinc: str | None = None
    canonical: float | None = None
    if analyte is not None:
        unit_code, loinc, canonical = check_unit_and_value(analyte, value_num, typed_unit, ucum)
        ucum = unit_code or ucum
    return dataclasses.replace(
        result,
        name=analyte.preferred_name if analyte is not None else name,
        loinc=loinc,
        category=analyte.category if analyte is not None else result.category,
        value=value_num if value_num is not None else (value_text or ""),
        value_num=value_num,
        unit=typed_unit,
        unit_ucum=ucum,
        value_canonical=canonical,
        unit_canonical=analyte.canonical_unit
        if analyte is not None and canonical is not None
        else None,
        confidence=1.0,
    )


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
