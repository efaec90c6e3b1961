"""End-to-end parser tests on real PDFs generated with fpdf2 and read back with pdfplumber."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks.lab_accuracy import TARGETS, evaluate
from ohvault.labs import (
    ParsedReport,
    load_catalog,
    parse_pdf,
)
from ohvault.labs.parser import CONFIDENT
from tests.labs.corpus import LAYOUTS
from tests.labs.pdfs import table_pdf

HEADER = [(40, "Test Name"), (230, "Result"), (300, "Units"), (380, "Reference Range")]
PREAMBLE = [
    "Synthetic Example Laboratory",
    "Patient Name: DOE, JANE      DOB: 14/02/1971      Sex: Female",
    "Collected: 05/03/2024 08:10   Received: 06/03/2024   Reported: 07/03/2024",
]


def _rows(*rows: tuple[str, str, str, str]) -> list[list[tuple[float, str]]]:
    return [[(40, n), (230, v), (300, u), (380, r)] for n, v, u, r in rows]


def test_corpus_is_big_and_varied(corpus_dir: Path) -> None:
    truths = [json.loads(p.read_text(encoding="utf-8")) for p in corpus_dir.glob("*.json")]
    assert len(truths) >= 30
    assert len({t["layout"] for t in truths}) >= 8 == len(LAYOUTS) - 2
    assert any(t["pages"] > 1 for t in truths)
    # earlier columns of cumulative reports are history, not results of the report
    assert sum(len(t["results"]) for t in truths) > 800


def test_corpus_accuracy_targets(corpus_dir: Path) -> None:
    result = evaluate(corpus_dir)
    o = result["overall"]
    detail = "\n".join(result["errors"][:40])
    assert o["results"]["f1"] >= TARGETS["results_f1"], detail
    assert o["ranges"]["f1"] >= TARGETS["ranges_f1"], detail
    assert o["dates"]["f1"] >= TARGETS["dates_f1"], detail
    assert result["confident_wrong"] == [], detail
    for layout, metrics in result["per_layout"].items():
        assert metrics["results"]["f1"] >= 0.95, (layout, detail)
    found = result["unknown_tests_reported_unmatched"]
    assert found["found"] >= 0.9 * found["expected"]


def test_basic_table_and_metadata() -> None:
    data = table_pdf(
        _rows(
            ("Glucose", "105 H", "mg/dL", "70 - 99"),
            ("Hemoglobin A1c", "48", "mmol/mol", "20 - 42"),
            ("Sodium", "140", "mmol/L", "135-145"),
            ("C-Reactive Protein", "<0.5", "mg/L", "< 5.0"),
        ),
        header=HEADER,
        preamble=PREAMBLE,
    )
    rep = parse_pdf(data)
    assert isinstance(rep, ParsedReport)
    assert rep.collection_date == date(2024, 3, 5)
    assert rep.received_date == date(2024, 3, 6)
    assert rep.reported_date == date(2024, 3, 7)
    assert rep.patient_birth_date == date(1971, 2, 14)
    assert rep.patient_name == "DOE, JANE"
    assert rep.lab_name == "Synthetic Example Laboratory"
    by = {r.loinc: r for r in rep.results}
    glu = by["2345-7"]
    assert glu.value == 105.0 and glu.flag == "H" and glu.unit_ucum == "mg/dL"
    assert (glu.ref_low, glu.ref_high) == (70, 99)
    assert glu.confidence >= CONFIDENT and glu.page == 1
    x0, top, x1, bottom = glu.bbox
    assert 30 < x0 < x1 < 595 and 0 < top < bottom < 842
    a1c = by["59261-8"]  # HbA1c in mmol/mol: the IFCC code, not the % one (4548-4)
    assert a1c.value_canonical == pytest.approx(48 / 10.929 + 2.15)
    assert a1c.unit_canonical == "%"
    crp = by["1988-5"]
    assert crp.value == "<0.5" and crp.value_num == 0.5 and crp.comparator == "<"
    js = glu.to_json()
    assert set(js) >= {
        "name",
        "printed_name",
        "loinc",
        "value",
        "unit",
        "unit_ucum",
        "value_canonical",
        "unit_canonical",
        "ref_low",
        "ref_high",
        "ref_text",
        "flag",
        "date",
        "page",
        "bbox",
        "confidence",
    }
    assert js["date"] == "2024-03-05"
    full = rep.to_json()
    json.dumps(full)
    assert full["collection_date"] == "2024-03-05" and len(full["results"]) == 4


def test_unknown_rows_are_reported_not_dropped() -> None:
    data = table_pdf(
        _rows(("Quorvalin", "45.1", "ng/mL", "< 55"), ("Potassium", "4.1", "mmol/L", "3.5-5.1")),
        header=HEADER,
        preamble=PREAMBLE,
    )
    rep = parse_pdf(data)
    # structure first, catalog second: the unknown test is a result without a name or code,
    # its printed name, value, unit and range kept, and it is never stored without review
    unknown, potassium = rep.results
    assert potassium.loinc == "2823-3" and potassium.confidence >= CONFIDENT
    assert unknown.name is None and unknown.loinc is None
    assert unknown.printed_name == "Quorvalin" and unknown.value == 45.1
    assert unknown.unit == "ng/mL" and unknown.ref_high == 55 and unknown.page == 1
    assert unknown.confidence < CONFIDENT
    assert unknown.to_json()["name"] is None


def test_implausible_value_is_not_confident() -> None:
    data = table_pdf(
        _rows(("Glucose", "9950", "mg/dL", "70-99"), ("Potassium", "41", "mmol/L", "3.5-5.1")),
        header=HEADER,
        preamble=PREAMBLE,
    )
    rep = parse_pdf(data)
    assert len(rep.results) == 2
    assert all(r.confidence < CONFIDENT for r in rep.results)


def test_unknown_unit_is_not_confident() -> None:
    data = table_pdf(
        _rows(("Glucose", "95", "furlongs", "70-99")), header=HEADER, preamble=PREAMBLE
    )
    (r,) = parse_pdf(data).results
    assert r.unit == "furlongs" and r.unit_ucum is None and r.confidence < CONFIDENT


def test_ambiguous_name_resolved_by_unit() -> None:
    data = table_pdf(
        _rows(("Neutrophils", "61.2", "%", "40-75"), ("Neutrophils", "4.1", "x10^3/uL", "1.8-7.5")),
        header=HEADER,
        preamble=PREAMBLE,
    )
    rep = parse_pdf(data)
    assert [r.loinc for r in rep.results] == ["770-8", "751-8"]


def test_multi_page_repeated_header_and_progress() -> None:
    data = table_pdf(
        _rows(("Sodium", "140", "mmol/L", "135-145"), ("Chloride", "101", "mmol/L", "98-107")),
        header=HEADER,
        preamble=PREAMBLE,
        pages=3,
    )
    seen: list[tuple[int, int]] = []
    rep = parse_pdf(data, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert rep.pages == 3
    # the same two results printed on three pages are two results, kept where first printed
    assert [(r.loinc, r.page) for r in rep.results] == [("2951-2", 1), ("2075-0", 1)]


def test_catalog_is_shared() -> None:
    assert load_catalog() is load_catalog()
