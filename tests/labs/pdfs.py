"""Small helpers that write real PDFs with fpdf2 for the parser tests."""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF

from tests.labs.corpus import Doc


def table_pdf(
    rows: Sequence[Sequence[tuple[float, str]]],
    *,
    header: Sequence[tuple[float, str]] | None = None,
    preamble: Sequence[str] = (),
    pages: int = 1,
    password: str | None = None,
) -> bytes:
    """Rows of (x, text) cells on ``pages`` pages, optional header row and preamble lines."""
    doc = Doc("A4")
    for _ in range(pages):
        doc.new_page()
        y = 50.0
        for i, line in enumerate(preamble):
            doc.text(40, y, line, 14 if i == 0 else 9, i == 0)
            y += 16
        if header:
            y += 6
            for x, t in header:
                doc.text(x, y, t, 9, True)
            y += 16
        for row in rows:
            for x, t in row:
                doc.text(x, y, t, 9)
            y += 14
    if password is not None:
        doc.pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    return doc.output()


def image_only_pdf() -> bytes:
    """A 'scanned' page: one embedded image and no text layer."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (400, 200), 255)
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 20, 380, 60), outline=0)
    draw.text((30, 30), "Glucose 95 mg/dL", fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=40, y=40, w=400)
    return bytes(pdf.output())


def blank_pdf(pages: int = 1) -> bytes:
    pdf = FPDF(unit="pt", format="A4")
    for _ in range(pages):
        pdf.add_page()
    return bytes(pdf.output())
