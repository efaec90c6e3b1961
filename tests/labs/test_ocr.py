"""Scanned reports: a clear error by default, text recognition on request, never confident."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fpdf import FPDF

from ohvault.labs import NoTextLayer
from ohvault.labs.ocr import MAX_CONFIDENCE, ocr_available
from ohvault.labs.parser import CONFIDENT, parse_pdf

needs_tesseract = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract is not installed (make test installs it)"
)


def scanned_report() -> bytes:
    """A synthetic report printed, then 'scanned': the page as an image in a PDF, no text layer."""
    import pypdfium2

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 8, "Synthetic Community Laboratory", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0, 8, "Patient: Rowan Synthetic   Collected: 2026-04-03", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(6)
    for row in (
        ("Test", "Result", "Units", "Reference Range"),
        ("Glucose", "104", "mg/dL", "70-99"),
        ("Sodium", "141", "mmol/L", "135-145"),
    ):
        for width, text in zip((60, 30, 30, 45), row, strict=True):
            pdf.cell(width, 9, text)
        pdf.ln(9)
    page = pypdfium2.PdfDocument(bytes(pdf.output()))[0]
    image = page.render(scale=200 / 72).to_pil().convert("RGB")
    out = io.BytesIO()
    image.save(out, "PDF", resolution=200)
    return out.getvalue()


def test_scanned_report_without_ocr_says_how_to_read_it() -> None:
    with pytest.raises(NoTextLayer) as info:
        parse_pdf(scanned_report())
    message = str(info.value)
    assert "scanned" in message
    assert ("--ocr" in message) if ocr_available() else ("tesseract" in message.lower())


@needs_tesseract
def test_ocr_reads_results_but_never_presents_them_as_confident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = parse_pdf(scanned_report(), ocr=True)
    assert report.ocr
    by_name = {r.name: r for r in report.results}
    assert by_name["Glucose"].value == 104 and by_name["Glucose"].unit == "mg/dL"
    assert by_name["Sodium"].value == 141
    assert all(r.confidence <= MAX_CONFIDENCE < CONFIDENT for r in report.results)

    from ohvault.cli.main import main

    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_report())
    assert main(["import-pdf", "--dry-run", "--json", "--ocr", str(path)]) == 0
    parsed = json.loads(capsys.readouterr().out)[0]
    assert parsed["ocr"] is True and any(r["name"] == "Glucose" for r in parsed["results"])
