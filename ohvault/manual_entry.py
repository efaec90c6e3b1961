"""Checks for a measurement typed in by hand (CLI or GUI): catalog match, unit, plausibility."""

from __future__ import annotations

from ohvault.errors import BadInput
from ohvault.model import Observation


def enrich_from_catalog(obs: Observation) -> Observation:
    """Fill LOINC, name and category from the catalog, and refuse implausible values.

    An analyte the catalog does not know is kept as typed: people track things
    no catalog lists.
    """
    try:
        from ohvault.labs import load_catalog
    except ImportError:  # pragma: no cover - the catalog ships with ohvault
        return obs
    catalog = load_catalog()
    analyte = catalog.by_loinc(obs.analyte) or catalog.match(obs.analyte)
    if analyte is None:
        return obs
    obs.analyte = analyte.preferred_name
    obs.loinc = analyte.loinc
    obs.category = analyte.category
    if obs.value_num is None:
        return obs
    unit = obs.unit or analyte.canonical_unit
    try:
        canonical = analyte.convert(obs.value_num, unit, analyte.canonical_unit)
    except (KeyError, ValueError):
        accepted = ", ".join(analyte.units)
        raise BadInput(
            f"{unit!r} is not a unit for {analyte.preferred_name}; use one of: {accepted}."
        ) from None
    obs.unit = unit
    low, high = analyte.plausible_low, analyte.plausible_high
    if (low is not None and canonical < low) or (high is not None and canonical > high):
        raise BadInput(
            f"That value is outside what is physiologically plausible for {analyte.preferred_name} "
            f"({low}–{high} {analyte.canonical_unit}); check the number and the unit."
        )
    if obs.ref_low is None and obs.ref_high is None:
        obs.ref_low = _from_canonical(analyte, analyte.ref_low, unit)
        obs.ref_high = _from_canonical(analyte, analyte.ref_high, unit)
    return obs


def _from_canonical(analyte: object, value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    convert = getattr(analyte, "convert")  # noqa: B009
    return round(float(convert(value, getattr(analyte, "canonical_unit"), unit)), 6)  # noqa: B009
