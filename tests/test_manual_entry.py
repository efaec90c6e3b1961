"""Manual entry (CLI and GUI share it): values, units mapped to UCUM, LOINC by unit, flags."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ohvault.errors import BadInput
from ohvault.importing import derived_flag
from ohvault.manual_entry import correct_result, enrich_from_catalog, parse_value, to_ucum
from ohvault.model import Observation, Provenance


def _obs(analyte: str, value: str, unit: str | None = None, **kw: object) -> Observation:
    num, text = parse_value(value)
    return Observation(
        profile_id="p",
        analyte=analyte,
        value_num=num,
        value_text=text,
        unit=unit,
        effective=date(2025, 3, 1),
        provenance=Provenance.MANUAL,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("typed", "num", "text"),
    [
        ("5.4", 5.4, None),
        ("5,4", 5.4, None),
        (" 140 ", 140.0, None),
        ("1.5e3", 1500.0, None),
        ("<0.5", None, "<0.5"),
        ("Negative", None, "Negative"),
        ("1,234,5", None, "1,234,5"),  # not a number: kept as text, never half-read
        ("NaN", None, "NaN"),  # float() reads these words; no measurement is one
        ("inf", None, "inf"),
    ],
)
def test_parse_value(typed: str, num: float | None, text: str | None) -> None:
    assert parse_value(typed) == (num, text)


def test_empty_value_is_a_clear_error() -> None:
    with pytest.raises(BadInput, match="Enter a value"):
        parse_value("   ")


@pytest.mark.parametrize(
    ("typed", "ucum"),
    [
        ("mIU/L", "m[IU]/L"),
        ("µIU/mL", "u[IU]/mL"),
        ("10³/µL", "10*3/uL"),
        ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
        ("mmol/l", "mmol/L"),
        ("u[IU]/mL", "u[IU]/mL"),
        ("furlongs", None),
        ("", None),
        (None, None),
    ],
)
def test_typed_units_map_to_ucum(typed: str | None, ucum: str | None) -> None:
    assert to_ucum(typed) == ucum


def test_typed_unit_is_stored_as_ucum_with_the_code_of_its_property() -> None:
    obs = enrich_from_catalog(_obs("TSH", "2.1", "mIU/L"))
    assert obs.unit == "m[IU]/L" and obs.loinc == "3016-3" and obs.analyte.startswith("Thyroid")
    obs = enrich_from_catalog(_obs("glucose", "5.4", "mmol/l"))
    assert obs.unit == "mmol/L" and obs.loinc == "14749-6"  # molar glucose, not 2345-7
    obs = enrich_from_catalog(_obs("glucose", "97", "mg/dL"))
    assert obs.unit == "mg/dL" and obs.loinc == "2345-7"
    obs = enrich_from_catalog(_obs("HbA1c", "48", "mmol/mol"))
    assert obs.loinc == "59261-8"


def test_no_unit_means_the_canonical_unit() -> None:
    obs = enrich_from_catalog(_obs("Sodium", "140"))
    assert obs.unit == "mmol/L" and obs.loinc == "2951-2"


def test_a_unit_the_analyte_is_not_measured_in_is_refused_with_the_human_units() -> None:
    with pytest.raises(BadInput, match="not a unit for Hemoglobin A1c") as err:
        enrich_from_catalog(_obs("HbA1c", "6.1", "mmol/L"))
    assert "mmol/mol" in err.value.message and "[" not in err.value.message
    with pytest.raises(BadInput, match="not a unit"):
        enrich_from_catalog(_obs("TSH", "2.1", "furlongs"))


def test_implausible_value_is_refused() -> None:
    with pytest.raises(BadInput, match="plausible"):
        enrich_from_catalog(_obs("Glucose", "50000", "mg/dL"))


def test_unknown_test_with_unknown_unit_never_stores_an_invalid_unit_code() -> None:
    obs = enrich_from_catalog(_obs("My sleep score", "82", "points", note="after travel"))
    assert obs.unit is None and obs.loinc is None and obs.analyte == "My sleep score"
    assert obs.note == "after travel\nUnit as typed: points"  # nothing the person typed is lost
    again = enrich_from_catalog(obs)  # editing it again does not repeat the note
    assert again.note == "after travel\nUnit as typed: points"
    obs = enrich_from_catalog(_obs("Resting heart rate", "58", "bpm"))
    assert obs.unit == "/min" and obs.note is None


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "flag"),
    [
        ("Glucose", "7.9", "mmol/L", "H"),
        ("Glucose", "60", "mg/dL", "L"),
        ("Glucose", "90", "mg/dL", None),
        ("TSH", "12", "µIU/mL", "H"),
        ("Urine nitrite", "Positive", None, None),  # a text value: no H/L from a range
    ],
)
def test_manual_entries_are_flagged_like_imported_ones(
    analyte: str, value: str, unit: str | None, flag: str | None
) -> None:
    obs = enrich_from_catalog(_obs(analyte, value, unit))
    assert obs.flag == flag
    if obs.value_num is not None:
        assert obs.flag == derived_flag(obs.value_num, obs.ref_low, obs.ref_high)


def test_a_range_given_by_the_person_wins_over_the_catalog() -> None:
    obs = enrich_from_catalog(_obs("Glucose", "105", "mg/dL", ref_low=70.0, ref_high=110.0))
    assert (obs.ref_low, obs.ref_high, obs.flag) == (70.0, 110.0, None)


# --- a parsed result corrected on the review screen: the same rules ------------------------------


def _parsed(printed: str, value: float | str, unit: str | None, ucum: str | None = None) -> Any:
    from ohvault.labs.parser import ParsedResult

    return ParsedResult(
        name=None, printed_name=printed, loinc=None, value=value,
        value_num=value if isinstance(value, float) else None, comparator=None, unit=unit,
        unit_ucum=ucum, value_canonical=None, unit_canonical=None, ref_low=70.0, ref_high=99.0,
        ref_text=None, flag=None, date=None, page=1, bbox=(0.0, 0.0, 1.0, 1.0), confidence=0.5,
        category=None,
    )  # fmt: skip


def test_corrected_result_is_named_by_the_catalog_and_converted_to_canonical() -> None:
    fixed = correct_result(_parsed("GLU FAST", 5.0, "mmol/l"), "glucose", "5,5", "mmol/l")
    assert (fixed.name, fixed.loinc, fixed.value, fixed.value_num) == (
        "Glucose",
        "14749-6",
        5.5,
        5.5,
    )
    assert fixed.unit == "mmol/l" and fixed.unit_ucum == "mmol/L"
    assert fixed.unit_canonical == "mg/dL" and fixed.value_canonical == pytest.approx(99.1, abs=0.1)
    assert fixed.confidence == 1.0 and fixed.printed_name == "GLU FAST" and fixed.ref_high == 99.0


def test_corrected_result_keeps_the_parsers_reading_of_an_untouched_printed_unit() -> None:
    printed = "mg/dl (fasting)"  # read by the parser; not a unit a person would type
    fixed = correct_result(_parsed("Glucose", 90.0, printed, "mg/dL"), "Glucose", "91", printed)
    assert fixed.unit_ucum == "mg/dL" and fixed.value_canonical == 91.0


def test_corrected_result_refuses_what_typed_entry_refuses() -> None:
    row = _parsed("Glucose", 90.0, "mg/dL", "mg/dL")
    with pytest.raises(BadInput, match="not a unit for Glucose"):
        correct_result(row, "Glucose", "90", "furlongs")
    with pytest.raises(BadInput, match="physiologically plausible"):
        correct_result(row, "Glucose", "90000", "mg/dL")
    with pytest.raises(BadInput, match="name of the test"):
        correct_result(row, "  ", "90", "mg/dL")
    with pytest.raises(BadInput, match="Enter a value"):
        correct_result(row, "Glucose", " ", "mg/dL")


def test_corrected_result_of_a_test_the_catalog_does_not_know_stays_the_persons_own() -> None:
    fixed = correct_result(_parsed("Zonulin", 40.0, "ng/mL", "ng/mL"), "Zonulin", "<30", "ng/mL")
    assert (fixed.name, fixed.loinc, fixed.value, fixed.value_num) == ("Zonulin", None, "<30", None)
    assert fixed.value_canonical is None and fixed.unit_ucum == "ng/mL"


def test_a_number_for_a_named_field_says_which_field_is_wrong() -> None:
    from ohvault.manual_entry import parse_number

    assert parse_number(" 120,5 ", "systolic pressure") == 120.5
    with pytest.raises(BadInput, match="Enter the systolic pressure"):
        parse_number("  ", "systolic pressure")
    for typed in ("high", "nan", "1,234,5"):
        with pytest.raises(BadInput, match="The weight must be a number"):
            parse_number(typed, "weight")


def test_typed_value_is_stored_with_its_canonical_value_like_an_imported_one() -> None:
    obs = enrich_from_catalog(_obs("glucose", "5,5", "mmol/l"))
    assert obs.unit_canonical == "mg/dL" and obs.value_canonical == pytest.approx(99.1, abs=0.1)
    # An edit recomputes it from the new value (a stale copy would be charted otherwise).
    obs.value_num, obs.unit = 6.0, "mmol/L"
    assert enrich_from_catalog(obs).value_canonical == pytest.approx(108.1, abs=0.1)
    assert enrich_from_catalog(_obs("glucose", "<2", "mmol/L")).value_canonical is None
    own = enrich_from_catalog(_obs("Zonulin", "40", "ng/mL", value_canonical=1.0))
    assert own.value_canonical is None and own.unit_canonical is None
