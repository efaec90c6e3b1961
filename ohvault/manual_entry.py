"""Checks for a measurement typed in by hand (CLI or GUI): catalog match, unit, plausibility."""

from __future__ import annotations

from ohvault.errors import BadInput
from ohvault.labs.catalog import Analyte, load_catalog
from ohvault.labs.errors import UnitConversionError
from ohvault.model import Observation


def find_analyte(name_or_loinc: str) -> Analyte | None:
    catalog = load_catalog()
    return catalog.by_loinc(name_or_loinc.strip()) or catalog.match(name_or_loinc)


def enrich_from_catalog(obs: Observation) -> Observation:
    """Fill LOINC, name, category and default range from the catalog; refuse implausible values.

    An analyte the catalog does not know is kept as typed: people track things
    no catalog lists.
    """
    analyte = find_analyte(obs.analyte)
    if analyte is None:
        return obs
    obs.analyte = analyte.preferred_name
    obs.loinc = analyte.loinc
    obs.category = analyte.category
    if obs.value_num is None:
        return obs
    unit = obs.unit or analyte.canonical_unit
    try:
        canonical = analyte.to_canonical(obs.value_num, unit)
    except UnitConversionError:
        accepted = ", ".join(analyte.units)
        raise BadInput(
            f"{unit!r} is not a unit for {analyte.preferred_name}; use one of: {accepted}."
        ) from None
    if not analyte.is_plausible(canonical):
        raise BadInput(
            f"That value is outside what is physiologically plausible for {analyte.preferred_name} "
            f"({analyte.plausible_low}–{analyte.plausible_high} {analyte.canonical_unit}); "
            "check the number and the unit."
        )
    obs.unit = unit
    if obs.ref_low is None and obs.ref_high is None:
        obs.ref_low = _in_unit(analyte, analyte.ref_low, unit)
        obs.ref_high = _in_unit(analyte, analyte.ref_high, unit)
    return obs


def _in_unit(analyte: Analyte, canonical_value: float | None, unit: str) -> float | None:
    if canonical_value is None:
        return None
    return round(analyte.convert(canonical_value, analyte.canonical_unit, unit), 4)
