"""Units: UCUM codes as people read them, and the property (mass, substance...) a unit measures."""

from __future__ import annotations

import json
import re

import pytest

from ohvault.labs.catalog import catalog_dir
from ohvault.labs.units import normalise_unit, unit_property
from ohvault.ucum import display_unit

# -- UCUM as a person reads it -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ucum", "shown"),
    [
        ("10*3/uL", "10³/µL"),
        ("10*9/L", "10⁹/L"),
        ("10*12/L", "10¹²/L"),
        ("u[IU]/mL", "µIU/mL"),
        ("m[IU]/L", "mIU/L"),
        ("k[IU]/L", "kIU/L"),
        ("mL/min/{1.73_m2}", "mL/min/1.73 m²"),
        ("umol/L", "µmol/L"),
        ("ug/dL", "µg/dL"),
        ("ukat/L", "µkat/L"),
        ("ng/mL{FEU}", "ng/mL FEU"),
        ("/[HPF]", "/HPF"),
        ("/100{WBCs}", "/100 WBCs"),
        ("mg/(24.h)", "mg/24 h"),
        ("mosm/kg", "mOsm/kg"),
        ("meq/L", "mEq/L"),
        ("kg/m2", "kg/m²"),
        ("mm[Hg]", "mmHg"),
        ("Cel", "°C"),
        ("{ratio}", ""),
        ("{INR}", ""),
        ("[pH]", ""),
        ("1", ""),
        ("", ""),
        (None, ""),
        ("mg/dL", "mg/dL"),
        ("points", "points"),  # free text that is not UCUM stays readable
    ],
)
def test_display_unit(ucum: str | None, shown: str) -> None:
    assert display_unit(ucum) == shown


def test_every_catalog_unit_has_a_human_form_that_reads_back() -> None:
    """No screen shows UCUM syntax, and what it shows is understood when typed back in."""
    data = json.loads((catalog_dir() / "units.json").read_text(encoding="utf-8"))
    # printed "IU/L" means enzyme units for every analyte that accepts both (same property)
    aliases = {"[IU]/L": "U/L"}
    for entry in data["units"]:
        ucum = entry["ucum"]
        shown = display_unit(ucum)
        assert not re.search(r"[\[\]{}*]|(?<![A-Za-z])u(?=[A-Za-z])", shown), (ucum, shown)
        if shown:
            assert normalise_unit(shown) in (ucum, aliases.get(ucum)), (ucum, shown)
            assert unit_property(normalise_unit(shown)) == unit_property(ucum), ucum


@pytest.mark.parametrize(
    ("ucum", "prop"),
    [
        ("mg/dL", "MCnc"),
        ("g/L", "MCnc"),
        ("mmol/L", "SCnc"),
        ("umol/L", "SCnc"),
        ("U/L", "ACnc"),
        ("[IU]/L", "ACnc"),
        ("ukat/L", "ACnc"),
        ("u[IU]/mL", "ACnc"),
        ("10*3/uL", "NCnc"),
        ("/[HPF]", "NCnc"),
        ("%", "Fr"),
        ("L/L", "Fr"),
        ("mmol/mol", "SFr"),
        ("mg/g", "MMRto"),
        ("mg/mmol", "MSRto"),
        ("ng/mL{FEU}", "MCnc{FEU}"),
        ("ng/mL{DDU}", "MCnc{DDU}"),
        ("mL/min/{1.73_m2}", "ArVRat"),
        ("mL/s/{1.73_m2}", "ArVRat"),
        ("mg/(24.h)", "MRat"),
        ("ng/mL/h", "MCncRat"),
        ("{ratio}", "Ratio"),
        ("furlongs", "furlongs"),  # unknown: its own property, never another unit's
        (None, None),
    ],
)
def test_unit_property(ucum: str | None, prop: str | None) -> None:
    assert unit_property(ucum) == prop
