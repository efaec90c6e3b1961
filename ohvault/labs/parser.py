"""Lab report PDF -> :class:`ParsedReport`.

Pipeline (per page, pages are released as soon as they are read):

1. pdfplumber words with positions and font size;
2. words -> lines (vertical clustering) -> cells (horizontal gaps);
3. header rows define columns (:mod:`ohvault.labs.layout`); without a header the row is read by
   token classification alone (name, value, flag, unit, range in any whitespace layout):
   :mod:`ohvault.labs.rows`;
4. each cell is classified (value / flag / unit / range, :mod:`ohvault.labs.values`), the test
   name is matched against the catalog, units are normalised to UCUM and converted to the
   analyte's canonical unit, and a confidence is computed: :mod:`ohvault.labs.resolve`;
5. anything that looks like a result but is not recognised becomes an :class:`UnmatchedRow`.

Dates, the patient and the laboratory come from :mod:`ohvault.labs.metadata`; the result types
are in :mod:`ohvault.labs.results` (re-exported here); the word lists the parser uses are data
(``resources/labs/words.json``, :mod:`ohvault.labs.words`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ohvault.labs.catalog import Catalog, load_catalog
from ohvault.labs.errors import (
    CorruptPdf,
    LabParseError,
    NotAPdf,
    NoTextLayer,
    ParseCancelled,
    PdfPasswordIncorrect,
    PdfPasswordRequired,
    ReportTooLarge,
)
from ohvault.labs.layout import Word, words_from_pdfplumber
from ohvault.labs.metadata import read_metadata
from ohvault.labs.resolve import Resolver, dedupe_results
from ohvault.labs.results import (
    CONFIDENT,
    FUZZY_CONFIDENCE,
    UNCERTAIN_COLUMN_CONFIDENCE,
    UNMAPPED_CONFIDENCE,
    ParsedReport,
    ParsedResult,
    UnmatchedRow,
)
from ohvault.labs.rows import RowReader

__all__ = [
    "CONFIDENT",
    "FUZZY_CONFIDENCE",
    "UNCERTAIN_COLUMN_CONFIDENCE",
    "UNMAPPED_CONFIDENCE",
    "ParsedReport",
    "ParsedResult",
    "UnmatchedRow",
    "dedupe_results",
    "parse_pdf",
]


# ============================================================================ entry point
def parse_pdf(
    source: Path | bytes,
    *,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    max_pages: int = 1000,
    catalog: Catalog | None = None,
    ocr: bool = False,
) -> ParsedReport:
    """Parse a lab report PDF. Raises only :class:`LabParseError` subclasses on bad input.

    `ocr=True` reads a scanned report (no text layer) with Tesseract; see labs/ocr.py.
    """
    data = _read_source(source)
    cat = catalog or load_catalog()
    import pdfplumber  # imported lazily: keeps `import ohvault.labs` cheap

    try:
        pdf = pdfplumber.open(io.BytesIO(data), password=password or "", raise_unicode_errors=False)
    except Exception as exc:
        raise _open_error(exc, password) from exc
    try:
        try:
            pages = pdf.pages
            total = len(pages)
        except Exception as exc:
            raise CorruptPdf(
                f"The PDF is damaged and its pages cannot be read ({_brief(exc)})."
            ) from exc
        if total == 0:
            raise CorruptPdf("The PDF has no pages.")
        if total > max_pages:
            raise ReportTooLarge(
                f"The PDF has {total} pages; lab reports are at most {max_pages} pages. "
                "Split the file or raise the limit."
            )
        state = _DocState(cat)
        saw_images = False
        for index, page in enumerate(pages):
            if should_cancel is not None and should_cancel():
                raise ParseCancelled("Reading the lab report was cancelled.")
            try:
                raw = page.extract_words(
                    x_tolerance=1.5,
                    y_tolerance=2,
                    keep_blank_chars=False,
                    use_text_flow=False,
                    extra_attrs=["size", "fontname"],
                )
                if not raw and not saw_images:
                    saw_images = bool(page.images)
                width = float(page.width)
                height = float(page.height)
            except LabParseError:
                raise
            except Exception as exc:
                raise CorruptPdf(
                    f"Page {index + 1} of the PDF is damaged and cannot be read ({_brief(exc)})."
                ) from exc
            finally:
                page.close()
            state.add_page(index + 1, words_from_pdfplumber(raw), width, height)
            if progress is not None:
                progress(index + 1, total)
        if state.word_count == 0:
            if not saw_images:
                raise NoTextLayer(
                    "This PDF contains no text, so no lab results can be read from it."
                )
            from ohvault.labs import ocr as ocr_mod

            if not ocr:
                hint = (
                    "read it with text recognition (OCR by Tesseract): `ohvault import-pdf --ocr`, or Yes in the app"
                    if ocr_mod.ocr_available()
                    else ocr_mod.HOW_TO_ENABLE
                )
                raise NoTextLayer(
                    f"This PDF has no text layer: it looks like a scanned image. To import it, {hint}."
                )
            if not ocr_mod.ocr_available():
                raise NoTextLayer(f"Text recognition is not available: {ocr_mod.HOW_TO_ENABLE}.")
            state = _DocState(cat)

            def on_page(page_no: int, words: list[Word], width: float, height: float) -> None:
                state.add_page(page_no, words, width, height)
                if progress is not None:
                    progress(page_no, total)

            numbers = ocr_mod.ocr_pages(data, password, on_page, should_cancel)
            if state.word_count == 0:
                raise NoTextLayer("Text recognition found no text in this scanned PDF.")
            report = state.finish(total, hashlib.sha256(data).hexdigest())
            settled = ocr_mod.settle(report.results, cat, CONFIDENT, numbers)
            return replace(report, results=settled, ocr=True)
        return state.finish(total, hashlib.sha256(data).hexdigest())
    except LabParseError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise CorruptPdf(f"The PDF is malformed ({type(exc).__name__}).") from exc
    except Exception as exc:
        raise CorruptPdf(f"The PDF is damaged and cannot be read ({_brief(exc)}).") from exc
    finally:
        with contextlib.suppress(Exception):  # a broken document must not mask the real error
            pdf.close()


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _read_source(source: Path | bytes) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        where = "The data"
    else:
        path = Path(source)
        where = f"{path.name}"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotAPdf(f"{path} does not exist.") from exc
        except IsADirectoryError as exc:
            raise NotAPdf(f"{path} is a folder, not a PDF file.") from exc
        except OSError as exc:
            raise NotAPdf(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if not data:
        raise NotAPdf(f"{where} is empty (0 bytes), not a PDF.")
    if b"%PDF-" not in data[:1024]:
        raise NotAPdf(f"{where} is not a PDF file (it does not start with the %PDF header).")
    if b"%%EOF" not in data[-2048:] and b"%%EOF" not in data:
        raise CorruptPdf(f"{where} is truncated: the end of the PDF is missing.")
    return data


def _open_error(exc: Exception, password: str | None) -> LabParseError:
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    name = type(inner).__name__
    if "Password" in name or ("Encrypt" in name and "password" in str(inner).lower()):
        if password:
            return PdfPasswordIncorrect("The password does not open this PDF.")
        return PdfPasswordRequired("This PDF is password-protected; enter its password to read it.")
    if "Encryption" in name or "CryptFilter" in name:
        return CorruptPdf(f"The PDF uses an encryption method that cannot be read ({name}).")
    return CorruptPdf(f"The PDF is damaged and cannot be opened ({_brief(inner)}).")


# ============================================================================ per-document state
class _DocState(RowReader):
    """One document being read: its rows (:class:`RowReader`) and, at the end, the report."""

    def finish(self, pages: int, sha: str) -> ParsedReport:
        meta = read_metadata(self.meta_lines, self.first_page_lines, self.order)
        resolver = Resolver(self.cat, decimal_comma=self.decimal_comma, sex=self.sex)
        results: list[ParsedResult] = []
        for row in self.rows:
            results.extend(resolver.resolve(row, meta.collected))
        results = dedupe_results(results)
        return ParsedReport(
            collection_date=meta.collected,
            reported_date=meta.reported,
            received_date=meta.received,
            lab_name=meta.lab,
            patient_name=meta.name,
            patient_birth_date=meta.dob,
            results=results,
            unmatched=resolver.unmatched,
            pages=pages,
            sha256=sha,
            patient_sex=self.sex,
        )
