"""Failure patterns of real laboratories' reports, reproduced in synthetic PDFs (tests/labs/patterns.py).

Each report must give exactly its expected results: every result found once, nothing read from
comments, category tables, scales, addresses or prose, an unknown test returned without a name
for review, and no confident result that is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest

from ohvault.labs import parse_pdf
from ohvault.labs.layout import words_from_pdfplumber
from ohvault.labs.parser import CONFIDENT, ParsedResult, dedupe_results
from ohvault.labs.values import is_qualitative_value
from tests.labs.patterns import BUILDERS, Expected
from tests.labs.pdfs import table_pdf


def _name(s: str | None) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", s or "").casefold())


def _unit(u: str | None) -> str:
    return re.sub(r"\s+", "", (u or "").replace("µ", "u").replace("mc", "u").lower())


def _value(v: object) -> object:
    if isinstance(v, int | float):
        return round(float(v), 6)
    try:
        return round(float(str(v)), 6)
    except ValueError:
        return str(v).lower().replace(" ", "")


def _matches(e: Expected, r: ParsedResult) -> bool:
    a, b = _name(e.printed_name), _name(r.printed_name)
    if not (a == b or (min(len(a), len(b)) >= 3 and (a in b or b in a))):
        return False
    if _value(e.value) != _value(r.value):
        return False
    qualitative = isinstance(e.value, str) and not re.search(r"\d", e.value)
    return qualitative or _unit(e.unit) == _unit(r.unit)


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_pattern_report_gives_exactly_its_results(layout: str) -> None:
    data, expected = BUILDERS[layout]()
    results = parse_pdf(data).results
    unmatched = list(results)
    missed = []
    for e in expected:
        hit = next((r for r in unmatched if _matches(e, r)), None)
        if hit is None:
            missed.append(e)
        else:
            unmatched.remove(hit)
    extra = [(r.printed_name, r.value, r.unit, r.page) for r in unmatched]
    assert not missed and not extra, f"missed {missed}, extra {extra}"


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_pattern_report_confident_results_are_right(layout: str) -> None:
    data, expected = BUILDERS[layout]()
    for r in parse_pdf(data).results:
        if r.confidence >= CONFIDENT:
            assert r.name is not None
            assert any(_matches(e, r) for e in expected), r


def test_unknown_tests_are_results_without_a_name() -> None:
    data, _ = BUILDERS["portal_print"]()
    (zonulin,) = [r for r in parse_pdf(data).results if r.printed_name == "QUORVALIN"]
    assert zonulin.name is None and zonulin.loinc is None
    assert (zonulin.value, zonulin.unit, zonulin.ref_high) == (45.1, "ng/mL", 55)
    assert zonulin.confidence < CONFIDENT
    data, _ = BUILDERS["monospace_classic"]()
    # a monospace row with a flag word and a range, known to the catalog or not
    (small,) = [r for r in parse_pdf(data).results if r.printed_name == "Small LDL-P"]
    assert small.flag == "H" and small.ref_high == 527 and small.unit == "nmol/L"
    assert small.name is not None or small.confidence < CONFIDENT


def test_reference_range_given_in_the_comment() -> None:
    data, _ = BUILDERS["portal_print"]()
    insulin = next(r for r in parse_pdf(data).results if r.printed_name == "INSULIN")
    assert (insulin.unit, insulin.ref_low, insulin.ref_high) == ("uIU/mL", None, 18.4)
    data, _ = BUILDERS["monospace_classic"]()
    dht = next(r for r in parse_pdf(data).results if r.printed_name == "Dihydrotestosterone")
    assert (dht.ref_low, dht.ref_high, dht.flag) == (30, 85, "L")


def test_portal_units_flags_and_repeats() -> None:
    data, _ = BUILDERS["portal_print"]()
    rep = parse_pdf(data)
    by = {r.printed_name: r for r in rep.results}
    assert by["% SATURATION"].flag == "L"  # Out Of Range column
    assert by["EGFR"].unit_ucum is not None and by["EGFR"].ref_low == 60  # "> OR = 60"
    assert by["IRON BINDING CAPACITY"].unit == "mcg/dL"  # "(calc)" is not part of the unit
    # the appendix repeats every result: each is returned once, from the first print
    assert all(r.page == 1 for r in rep.results)
    assert rep.lab_name == "Example Clinical Network"


def test_dashboard_reads_name_over_status_line_and_no_lab_name() -> None:
    data, _ = BUILDERS["dashboard"]()
    rep = parse_pdf(data)
    assert [r.printed_name for r in rep.results].count("Ferritin") == 1
    rf = next(r for r in rep.results if r.printed_name.startswith("Rheumatoid"))
    assert rf.comparator == "<" and rf.value_num == 10
    ph = next(r for r in rep.results if r.printed_name.startswith("pH"))
    assert ph.comparator == "<=" and ph.value_num == 5.0
    assert rep.lab_name is None  # "Your Health" is a heading, not a laboratory


def test_lab_name_is_never_a_heading_or_the_patient() -> None:
    data = table_pdf(
        [[(40, "Glucose"), (230, "95"), (300, "mg/dL"), (380, "70-99")]],
        header=[(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")],
        preamble=[
            "DIAGNOSTIC REPORT",
            "Patient Name: DOE, JANE      DOB: 14/02/1971      Sex: Female",
            "Collected: 05/03/2024 08:10",
            "Riverbend Medical Laboratory, 12 Sample Lane",
        ],
    )
    rep = parse_pdf(data)
    assert rep.patient_name == "DOE, JANE"
    assert rep.lab_name == "Riverbend Medical Laboratory"


@pytest.mark.parametrize(
    "text",
    [
        "Negative",
        "NONE SEEN",
        "RH(D) POSITIVE",
        "O Rh negative",
        "Pale yellow",
        "Slightly hazy",
        "Weakly positive",
        "Trace",
        "Pattern B",
        "G1",
        "Not detected",
        "Non-reactive",
        "2+",
    ],
)
def test_qualitative_vocabulary(text: str) -> None:
    assert is_qualitative_value(text)


@pytest.mark.parametrize(
    "text",
    [
        "fetal",
        "with",
        "the",
        "See note",
        "SEE NOTE:",
        "Photometry",
        "Calculated",
        "In Range",
        "(Pattern A)->",
        "<-Small",
        "Desirable",
        "Years",
        "moderate,",
    ],
)
def test_words_outside_the_vocabulary_are_not_values(text: str) -> None:
    assert not is_qualitative_value(text)


def test_private_use_glyphs_separate_words() -> None:
    raw = [{"text": "Omega\ue0923\ue092DHA", "x0": 1, "x1": 50, "top": 1, "bottom": 9, "size": 9}]
    (word,) = words_from_pdfplumber(raw)
    assert word.text == "Omega 3 DHA"


def _result(
    name: str, value: float, unit: str | None, loinc: str | None, page: int
) -> ParsedResult:
    return ParsedResult(
        name=name if loinc else None,
        printed_name=name,
        loinc=loinc,
        value=value,
        value_num=value,
        comparator=None,
        unit=unit,
        unit_ucum=unit,
        value_canonical=None,
        unit_canonical=None,
        ref_low=None,
        ref_high=None,
        ref_text=None,
        flag=None,
        date=date(2025, 3, 4),
        page=page,
        bbox=(0, 0, 1, 1),
        confidence=0.9 if loinc else 0.5,
        category=None,
    )


def test_dedupe_keeps_one_result_per_test_value_unit_and_date() -> None:
    results = [
        _result("Glucose", 88, "mg/dL", "2345-7", 1),
        _result("GLUCOSE", 88, None, "2345-7", 5),  # appendix without a unit column
        _result("Glucose", 88, "mmol/L", "2345-7", 5),  # another unit: another result
        _result("Zonulin", 45.1, "ng/mL", None, 1),
        _result("ZONULIN", 45.1, "ng/mL", None, 6),
        _result("Zonulin", 46.0, "ng/mL", None, 6),  # another value
    ]
    kept = dedupe_results(results)
    assert [(r.printed_name, r.value, r.unit, r.page) for r in kept] == [
        ("Glucose", 88, "mg/dL", 1),
        ("Glucose", 88, "mmol/L", 5),
        ("Zonulin", 45.1, "ng/mL", 1),
        ("Zonulin", 46.0, "ng/mL", 6),
    ]


CUMULATIVE_HEADER = [
    (40, "Test"),
    (190, "Units"),
    (260, "Reference"),
    (340, "2024-03-05"),
    (420, "2023-11-20"),
]


def _cumulative(preamble: list[str], rows: list[tuple[str, str, str, str, str]]) -> bytes:
    header = CUMULATIVE_HEADER
    cells = [
        [(40, n), (190, u), (260, r), (340, today), (420, older)] for n, u, r, today, older in rows
    ]
    return table_pdf(cells, header=header, preamble=preamble)


def test_cumulative_table_gives_todays_column_only() -> None:
    data = _cumulative(
        ["Lakeside Example Laboratory", "Collected: 2024-03-05"],
        [
            ("Glucose", "mg/dL", "70-99", "104", "92"),
            ("Sodium", "mmol/L", "135-145", "", "139"),  # not measured today: history only
            ("Potassium", "mmol/L", "3.5-5.1", "4.4", ""),
            # censored values in every column are results, not a category table
            ("C-Reactive Protein", "mg/L", "<5.0", "<0.5", "<0.5"),
        ],
    )
    rep = parse_pdf(data)
    assert rep.collection_date == date(2024, 3, 5)
    got = [(r.printed_name, r.value, r.date) for r in rep.results]
    today = date(2024, 3, 5)
    assert got == [
        ("Glucose", 104.0, today),
        ("Potassium", 4.4, today),
        ("C-Reactive Protein", "<0.5", today),
    ]
    assert all(r.confidence >= CONFIDENT for r in rep.results)


def test_cumulative_table_without_a_matching_date_is_never_confident() -> None:
    # the collection date is not one of the column dates: which column is today's is unknown
    data = _cumulative(
        ["Lakeside Example Laboratory", "Collected: 2024-04-01"],
        [
            ("Glucose", "mg/dL", "70-99", "104", "92"),
            ("Potassium", "mmol/L", "3.5-5.1", "4.4", "4.0"),
        ],
    )
    rep = parse_pdf(data)
    assert rep.results
    assert all(r.confidence < CONFIDENT for r in rep.results)
    # never an older column under the collection date
    assert all(r.date in (date(2024, 3, 5), date(2023, 11, 20)) for r in rep.results)


def test_misspelt_name_of_a_result_row_is_mapped_but_never_confident() -> None:
    header = [(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")]
    data = table_pdf(
        [
            [(40, "Hemoglobln"), (230, "13.5"), (300, "g/dL"), (380, "12.0-16.0")],  # OCR "i"->"l"
            [(40, "Free T5"), (230, "1.2"), (300, "ng/dL"), (380, "0.8-1.8")],  # a code differs
        ],
        header=header,
        preamble=["Example Scan Laboratory", "Collected: 05/03/2024"],
    )
    hb, other = parse_pdf(data).results
    assert hb.name == "Hemoglobin" and hb.loinc is not None
    assert hb.confidence < CONFIDENT and any("approximately" in n for n in hb.notes)
    # short words and codes must agree: "T5" is not read as T4 or T3
    assert other.name is None and other.printed_name == "Free T5"


def test_bold_value_outside_its_range_is_flagged() -> None:
    from tests.labs.corpus import Doc

    doc = Doc("A4")
    doc.new_page()
    doc.text(40, 40, "Example Path Labs Ltd", 12, True)
    doc.text(40, 56, "Collected: 05/03/2024", 8)
    for x, label in [
        (40, "Test Name"),
        (260, "Results"),
        (380, "Units"),
        (470, "Bio. Ref. Interval"),
    ]:
        doc.text(x, 80, label, 8, True)
    rows = [
        ("Potassium", "5.79", True, "mEq/L", "3.50 - 5.10"),  # abnormal: bold value only
        ("Chloride", "106.00", False, "mEq/L", "98.00 - 107.00"),
        ("Hemoglobin", "11.2", True, "g/dL", "12.0 - 15.0"),
        ("Sodium", "140.00", True, "mEq/L", "136.00 - 146.00"),  # bold but within its range
    ]
    y = 100.0
    for name, value, bold, unit, ref in rows:
        doc.text(40, y, name, 8)
        doc.text(260, y, value, 8, bold)
        doc.text(380, y, unit, 8)
        doc.text(470, y, ref, 8)
        y += 14
    flags = {r.printed_name: r.flag for r in parse_pdf(doc.output()).results}
    assert flags == {"Potassium": "H", "Chloride": None, "Hemoglobin": "L", "Sodium": None}


def test_a_name_matched_by_its_first_words_must_not_drop_meaning() -> None:
    header = [(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")]
    rows = [
        ("Triglycerides A", "95", "mg/dL", "<150"),  # footnote letter after the name
        # invented words after a known name: another test, not the known one
        ("Magnesium, Quorvo", "4.9", "mg/dL", "4.0-6.4"),
        ("Ferritin Quorvo Index", "1643", "ng/mL", "<1138"),
        (
            "Albumin Q",
            "82",
            "%",
            "60-140",
        ),  # a letter after the name, but the unit is not albumin's
    ]
    data = table_pdf(
        [[(40, n), (230, v), (300, u), (380, r)] for n, v, u, r in rows],
        header=header,
        preamble=["Example Reference Laboratory", "Collected: 05/03/2024"],
    )
    names = {r.printed_name: r.name for r in parse_pdf(data).results}
    assert names == {
        "Triglycerides A": "Triglycerides",
        "Magnesium, Quorvo": None,
        "Ferritin Quorvo Index": None,
        "Albumin Q": None,
    }


def test_a_name_followed_by_its_abbreviation_or_a_footnote_letter_is_confident() -> None:
    """What follows a known name is checked, and a check that passes is worth trusting: the
    test's own abbreviation is a second match of the same test; a footnote letter only counts
    with a unit the test is measured in (a letter can make another test: "Protein S")."""
    header = [(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")]
    rows = [
        ("Sex Hormone Binding Globulin SHBG", "45", "nmol/L", "18-144"),
        ("Alanine Transaminase ALT", "25", "U/L", "6-29"),
        ("Methylmalonic Acid, Serum B", "104", "nmol/L", "55-335"),
        ("Triglycerides C", "95", "", "<150"),  # no unit: the letter cannot be checked
        # the abbreviation and what follows it name the test: free PSA, not PSA
        ("Prostate Specific Antigen PSA, Free", "0.4", "ng/mL", ""),
        ("Prostate Specific Antigen PSA, Total", "1.3", "ng/mL", "<4.0"),
        ("Methylmalonic Acid MMA, Quorvo", "30", "nmol/L", ""),  # an unknown test
    ]
    data = table_pdf(
        [[(40, n), (230, v), (300, u), (380, r)] for n, v, u, r in rows],
        header=header,
        preamble=["Example Reference Laboratory", "Collected: 05/03/2024"],
    )
    by = {r.printed_name: r for r in parse_pdf(data).results}
    shbg = by["Sex Hormone Binding Globulin SHBG"]
    assert (shbg.name, shbg.value, shbg.confidence >= CONFIDENT) == (
        "Sex hormone binding globulin", 45.0, True,
    )  # fmt: skip
    assert any("abbreviation" in n for n in shbg.notes)
    alt = by["Alanine Transaminase ALT"]
    assert alt.name == "Alanine aminotransferase" and alt.confidence >= CONFIDENT
    mma = by["Methylmalonic Acid, Serum B"]
    assert mma.name == "Methylmalonic acid" and mma.confidence >= CONFIDENT
    tg = by["Triglycerides C"]
    assert tg.name == "Triglycerides" and tg.confidence < CONFIDENT
    free = by["Prostate Specific Antigen PSA, Free"]
    assert (free.name, free.loinc, free.confidence >= CONFIDENT) == (
        "Prostate specific antigen, free", "10886-0", True,
    )  # fmt: skip
    total = by["Prostate Specific Antigen PSA, Total"]
    assert (total.name, total.loinc) == ("Prostate specific antigen", "2857-1")
    assert by["Methylmalonic Acid MMA, Quorvo"].name is None


def test_dihydrotestosterone_in_ng_per_dl_is_converted() -> None:
    data = table_pdf(
        [[(40, "Dihydrotestosterone"), (230, "11"), (300, "ng/dL"), (380, "16-79")]],
        header=[(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")],
        preamble=["Example Reference Laboratory", "Collected: 05/03/2024"],
    )
    [dht] = parse_pdf(data).results
    assert (dht.name, dht.unit_ucum, dht.value_canonical, dht.unit_canonical) == (
        "Dihydrotestosterone", "ng/dL", 110.0, "pg/mL",
    )  # fmt: skip
    assert dht.confidence >= CONFIDENT and (dht.ref_low, dht.ref_high) == (16.0, 79.0)


def test_a_sentence_with_a_test_name_and_a_value_is_never_confident() -> None:
    data = table_pdf(
        [],
        preamble=[
            "Example Reference Laboratory",
            "Collected: 05/03/2024",
            "Glucose 95 mg/dL 70-99",
            "Vitamin B12 200 pg/mL is the lower limit of the healthy range for adults",
        ],
    )
    by = {r.printed_name: r for r in parse_pdf(data).results}
    assert by["Glucose"].confidence >= CONFIDENT
    assert all(r.confidence < CONFIDENT for n, r in by.items() if n != "Glucose")


def test_flag_between_value_and_range_and_temperature_after_the_unit() -> None:
    header = [
        (40, "Vizsgálat"),
        (230, "Eredmény"),
        (290, "Minősítés"),
        (350, "Referencia"),
        (450, "Mértékegység"),
    ]
    rows = [
        ("Neutrofil granulocita %", "49.9", "-", "50.0 - 70.0", "%"),
        ("Immunglobulin E (totál)", "130.0", "+", "< 87.0", "kU/L"),
        ("GPT (ALAT)", "25", "", "< 41", "U/L a 37°"),
    ]
    data = table_pdf(
        [[(40, n), (230, v), (290, f), (350, r), (450, u)] for n, v, f, r, u in rows],
        header=header,
        preamble=["Példa Labor Kft.", "Mintavétel: 2024.04.15"],
    )
    by = {r.printed_name: r for r in parse_pdf(data).results}
    neut = by["Neutrofil granulocita %"]
    assert (neut.value, neut.flag, neut.ref_low, neut.ref_high) == (49.9, "L", 50.0, 70.0)
    ige = by["Immunglobulin E (totál)"]
    assert (ige.value, ige.flag, ige.ref_high) == (130.0, "H", 87.0)
    alt = by["GPT (ALAT)"]
    assert alt.unit == "U/L a 37°" and alt.unit_ucum == "U/L" and alt.confidence >= CONFIDENT


def test_panel_heading_on_the_line_with_its_dates_sets_the_section() -> None:
    from tests.labs.corpus import Doc

    doc = Doc("Letter")
    doc.new_page()
    doc.text(42, 40, "Example Clinical Network", 12, True)
    for x, label in [
        (42, "Test"),
        (264, "In Range"),
        (352, "Out Of Range"),
        (450, "Reference Range"),
    ]:
        doc.text(x, 80, label, 8.5, True)
    y = 100.0
    for heading, rows in [
        ("URINALYSIS, COMPLETE", [("OCCULT BLOOD", "NEGATIVE", "NEGATIVE")]),
        ("GLUCOSE", [("GLUCOSE", "88", "65-99 mg/dL")]),
    ]:
        doc.text(42, y, heading, 8.5, True)
        doc.text(200, y, "Collected: 03/04/2025 08:10 AM", 7)
        y += 12
        for name, value, ref in rows:
            doc.text(46, y, name, 8.5)
            doc.text(306, y, value, 8.5, align="R")
            doc.text(450, y, ref, 8.5)
            y += 12
    by = {r.printed_name: r for r in parse_pdf(doc.output()).results}
    assert by["OCCULT BLOOD"].category == "urinalysis"  # not the stool test
    assert by["GLUCOSE"].category != "urinalysis" and by["GLUCOSE"].unit == "mg/dL"


def test_advanced_lipids_keep_particles_apart_from_cholesterol() -> None:
    data, _ = BUILDERS["advanced_lipids"]()
    by = {r.printed_name: r for r in parse_pdf(data).results}
    assert by["VLDL-P"].name is None and by["sdLDL-P"].name is None
    assert by["LDL SMALL"].name == "Small LDL particles (ion mobility)"
    assert by["Large HDL-P"].name == "Large HDL particle number"
    ratio = by["CHOL/HDLC RATIO"]
    assert (ratio.name, ratio.unit, ratio.loinc) == ("Cholesterol/HDL ratio", None, "9830-1")
    assert ratio.confidence >= CONFIDENT
