"""Bad input: every failure is a LabParseError subclass with a human message, never a hang."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ohvault.labs import (
    CorruptPdf,
    LabParseError,
    NotAPdf,
    NoTextLayer,
    ParseCancelled,
    PdfPasswordIncorrect,
    PdfPasswordRequired,
    ReportTooLarge,
    parse_pdf,
)
from tests.labs.pdfs import blank_pdf, image_only_pdf, table_pdf

ROWS = [[(40, "Glucose"), (230, "95"), (300, "mg/dL"), (380, "70-99")]]
HEADER = [(40, "Test"), (230, "Result"), (300, "Units"), (380, "Reference Interval")]


@pytest.fixture(scope="module")
def good_pdf() -> bytes:
    return table_pdf(ROWS, header=HEADER, preamble=["Example Lab", "Collected: 05/03/2024"])


def test_zero_bytes(tmp_path: Path) -> None:
    p = tmp_path / "empty.pdf"
    p.write_bytes(b"")
    with pytest.raises(NotAPdf, match="empty"):
        parse_pdf(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotAPdf, match="does not exist"):
        parse_pdf(tmp_path / "nope.pdf")


def test_not_a_pdf(tmp_path: Path) -> None:
    p = tmp_path / "report.pdf"
    p.write_bytes(b"PK\x03\x04 this is really a zip file" * 10)
    with pytest.raises(NotAPdf, match="not a PDF"):
        parse_pdf(p)


def test_truncated(good_pdf: bytes) -> None:
    with pytest.raises(CorruptPdf):
        parse_pdf(good_pdf[: len(good_pdf) // 2])


def test_garbage_after_header() -> None:
    with pytest.raises(LabParseError):
        parse_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")


def test_scanned_image_only() -> None:
    with pytest.raises(NoTextLayer, match="OCR") as info:
        parse_pdf(image_only_pdf())
    assert "Tesseract" in str(info.value)


def test_blank_pdf() -> None:
    with pytest.raises(NoTextLayer):
        parse_pdf(blank_pdf())


def test_password_protected() -> None:
    data = table_pdf(ROWS, header=HEADER, preamble=["Example Lab"], password="s3cret")
    with pytest.raises(PdfPasswordRequired, match="password"):
        parse_pdf(data)
    with pytest.raises(PdfPasswordIncorrect):
        parse_pdf(data, password="wrong")
    rep = parse_pdf(data, password="s3cret")
    assert [r.loinc for r in rep.results] == ["2345-7"]


def test_too_many_pages() -> None:
    with pytest.raises(ReportTooLarge, match="pages"):
        parse_pdf(blank_pdf(5), max_pages=3)


def test_cancel(good_pdf: bytes) -> None:
    data = table_pdf(ROWS, header=HEADER, pages=4)
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ParseCancelled):
        parse_pdf(data, should_cancel=cancel)
    assert len(calls) == 3


def test_errors_have_messages(tmp_path: Path) -> None:
    for exc_type in (NotAPdf, CorruptPdf, NoTextLayer, PdfPasswordRequired, ReportTooLarge):
        assert issubclass(exc_type, LabParseError)
    p = tmp_path / "x.pdf"
    p.write_bytes(b"hello")
    with pytest.raises(LabParseError) as info:
        parse_pdf(p)
    assert len(str(info.value)) > 10


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(data=st.data())
def test_fuzz_mutated_pdf_bytes(data: st.DataObject) -> None:
    base = _fuzz_base()
    buf = bytearray(base)
    n = data.draw(st.integers(min_value=1, max_value=12), label="mutations")
    for _ in range(n):
        kind = data.draw(st.sampled_from(["flip", "cut", "dup", "zero"]), label="kind")
        pos = data.draw(st.integers(min_value=0, max_value=len(buf) - 1), label="pos")
        if kind == "flip":
            buf[pos] = data.draw(st.integers(0, 255), label="byte")
        elif kind == "cut":
            end = min(len(buf), pos + data.draw(st.integers(1, 400), label="len"))
            del buf[pos:end]
        elif kind == "dup":
            end = min(len(buf), pos + data.draw(st.integers(1, 200), label="len"))
            buf[pos:pos] = buf[pos:end]
        else:
            end = min(len(buf), pos + data.draw(st.integers(1, 64), label="len"))
            buf[pos:end] = bytes(end - pos)
        if len(buf) < 16:
            break
    start = time.monotonic()
    with contextlib.suppress(LabParseError):
        parse_pdf(bytes(buf))
    assert time.monotonic() - start < 20


_BASE: list[bytes] = []


def _fuzz_base() -> bytes:
    if not _BASE:
        from fpdf import FPDF

        pdf = FPDF(unit="pt", format="A4")
        pdf.set_compression(False)  # mutations then hit the content stream and xref, not zlib
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        for i, (n, v, u, r) in enumerate(
            [
                ("Test", "Result", "Units", "Range"),
                ("Glucose", "95", "mg/dL", "70-99"),
                ("Sodium", "140", "mmol/L", "135-145"),
            ]
        ):
            for x, t in ((40, n), (230, v), (300, u), (380, r)):
                pdf.text(x, 60 + 14 * i, t)
        _BASE.append(bytes(pdf.output()))
    return _BASE[0]


@pytest.mark.slow
def test_500_pages_bounded_and_cancellable() -> None:
    from tests.labs.corpus import big_report

    data = big_report(500)
    seen: list[int] = []
    with pytest.raises(ParseCancelled):
        parse_pdf(data, progress=lambda d, t: seen.append(t), should_cancel=lambda: len(seen) >= 25)
    assert seen and seen[0] == 500 and len(seen) == 25
