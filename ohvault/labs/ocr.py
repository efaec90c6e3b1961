"""Text recognition for scanned lab reports, through Tesseract (pytesseract).

Used only when a PDF has no text layer and the user asks for it. Every result
read this way is capped below the confidence threshold, so the review screen
shows all of them for checking: OCR misreads digits ("0" for "8", "l" for "1"),
and a wrong number presented as confident is worse than a missing one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from ohvault.labs.errors import CorruptPdf, ParseCancelled
from ohvault.labs.layout import Word

DPI = 300
POINTS_PER_INCH = 72.0
MAX_CONFIDENCE = 0.6  # below the parser's CONFIDENT (0.8): OCR results always get reviewed
HOW_TO_ENABLE = (
    "install Tesseract (e.g. `sudo apt-get install tesseract-ocr`) to let ohvault read it, "
    "or make a searchable copy first with `ocrmypdf in.pdf out.pdf`"
)


def ocr_available() -> bool:
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return True


def page_words(image: Any, scale: float) -> list[Word]:
    """Tesseract's words on one page image, in PDF points (`scale` = points per pixel)."""
    import pytesseract

    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT, config="--psm 6")
    words: list[Word] = []
    for i, text in enumerate(data["text"]):
        text = str(text).strip()
        if not text or float(data["conf"][i]) < 0:
            continue
        left, top = float(data["left"][i]) * scale, float(data["top"][i]) * scale
        width, height = float(data["width"][i]) * scale, float(data["height"][i]) * scale
        words.append(
            Word(text=text, x0=left, x1=left + width, top=top, bottom=top + height, size=height)
        )
    return words


def ocr_pages(
    data: bytes,
    password: str | None,
    on_page: Callable[[int, list[Word], float, float], None],
    should_cancel: Callable[[], bool] | None = None,
) -> None:
    """Render each page with pdfium and hand its recognised words to `on_page`."""
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(data, password=password)
    except Exception as exc:
        raise CorruptPdf("The scanned PDF cannot be rendered for text recognition.") from exc
    try:
        scale = POINTS_PER_INCH / DPI
        for index in range(len(doc)):
            if should_cancel is not None and should_cancel():
                raise ParseCancelled("Reading the lab report was cancelled.")
            page = doc[index]
            try:
                width, height = page.get_size()
                image = page.render(scale=DPI / POINTS_PER_INCH).to_pil()
            finally:
                page.close()
            on_page(index + 1, page_words(image, scale), float(width), float(height))
    finally:
        doc.close()
