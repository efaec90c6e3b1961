"""Token classification: numbers, censored values, flags, ranges, dates, units."""

from __future__ import annotations

from datetime import date

import pytest

from ohvault.labs.units import normalise_unit
from ohvault.labs.values import (
    find_dates,
    is_qualitative_value,
    parse_flag,
    parse_range,
    parse_value,
)


@pytest.mark.parametrize(
    ("text", "comma", "num", "cmp", "shown"),
    [
        ("5.2", False, 5.2, None, "5.2"),
        ("5,2", True, 5.2, None, "5.2"),
        ("1,234.5", False, 1234.5, None, "1234.5"),
        ("1.234,5", True, 1234.5, None, "1234.5"),
        ("7,500", False, 7500.0, None, "7500"),
        ("2,50,000", False, 250000.0, None, "250000"),
        ("<0.5", False, 0.5, "<", "<0.5"),
        ("<0,35", True, 0.35, "<", "<0.35"),
        (">60", False, 60.0, ">", ">60"),
        ("≤ 5", False, 5.0, "<=", "<=5"),
        (">=90", False, 90.0, ">=", ">=90"),
        ("250", False, 250.0, None, "250"),
    ],
)
def test_parse_value(text: str, comma: bool, num: float, cmp: str | None, shown: str) -> None:
    v = parse_value(text, comma)
    assert v is not None
    assert v.num == pytest.approx(num)
    assert v.comparator == cmp
    assert v.text == shown


@pytest.mark.parametrize("text", ["01", "H", "mg/dL", "03/05/2024", "abc", ""])
def test_not_values(text: str) -> None:
    assert parse_value(text) is None


def test_glued_flags() -> None:
    v = parse_value("105H")
    assert v is not None and v.num == 105 and v.flag == "H"
    v = parse_value("6.2*")
    assert v is not None and v.flag == "A"


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("H", "H"),
        ("L", "L"),
        ("HH", "HH"),
        ("LL", "LL"),
        ("A", "A"),
        ("*", "A"),
        ("High", "H"),
        ("Low", "L"),
        ("Abnormal", "A"),
        ("alacsony", "L"),
        ("magas", "H"),
        ("(H)", "H"),
        ("xyz", None),
    ],
)
def test_flags(text: str, flag: str | None) -> None:
    assert parse_flag(text) == flag


@pytest.mark.parametrize(
    "text",
    [
        "Negative",
        "Positive",
        "Not detected",
        "Trace",
        "1+",
        "Pale yellow",
        "Non-reactive",
        "Negatív",
    ],
)
def test_qualitative(text: str) -> None:
    assert is_qualitative_value(text)


@pytest.mark.parametrize(
    ("text", "comma", "sex", "low", "high"),
    [
        ("3.5-5.0", False, None, 3.5, 5.0),
        ("3.5 – 5.0", False, None, 3.5, 5.0),
        ("3,5 - 5,1", True, None, 3.5, 5.1),
        ("< 200", False, None, None, 200),
        (">= 40", False, None, 40, None),
        ("> OR = 60", False, None, 60, None),
        ("(133 - 146)", False, None, 133, 146),
        ("[0,5 - 1,2]", True, None, 0.5, 1.2),
        ("Desirable: < 200 | Borderline high: 200 - 239 | High: >= 240", False, None, None, 200),
        ("Male: 13.0 - 17.0 | Female: 12.0 - 15.0", False, "F", 12.0, 15.0),
        ("M: 13.5-17.5 F: 12.0-15.5", False, "M", 13.5, 17.5),
        ("65-99 mg/dL", False, None, 65, 99),
        ("up to 40", False, None, None, 40),
    ],
)
def test_ranges(
    text: str, comma: bool, sex: str | None, low: float | None, high: float | None
) -> None:
    r = parse_range(text, comma, sex)
    assert r is not None
    assert (r.low, r.high) == (low, high)


def test_text_range() -> None:
    r = parse_range("Negative")
    assert r is not None and r.low is None and r.high is None and r.text == "Negative"


def test_dates() -> None:
    assert find_dates("Collected: 03/05/2024 0815", "MDY")[0][1] == date(2024, 3, 5)
    assert find_dates("Collected: 03/05/2024 0815", "DMY")[0][1] == date(2024, 5, 3)
    assert find_dates("13/05/2024", "MDY")[0][1] == date(2024, 5, 13)  # unambiguous wins
    assert find_dates("Mintavétel ideje: 2024.03.05. 07:45")[0][1] == date(2024, 3, 5)
    assert find_dates("05/Mar/2024 8:15:00AM")[0][1] == date(2024, 3, 5)
    assert find_dates("Entnahme: 05.03.2024")[0][1] == date(2024, 3, 5)
    assert find_dates("March 5, 2024")[0][1] == date(2024, 3, 5)
    assert find_dates("2024. március 5.")[0][1] == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("printed", "ucum"),
    [
        ("x10^3/uL", "10*3/uL"),
        ("10*3/µL", "10*3/uL"),
        ("K/uL", "10*3/uL"),
        ("thou/mm3", "10*3/uL"),
        ("10³/µL", "10*3/uL"),
        ("10^9/L", "10*9/L"),
        ("Giga/L", "10*9/L"),
        ("G/L", "10*9/L"),
        ("g/L", "g/L"),
        ("Tera/L", "10*12/L"),
        ("mill/mm3", "10*6/uL"),
        ("mcg/dL", "ug/dL"),
        ("µmol/l", "umol/L"),
        ("umol/L", "umol/L"),
        ("mIU/L", "m[IU]/L"),
        ("µIU/mL", "u[IU]/mL"),
        ("mcIU/mL", "u[IU]/mL"),
        ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
        ("mg/dl", "mg/dL"),
        ("mEq/L", "meq/L"),
        ("/hpf", "/[HPF]"),
        ("sec", "s"),
        ("(mg/dL)", "mg/dL"),
        ("furlongs", None),
    ],
)
def test_normalise_unit(printed: str, ucum: str | None) -> None:
    assert normalise_unit(printed) == ucum
