"""Lab report PDF -> :class:`ParsedReport`.

Pipeline (per page, pages are released as soon as they are read):

1. pdfplumber words with positions and font size;
2. words -> lines (vertical clustering) -> cells (horizontal gaps);
3. header rows define columns (:mod:`ohvault.labs.layout`); without a header the row is read by
   token classification alone (name, value, flag, unit, range in any whitespace layout);
4. each cell is classified (value / flag / unit / range, :mod:`ohvault.labs.values`), the test
   name is matched against the catalog, units are normalised to UCUM and converted to the
   analyte's canonical unit, and a confidence is computed;
5. anything that looks like a result but is not recognised becomes an :class:`UnmatchedRow`.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from ohvault.labs.catalog import Analyte, Catalog, NameMatch, load_catalog, normalise_name
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
from ohvault.labs.layout import (
    RESULT_ROLES,
    Cell,
    ColumnModel,
    Line,
    Span,
    Word,
    detect_header,
    group_lines,
    split_line,
    words_from_pdfplumber,
)
from ohvault.labs.units import normalise_unit
from ohvault.labs.values import (
    RefRange,
    Value,
    find_dates,
    is_date_token,
    is_flag_token,
    is_non_result,
    is_qualitative_value,
    looks_like_range,
    numeric_date_evidence,
    parse_flag,
    parse_range,
    parse_value,
)

CONFIDENT = 0.8
# A row that is structurally a result but whose name is not in the catalog is returned for
# review, never stored without it.
UNMAPPED_CONFIDENCE = 0.5
# A value from a table of several dated result columns whose current column cannot be told.
UNCERTAIN_COLUMN_CONFIDENCE = 0.6
# A printed name read as a catalog name it is spelt almost like (OCR misspellings).
FUZZY_CONFIDENCE = 0.7
_PAREN = re.compile(r"\([^()]*\)")
_UNITLESS = {"", "1", "{ratio}", "{INR}", "[pH]", "{index}"}


# ============================================================================ public result types
@dataclass(frozen=True)
class ParsedResult:
    name: str | None
    printed_name: str
    loinc: str | None
    value: float | str
    value_num: float | None
    comparator: str | None
    unit: str | None
    unit_ucum: str | None
    value_canonical: float | None
    unit_canonical: str | None
    ref_low: float | None
    ref_high: float | None
    ref_text: str | None
    flag: str | None
    date: date | None
    page: int
    bbox: tuple[float, float, float, float]
    confidence: float
    category: str | None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "printed_name": self.printed_name,
            "loinc": self.loinc,
            "value": self.value,
            "unit": self.unit,
            "unit_ucum": self.unit_ucum,
            "value_canonical": self.value_canonical,
            "unit_canonical": self.unit_canonical,
            "ref_low": self.ref_low,
            "ref_high": self.ref_high,
            "ref_text": self.ref_text,
            "flag": self.flag,
            "date": self.date.isoformat() if self.date else None,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class UnmatchedRow:
    text: str
    page: int
    bbox: tuple[float, float, float, float]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParsedReport:
    collection_date: date | None
    reported_date: date | None
    received_date: date | None
    lab_name: str | None
    patient_name: str | None
    patient_birth_date: date | None
    results: list[ParsedResult]
    unmatched: list[UnmatchedRow]
    pages: int
    sha256: str
    patient_sex: str | None = None
    ocr: bool = False  # read from page images by text recognition; every result needs review

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "collection_date": iso(self.collection_date),
            "reported_date": iso(self.reported_date),
            "received_date": iso(self.received_date),
            "lab_name": self.lab_name,
            "patient_name": self.patient_name,
            "patient_birth_date": iso(self.patient_birth_date),
            "patient_sex": self.patient_sex,
            "pages": self.pages,
            "sha256": self.sha256,
            "ocr": self.ocr,
            "results": [r.to_json() for r in self.results],
            "unmatched": [u.to_json() for u in self.unmatched],
        }


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


# ============================================================================ metadata labels
_WORDS: dict[str, Any] = json.loads(
    resources.files("ohvault.labs").joinpath("words.json").read_text(encoding="utf-8")
)
_META_LABELS: dict[str, list[str]] = _WORDS["meta_labels"]
_LABEL_INDEX: dict[tuple[str, ...], str] = {}
for _kind, _labels in _META_LABELS.items():
    for _lab in _labels:
        _LABEL_INDEX.setdefault(tuple(_lab.split()), _kind)
_MAX_LABEL = max(len(k) for k in _LABEL_INDEX)
_SEX_WORDS = {
    "m": "M",
    "male": "M",
    "man": "M",
    "ferfi": "M",
    "mannlich": "M",
    "masculino": "M",
    "homem": "M",
    "masc": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "no": "F",
    "weiblich": "F",
    "w": "F",
    "feminino": "F",
    "mulher": "F",
    "fem": "F",
}
_US_HINT = re.compile(r"\b(?:[A-Z]{2} \d{5}(?:-\d{4})?|Reference Interval|Out Of Range|In Range)\b")
_FOOTER = re.compile(
    r"^(?:page|seite|oldal|pagina|página)\s*\d+|\d+\s*(?:/|of|von|de)\s*\d+\s*$|^-+\s*\d+\s*-+$",
    re.IGNORECASE,
)


@dataclass
class _Label:
    kind: str
    start: int
    end: int  # exclusive word index
    colon: bool


@functools.lru_cache(maxsize=65536)
def _word_key(text: str) -> str:
    """normalise_name of one word; the same words recur on every page, so it is cached."""
    return normalise_name(text)


def _find_labels(line: Line) -> list[_Label]:
    words = line.words
    keys = [_word_key(w.text) for w in words]
    out: list[_Label] = []
    i = 0
    while i < len(words):
        found = None
        for length in range(min(_MAX_LABEL, len(words) - i), 0, -1):
            parts: list[str] = []
            for k in keys[i : i + length]:
                parts.extend(k.split())
            if not parts:
                continue
            kind = _LABEL_INDEX.get(tuple(parts))
            if kind is None:
                continue
            last = words[i + length - 1].text
            nxt = words[i + length].text if i + length < len(words) else ""
            colon = last.endswith(":") or nxt.startswith(":") or last.endswith(":-")
            found = _Label(kind, i, i + length, colon)
            break
        if found is not None and (
            found.colon or found.kind in ("collected", "received", "reported", "dob")
        ):
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


# ============================================================================ per-document state
@dataclass
class _Row:
    """A result row under construction."""

    printed_name: str
    name_cells: list[Cell]
    values: list[tuple[Value | None, str | None, Cell | None, date | None, str | None]]
    unit: str | None
    range_text: str
    flag: str | None
    loinc: str | None
    section: str | None
    page: int
    line: Line
    headerless: bool
    extra_cells: list[Cell] = field(default_factory=list)
    stray: bool = False  # words in a value column that are neither value, flag nor unit
    column_dates: tuple[date, ...] = ()  # dates heading the result columns (cumulative tables)
    emphasised: bool = False  # the value alone is set in bold: abnormal on some reports


class _DocState:
    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog
        self.word_count = 0
        self.models: list[ColumnModel] | None = None
        self.section: str | None = None
        self.rows: list[_Row] = []
        self.unmatched: list[UnmatchedRow] = []
        self.meta_lines: list[Line] = []
        self.first_page_lines: list[Line] = []
        self.decimal_votes = [0, 0]  # [point, comma]
        self.order: str | None = None
        self.sex: str | None = None
        self.last_row: _Row | None = None
        self.pending_name: tuple[str, list[Cell]] | None = None
        # the previous line read without a header, and the row made from it (if any)
        self.prev_free: list[tuple[Line, _Row | None]] = []
        self.ref_row: _Row | None = None  # the last row, while it has no reference range
        self.ref_wait = False  # a "Reference Range:" line was read; its range is on the next
        self.ref_lines: list[str] = []
        self._fuzzy_keys: tuple[dict[str, Analyte], list[str]] | None = None

    # ------------------------------------------------------------------ pages
    def add_page(self, page_no: int, words: list[Any], width: float, height: float = 0.0) -> None:
        self.word_count += len(words)
        lines = group_lines(words, page_no)
        if not lines:
            return
        first_new_row = len(self.rows)
        self._read_page(page_no, lines, width, height)
        for row in self.rows[first_new_row:]:
            _compact(row)

    def _read_page(self, page_no: int, lines: list[Line], width: float, height: float) -> None:
        self._vote_decimal(lines)
        if page_no == 1:
            self.first_page_lines = lines
            text = "\n".join(ln.text for ln in lines)
            dmy, mdy = numeric_date_evidence(text)
            if dmy != mdy:
                self.order = "DMY" if dmy > mdy else "MDY"
            else:
                # US Letter paper (8.5 x 11 in) is itself a hint: the US prints month first.
                letter = abs(width - 612) < 3 and abs(height - 792) < 3
                self.order = "MDY" if letter or _US_HINT.search(text) else "DMY"
            self._scan_sex(lines)
        if page_no <= 2:
            self.meta_lines.extend(lines)
        x_max = width
        segments: list[tuple[list[ColumnModel] | None, list[Line]]] = [(self.models, [])]
        header_seen = False
        skip_next = False
        for k, ln in enumerate(lines):
            if skip_next:
                skip_next = False
                continue
            models = detect_header(ln, 0.0, x_max, self.order or "DMY")
            nxt = lines[k + 1] if k + 1 < len(lines) else None
            if (
                nxt is not None
                and nxt.top - ln.bottom < 0.8 * max(ln.size, nxt.size)
                and not _field_line(ln)
            ):
                # header labels wrapped over two lines ("Bio. Ref." above "Interval")
                stacked = detect_header(_stack_lines(ln, nxt), 0.0, x_max, self.order or "DMY")
                if stacked is not None and (
                    models is None or _span_count(stacked) > _span_count(models)
                ):
                    models, skip_next = stacked, True
            if models is not None:
                header_seen = True
                segments.append((models, []))
                continue
            segments[-1][1].append(ln)
        for seg_index, (models, seg_lines) in enumerate(segments):
            if models is not None:
                self.models = models
            in_preamble = seg_index == 0 and header_seen
            if models is None or in_preamble:
                for ln in seg_lines:
                    self._headerless_line(ln, preamble=in_preamble)
                continue
            streams: list[list[tuple[ColumnModel, Line]]] = [[] for _ in models]
            for ln in seg_lines:
                for model, part in split_line(ln, models):
                    streams[models.index(model)].append((model, part))
            for stream in streams:
                self.last_row = None
                for model, part in stream:
                    self._table_line(part, model)
            self.last_row = None

    def _vote_decimal(self, lines: list[Line]) -> None:
        for ln in lines:
            for w in ln.words:
                t = w.text
                if is_date_token(t) or len(t) > 12:
                    continue
                if re.search(r"\d,\d{1,2}(?!\d)", t) and not re.search(r"\d\.\d", t):
                    self.decimal_votes[1] += 1
                elif re.search(r"\d\.\d{1,2}(?!\d)", t) and not re.search(r"\d,\d", t):
                    self.decimal_votes[0] += 1

    @property
    def decimal_comma(self) -> bool:
        return self.decimal_votes[1] > self.decimal_votes[0]

    def _scan_sex(self, lines: list[Line]) -> None:
        for ln in lines[:40]:
            for lab in _find_labels(ln):
                if lab.kind != "sex":
                    continue
                for w in ln.words[lab.end : lab.end + 6]:
                    for tok in re.split(r"[/,;:\s]+", w.text):
                        s = _SEX_WORDS.get(normalise_name(tok))
                        if s:
                            self.sex = s
                            return

    # ------------------------------------------------------------------ lines
    def _is_meta_line(self, line: Line) -> bool:
        labels = _find_labels(line)
        return any(lab.colon or lab.kind in ("collected", "received", "reported") for lab in labels)

    def _heading(self, text: str) -> bool:
        cat = self.cat.category_for_heading(text)
        if cat is None and "," in text:
            # "URINALYSIS, COMPLETE W/REFLEX TO CULTURE": the panel is named before the comma
            cat = self.cat.category_for_heading(text.split(",", 1)[0])
        if cat is not None:
            self.section = cat
            return True
        return False

    def _table_line(self, line: Line, model: ColumnModel) -> None:
        if _FOOTER.search(line.text.strip()):
            return
        if self._is_meta_line(line):
            # a test or panel heading with its dates on the same line ("URINALYSIS, COMPLETE
            # Collected: ..."): the heading still names the section of the rows below
            first = line.cells()[0]
            if not _find_labels(Line(first.words, line.page)) and not self._heading(first.text):
                self.section = None  # a new test block that names no known section
            return
        if self._reference_comment(line):
            return
        first_result = model.result_spans[0] if model.result_spans else None
        for cell in line.cells():
            if (
                len(cell.words) >= 5
                and first_result is not None
                and cell.x0 < first_result.x0
                and cell.x1 > first_result.x1 + 10
            ):
                return  # a footnote or interpretation paragraph running across the columns
        ordered: list[tuple[Span, Cell]] = []
        for cell in _cells_for_model(line, model):
            span = model.column_of(cell)
            if ordered and span is ordered[-1][0] and span.role != "name":
                # words of one column split by a wide gap ("NONE   SEEN", "41   L") are one cell
                ordered[-1] = (span, Cell(ordered[-1][1].words + cell.words))
                continue
            if (
                ordered
                and span.role == "range"
                and ordered[-1][0].role in RESULT_ROLES
                and ordered[-1][1].text in ("<", ">", "<=", ">=", "≤", "≥")
            ):
                # a range's comparator that fell over the column edge: "> | OR = 60"
                ordered[-1] = (span, Cell(ordered[-1][1].words + cell.words))
                continue
            if (
                len(ordered) >= 2
                and span.role in RESULT_ROLES
                and ordered[-1][0].role not in RESULT_ROLES
                and is_qualitative_value(f"{ordered[-1][1].text} {cell.text}")
            ):
                # a right-aligned text value reaching back over the column edge ("RH(D) POSITIVE")
                ordered[-1] = (span, Cell(ordered[-1][1].words + cell.words))
                continue
            ordered.append((span, cell))
        by_role: dict[str, list[tuple[Span, Cell]]] = {}
        for span, cell in ordered:
            by_role.setdefault(span.role, []).append((span, cell))
        name_cells = [c for _, c in by_role.get("name", [])]
        name_text = " ".join(c.text for c in name_cells).strip()
        value_entries: list[
            tuple[Value | None, str | None, Cell | None, date | None, str | None]
        ] = []
        unit: str | None = None
        flag: str | None = None
        leftovers: list[str] = []
        for role in ("result", "in", "out", "date"):
            for span, cell in by_role.get(role, []):
                if (
                    role != "date"
                    and any(v is not None or q for v, q, *_ in value_entries)
                    and parse_flag(cell.text) is not None
                ):
                    # a flag printed in its own unlabelled column next to the value
                    # ("56,3  +", "5.9  ↑"): "+" here is a flag, not a second (qualitative) result
                    flag = flag or parse_flag(cell.text)
                    continue
                parsed = _classify_result_cell(cell.text, self.decimal_comma)
                if parsed is None:
                    continue
                value, qual, cflag, cunit, rest = parsed
                if role == "out" and cflag is None and (value is not None or qual):
                    cflag = "A"
                value_entries.append((value, qual, cell, span.date, cflag))
                if cflag and flag is None and role != "date":
                    flag = cflag
                if cunit and unit is None:
                    unit = cunit
                leftovers.extend(rest)
        for _, cell in by_role.get("flag", []):
            f = parse_flag(cell.text)
            if f is not None and flag is None:
                flag = f
        for _, cell in by_role.get("unit", []):
            unit = cell.text if unit is None else unit
        range_cells = [c for _, c in by_role.get("range", [])]
        range_text = " ".join(c.text for c in range_cells)
        loinc = None
        for _, cell in by_role.get("loinc", []):
            m = re.search(r"\b\d{1,7}-\d\b", cell.text)
            if m:
                loinc = m.group(0)
        has_value = any(v is not None or q for v, q, *_ in value_entries)
        if not name_text and not has_value:
            last = self.last_row
            if (
                last is not None
                and last.unit
                and range_text
                and not last.range_text.count(" | ")
                and _continues_unit(last.unit, range_text)
            ):
                last.unit += range_text.strip()
                return
            if range_text and self.last_row is not None and not by_role.get("unit"):
                self.last_row.range_text += " | " + range_text
                self.last_row.extra_cells.extend(range_cells)
            return
        if name_text and not has_value:
            if value_entries or by_role.get("result") or by_role.get("in") or by_role.get("out"):
                # something sits in the result column but it is not a value
                self._row_from_parts(
                    line, name_text, name_cells, value_entries, unit, range_text, flag, loinc, False
                )
                return
            last = self.last_row
            if (
                last is not None
                and last.unit
                and range_text
                and last.page == line.page
                and _continues_unit(last.unit, range_text)
            ):
                # a wrapped row: the rest of the name and of the unit on the next line
                # ("WHITE BLOOD CELL ... 3.8-10.8 Thousand" / "COUNT ... /uL")
                last.unit += range_text.strip()
                self._name_only(line, name_text, name_cells)
                return
            if (
                range_text
                and not by_role.get("unit")
                and self.last_row is not None
                and not self._heading(name_text)
            ):
                # "Male: 13.5-17.5" style continuation carrying a label in the name column
                self.last_row.range_text += " | " + name_text + " " + range_text
                return
            self._name_only(line, name_text, name_cells)
            return
        if _category_row(line):
            return  # a risk-category / reference table row ("<200  N/A  >=200  mg/dL")
        if not name_text and self.pending_name is not None:
            name_text, name_cells = self.pending_name
        stray = any(any(ch.isalpha() for ch in t) and parse_flag(t) is None for t in leftovers)
        value_words = [w for v, q, c, *_ in value_entries if c is not None for w in c.words]
        name_words = [w for c in name_cells for w in c.words]
        emphasised = bool(
            value_words
            and all(w.bold for w in value_words)
            and name_words
            and not all(w.bold for w in name_words)
        )
        self._row_from_parts(
            line,
            name_text,
            name_cells,
            value_entries,
            unit,
            range_text,
            flag,
            loinc,
            False,
            stray=stray,
            column_dates=tuple(s.date for s in model.spans if s.date is not None),
            emphasised=emphasised,
        )

    def _reference_comment(self, line: Line) -> bool:
        """A reference range given in the comment under a row that printed none.

        ``Reference Range <75`` on one line, or ``Reference Range:`` followed by
        ``Adult Male: 30 - 85`` / ``Optimal <1.0`` on the next; only for the row just read.
        """
        row = self.ref_row
        if row is None or row.page != line.page:
            return False
        text = line.text.strip()
        m = _REF_COMMENT.match(text)
        if m is not None:
            rest = m.group("rest").strip()
            if rest and self._has_bounds(rest):
                row.range_text = rest
                self.ref_row = None
            else:
                self.ref_wait = not rest
                self.ref_lines = []
            return True
        if self.ref_wait:
            # "<18y: Not Established" / "Adult Males: 0.54 - 2.58": labelled lines, up to three
            if len(text.split()) <= 6 and (":" in text or self._has_bounds(text)):
                self.ref_lines.append(text)
                if self._has_bounds(text):
                    row.range_text = " | ".join(self.ref_lines)
                    self.ref_row, self.ref_wait = None, False
                elif len(self.ref_lines) >= 3:
                    self.ref_row, self.ref_wait = None, False
                return True
            self.ref_row, self.ref_wait = None, False
        return False

    def _has_bounds(self, text: str) -> bool:
        ref = parse_range(text, self.decimal_comma, self.sex)
        return ref is not None and (ref.low is not None or ref.high is not None)

    def _name_only(self, line: Line, text: str, cells: list[Cell]) -> None:
        if self._heading(text):
            self.pending_name = None
            self.last_row = None
            return
        last = self.last_row
        if (
            last is not None
            and last.line.page == line.page
            and line.top - last.line.bottom < 1.6 * line.size
        ):
            joined = f"{last.printed_name} {text}"
            alone = self.cat.match_name(last.printed_name, last.unit, section=last.section)
            together = self.cat.match_name(joined, last.unit, section=last.section)
            # a name that ends in a comma, hyphen or slash is cut: its rest is on this line
            # ("TESTOSTERONE," / "FREE"), when the line starts where the name starts
            cut = (
                last.printed_name.rstrip().endswith((",", "-", "/", "&"))
                and bool(last.name_cells)
                and abs(cells[0].x0 - last.name_cells[0].x0) < 3
                and _plausible_printed_name(joined)
            )
            if cut or (
                (alone is None or alone.score < 0.9)
                and together is not None
                and together.score >= 0.9
            ):
                last.printed_name = joined
                last.name_cells.extend(cells)
                return
        self.pending_name = (text, cells)

    def _headerless_line(self, line: Line, *, preamble: bool) -> None:
        text = line.text.strip()
        if preamble or _FOOTER.search(text) or self._is_meta_line(line):
            return
        rows_before = len(self.rows)
        prev = self._line_above(line)
        self._free_line(line, text, prev)
        made = self.rows[-1] if len(self.rows) > rows_before else None
        self.prev_free = [*self.prev_free[-3:], (line, made)]

    def _line_above(self, line: Line) -> tuple[Line, _Row | None] | None:
        """The last free line above that starts at this line's left edge.

        Lines off to the side in between (a "NEW" badge at the right margin) are skipped.
        """
        for above, row in reversed(self.prev_free):
            if above.page != line.page:
                return None
            if abs(above.x0 - line.x0) <= 3:
                return above, row
            if above.x0 < line.x1 + 20:
                return None
        return None

    def _free_line(self, line: Line, text: str, prev: tuple[Line, _Row | None] | None) -> None:
        if self._reference_comment(line):
            return
        tokens = line.words
        # leading name tokens: up to the first token that is a value
        idx = None
        for i, w in enumerate(tokens):
            if i == 0:
                continue
            if (
                parse_value(w.text, self.decimal_comma) is not None
                and not is_date_token(w.text)
                and not _is_name_number(tokens, i)
            ) or (
                i > 0 and is_qualitative_value(w.text) and len(w.text) > 1 and w.text[0].isupper()
            ):
                idx = i
                break
        if idx is None:
            if len(tokens) <= 8 and not any(ch.isdigit() for ch in text):
                self._name_only(line, text, line.cells())
            return
        if idx > 1 and tokens[idx - 1].text in ("<", ">", "<=", ">=", "≤", "≥"):
            idx -= 1  # a comparator printed apart from its number: "< 10"
        elif idx > 3 and [w.text.casefold() for w in tokens[idx - 3 : idx]] in (
            ["<", "or", "="],
            [">", "or", "="],
        ):
            idx -= 3  # "< Or = 5.0"
        name_words = tokens[:idx]
        name_text = " ".join(w.text for w in name_words)
        name_cells = [Cell(list(name_words))]
        above = self._name_above(line, name_words, prev)
        if above is not None:
            # dashboard cards: the name on one line, "In Range  VALUE UNIT" on the next
            name_text, name_cells = above
        rest_words = tokens[idx:]
        rest_cells = _cells_of(rest_words, line)
        value_entries: list[
            tuple[Value | None, str | None, Cell | None, date | None, str | None]
        ] = []
        unit = None
        flag = None
        range_parts: list[str] = []
        stray_words: list[str] = []
        first = True
        for cell in rest_cells:
            ctext = cell.text
            if not first and is_flag_token(ctext, strict=True):
                flag = flag or parse_flag(ctext)
                continue
            if not first and looks_like_range(ctext, self.decimal_comma):
                unit_in, rng = _split_unit_tail(ctext)
                range_parts.append(rng)
                unit = unit or unit_in
                continue
            parsed = _classify_result_cell(ctext, self.decimal_comma, allow_range_tail=True)
            if parsed is None:
                continue
            value, qual, cflag, cunit, rest = parsed
            if first:
                value_entries.append((value, qual, cell, None, cflag))
                first = False
            flag = flag or cflag
            unit = unit or cunit
            rest_text = " ".join(rest)
            if rest_text and looks_like_range(rest_text, self.decimal_comma):
                range_parts.append(rest_text)
            elif any(any(ch.isalpha() for ch in t) for t in rest):
                stray_words.extend(rest)
        if not value_entries:
            return
        if above is not None and value_entries[0][0] is not None:
            # the words after the value on a status line are its unit ("% by wt", "Years")
            k = 0
            while k < len(rest_words) and rest_words[k].text.casefold() in _COMPARATOR_WORDS:
                k += 1
            tail = " ".join(w.text for w in rest_words[k + 1 :])
            if tail and len(tail.split()) <= 3 and re.match(r"[A-Za-zµμ%/]", tail):
                unit = tail
                stray_words = []
        match = self.cat.match_name(name_text)
        v0 = value_entries[0][0]
        if match is None and above is None and not (v0 is not None and (unit or range_parts)):
            return  # prose that happens to contain a number
        self._row_from_parts(
            line,
            name_text,
            name_cells,
            value_entries,
            unit,
            " | ".join(range_parts),
            flag,
            None,
            True,
            stray=any(
                parse_flag(t) is None and normalise_unit(t) is None and not _ANNOTATION.match(t)
                for t in stray_words
            ),
        )

    def _name_above(
        self, line: Line, label: list[Word], prev: tuple[Line, _Row | None] | None
    ) -> tuple[str, list[Cell]] | None:
        """The test name printed on the line above when this line starts with a status label.

        A short label that is no test name ("In Range", "Out of Range", "Normal", "Younger")
        before the value, with the line directly above starting at the same left edge, means the
        name is that line (``Rheumatoid Factor (RF)`` / ``In Range · < 10 IU/mL``). A row read from
        that line by mistake (``Omega 6 / 3 Ratio`` looks like a value) is withdrawn.
        """
        if prev is None or not label or len(label) > 3:
            return None
        if not all(w.text.isalpha() for w in label):
            return None
        label_text = " ".join(w.text for w in label)
        if (
            self.cat.match_name(label_text) is not None
            or normalise_name(label_text) in self.cat.shared_names()
        ):
            return None
        above, row = prev
        if above.page != line.page or abs(above.x0 - line.x0) > 3:
            return None
        if not 0 <= line.top - above.bottom < 1.5 * line.size or above.size < line.size - 0.5:
            return None
        if above.size < line.size + 0.5 and normalise_name(label_text) not in _STATUS_LABELS:
            return None  # same type: a heading over a row, not a name over its status line
        if row is not None and above.size < line.size + 0.5:
            return None  # two result rows of one table, not a name over its status line
        name = above.text.strip()
        if not _plausible_printed_name(name) and self.cat.match_name(name) is None:
            return None
        if row is not None and row in self.rows:
            self.rows.remove(row)
        self.pending_name = None
        return name, [Cell(list(above.words))]

    def _row_from_parts(
        self,
        line: Line,
        name_text: str,
        name_cells: list[Cell],
        values: list[tuple[Value | None, str | None, Cell | None, date | None, str | None]],
        unit: str | None,
        range_text: str,
        flag: str | None,
        loinc: str | None,
        headerless: bool,
        *,
        stray: bool = False,
        column_dates: tuple[date, ...] = (),
        emphasised: bool = False,
    ) -> None:
        self.pending_name = None
        if range_text and not unit:
            unit_in, rng = _split_unit_tail(range_text)
            if unit_in:
                unit, range_text = unit_in, rng
            elif normalise_unit(range_text) is not None and not looks_like_range(range_text):
                # the range cell holds only the unit (portal prints "65-99 mg/dL" or just "%")
                unit, range_text = range_text, ""
        row = _Row(
            printed_name=_clean_name(name_text),
            name_cells=name_cells,
            values=values,
            unit=unit,
            range_text=range_text,
            flag=flag,
            loinc=loinc,
            section=self.section,
            page=line.page,
            line=line,
            headerless=headerless,
            stray=stray,
            column_dates=column_dates,
            emphasised=emphasised,
        )
        self.rows.append(row)
        self.last_row = row
        if not stray and any(v is not None or q for v, q, *_ in values):
            # a row printed without a range may give it in the comment below
            self.ref_row = row if not range_text.strip() else None
            self.ref_wait = False

    # ------------------------------------------------------------------ finish
    def finish(self, pages: int, sha: str) -> ParsedReport:
        meta = self._metadata()
        results: list[ParsedResult] = []
        for row in self.rows:
            results.extend(self._resolve(row, meta["collected"]))
        results = dedupe_results(results)
        return ParsedReport(
            collection_date=meta["collected"],
            reported_date=meta["reported"],
            received_date=meta["received"],
            lab_name=meta["lab"],
            patient_name=meta["name"],
            patient_birth_date=meta["dob"],
            results=results,
            unmatched=self.unmatched,
            pages=pages,
            sha256=sha,
            patient_sex=self.sex,
        )

    def _resolve(self, row: _Row, collected: date | None) -> list[ParsedResult]:
        out: list[ParsedResult] = []
        bbox_name = _bbox(row.name_cells) if row.name_cells else _bbox([Cell(row.line.words)])
        real_values = [v for v in row.values if v[0] is not None or v[1]]
        if not real_values:
            self.unmatched.append(
                UnmatchedRow(
                    row.line.text, row.page, _bbox([Cell(row.line.words)]), "no readable value"
                )
            )
            return out
        if _DECIMAL_IN_NAME.search(row.printed_name):
            # a decimal number in the name column is a value that belongs elsewhere: a scale or
            # a chart ("LDL SIZE 21.3  23.0  Large ...  20.6"), never a row to trust
            self.unmatched.append(
                UnmatchedRow(
                    row.line.text, row.page, _bbox([Cell(row.line.words)]), "number in the name"
                )
            )
            return out
        cumulative = len(real_values) > 1 or len(row.column_dates) > 1
        uncertain = False
        if cumulative:
            real_values, uncertain = _current_column(real_values, collected, row.column_dates)
        for value, qual, cell, col_date, cell_flag in real_values:
            qualitative = value is None
            analyte = None
            score = 0.0
            how = ""
            if row.loinc:
                analyte = self.cat.by_loinc(row.loinc)
                score, how = (1.0, "loinc") if analyte else (0.0, "")
            if analyte is None and row.printed_name:
                m = self._match(row, qualitative)
                if m is not None:
                    analyte, score, how = m.analyte, m.score, m.how
                    if how == "prefix" and not (
                        self._structural_result(row) and self._prefix_holds(row, m.analyte)
                    ):
                        # a guess from the first words of a line that is not a result row
                        # ("total PSA is between 4.0 and 10.0 ng/mL."), or one that drops words
                        # which change the test ("LDL PARTICLE NUMBER", "Magnesium, RBC")
                        analyte = None
            if analyte is None and row.printed_name and self._structural_result(row):
                # misspelt by OCR ("Hemoglobln"): an approximate name, only for a row whose
                # structure says it is a result, and never confident
                fuzzy = self._fuzzy(row)
                if fuzzy is not None:
                    analyte, score, how = fuzzy, FUZZY_CONFIDENCE, "approximately (misspelt?)"
            bbox = _union(bbox_name, _bbox([cell])) if cell is not None else bbox_name
            if analyte is None:
                if not self._structural_result(row):
                    self.unmatched.append(
                        UnmatchedRow(
                            row.line.text,
                            row.page,
                            _bbox([Cell(row.line.words)]),
                            "value without a test name",
                        )
                    )
                    return out
                # structurally a result: kept with its printed name, for review
                out.append(
                    self._make_unmapped(
                        row,
                        value,
                        qual,
                        col_date or collected,
                        bbox,
                        cell_flag if cumulative else (row.flag or cell_flag),
                    )
                )
                continue
            out.append(
                self._make_result(
                    row,
                    analyte,
                    score,
                    how,
                    value,
                    qual,
                    col_date or collected,
                    bbox,
                    cell_flag if cumulative else (row.flag or cell_flag),
                )
            )
        if uncertain:
            # which of several result columns is today's cannot be told: review every one
            out = [
                replace(
                    r,
                    confidence=min(r.confidence, UNCERTAIN_COLUMN_CONFIDENCE),
                    notes=(*r.notes, "several result columns; the current one is not certain"),
                )
                for r in out
            ]
        return out

    def _make_result(
        self,
        row: _Row,
        analyte: Analyte,
        score: float,
        how: str,
        value: Value | None,
        qual: str | None,
        when: date | None,
        bbox: tuple[float, float, float, float],
        flag: str | None,
    ) -> ParsedResult:
        notes: list[str] = []
        conf = score
        if how not in ("raw", "loinc"):
            notes.append(f"name matched {how}")
        if row.headerless:
            conf *= 0.95
        if row.stray:
            # words that are neither value, flag nor unit beside the value: perhaps a sentence
            # ("Vitamin B12 200 pg/mL is the lower limit"), so the row is checked by a person
            conf = min(conf, 0.6)
            notes.append("words beside the value")
        unit_ucum = _unit_ucum(row.unit)
        value_canonical: float | None = None
        unit_canonical: str | None = None
        ref = parse_range(row.range_text, self.decimal_comma, self.sex) if row.range_text else None
        if value is not None:
            v_out: float | str = (
                value.text
                if value.comparator
                else value.num
                if value.num is not None
                else value.text
            )
            if value.flag and not flag:
                flag = value.flag
            if row.unit is None:
                if analyte.canonical_unit not in _UNITLESS:
                    conf = min(conf, 0.7)
                    notes.append("no unit printed")
                else:
                    unit_ucum = analyte.canonical_unit if analyte.canonical_unit else None
            elif unit_ucum is None:
                conf = min(conf, 0.6)
                notes.append(f"unit {row.unit!r} not recognised")
            elif not analyte.accepts(unit_ucum):
                conf = min(conf, 0.5)
                notes.append(f"unit {unit_ucum} unusual for {analyte.preferred_name}")
            if unit_ucum is not None and analyte.accepts(unit_ucum) and value.num is not None:
                value_canonical = analyte.to_canonical(value.num, unit_ucum)
                unit_canonical = analyte.canonical_unit
                if not analyte.is_plausible(value_canonical):
                    conf = min(conf, 0.3)
                    notes.append("value outside physiological bounds (misread?)")
            if value.num is not None and ref is not None and value.comparator is None:
                hi = ref.high if ref.high is not None else ref.low
                if hi and hi > 0 and value.num > 60 * hi:
                    conf = min(conf, 0.5)
                    notes.append("value far outside its reference range")
            if analyte.qualitative and not analyte.conversions[0].unit:
                conf = min(conf, 0.6)
            value_num = value.num
            comparator = value.comparator
        else:
            v_out = qual or ""
            value_num = None
            comparator = None
            if not analyte.qualitative:
                conf = min(conf, 0.6)
                notes.append("text result for a numeric test")
            unit_ucum = unit_ucum if row.unit else None
        if flag == "N":
            flag = None
        if ref is not None and ref.low is None and ref.high is None and not ref.text:
            ref = None
        flag = flag or _emphasis_flag(row, value, ref)
        return ParsedResult(
            name=analyte.preferred_name,
            printed_name=row.printed_name,
            loinc=analyte.loinc,
            value=v_out,
            value_num=value_num,
            comparator=comparator,
            unit=row.unit,
            unit_ucum=unit_ucum,
            value_canonical=value_canonical,
            unit_canonical=unit_canonical,
            ref_low=ref.low if ref else None,
            ref_high=ref.high if ref else None,
            ref_text=ref.text if ref else None,
            flag=flag,
            date=when,
            page=row.page,
            bbox=bbox,
            confidence=max(0.0, min(1.0, conf)),
            category=analyte.category,
            notes=tuple(notes),
        )

    def _match(self, row: _Row, qualitative: bool) -> NameMatch | None:
        """The catalog analyte of a row's printed name; a method printed after the name
        (``"TESTOSTERONE, TOTAL, MS"``, ``"VITAMIN D,25-OH,TOTAL,IA"``) is tried without it."""
        m = self.cat.match_name(
            row.printed_name, _bare_unit(row.unit), section=row.section, qualitative=qualitative
        )
        if m is not None and m.score >= 0.9:
            return m
        parts = [p.strip() for p in re.split(r"[,;]", row.printed_name)]
        while len(parts) > 1 and normalise_name(parts[-1]) in _METHOD_WORDS:
            parts.pop()
        shorter = ", ".join(parts)
        if shorter == row.printed_name.strip():
            return m
        m2 = self.cat.match_name(
            shorter, _bare_unit(row.unit), section=row.section, qualitative=qualitative
        )
        if m2 is not None and (m is None or m2.score > m.score):
            return NameMatch(m2.analyte, min(m2.score, 0.95), "without the method")
        return m

    def _prefix_holds(self, row: _Row, analyte: Analyte) -> bool:
        """Whether a name matched by its first words names that analyte.

        The words left over must be whole printed words that change nothing: a footnote letter
        (``Triglycerides A``), a method or specimen word (``Qn``, ``Serum``, ``IA``) or the
        test's own abbreviation (``Sex Hormone Binding Globulin SHBG``). ``LDL-P``, ``PSA, Free``,
        ``Magnesium, RBC`` or ``AST:ALT Ratio`` are other tests.
        """
        ucum = _unit_ucum(row.unit)
        if row.unit and (ucum is None or not analyte.accepts(ucum)):
            return False  # "Protein S  82 %" is not total protein
        tokens = [t for t in re.split(r"[\s,;()]+", row.printed_name) if normalise_name(t)]
        for k in range(len(tokens) - 1, 0, -1):
            head = self.cat.match_name(
                " ".join(tokens[:k]), _bare_unit(row.unit), section=row.section
            )
            # only a head that is a name as printed ("LDL-P" read as "LDL" is not)
            if head is None or head.score < 0.95 or head.analyte.id != analyte.id:
                continue
            for t in tokens[k:]:
                key = normalise_name(t)
                if len(key) == 1 or all(
                    w in _METHOD_WORDS or w in _SPECIMEN_WORDS for w in key.split()
                ):
                    continue
                same = self.cat.match_name(t)
                if same is None or same.analyte.id != analyte.id:
                    return False
            return True
        return False

    def _fuzzy(self, row: _Row) -> Analyte | None:
        """The one analyte whose catalog name is spelt almost like the printed name."""
        key = normalise_name(_PAREN.sub(" ", row.printed_name))
        if len(key) < 5:
            return None
        if self._fuzzy_keys is None:
            self._fuzzy_keys = _fuzzy_index(self.cat)
        close = difflib.get_close_matches(key, self._fuzzy_keys[1], n=3, cutoff=0.86)

        def short(k: str) -> set[str]:
            return {w for w in k.split() if len(w) <= 3 or any(ch.isdigit() for ch in w)}

        # short words and codes carry the meaning (IgA / IgG, T3 / T4, B12): they must agree
        close = [k for k in close if short(k) == short(key)]
        index = self._fuzzy_keys[0]
        found = {index[k].id: index[k] for k in close}
        if len(found) != 1:
            return None
        (analyte,) = found.values()
        ucum = _unit_ucum(row.unit)
        if row.unit and (ucum is None or not analyte.accepts(ucum)):
            return None  # the unit must agree with the test the name is taken for
        return analyte

    def _structural_result(self, row: _Row) -> bool:
        """Whether a row the catalog does not know is still plainly a result row.

        Its name reads as a test name (not prose, a category label or an address), nothing but
        value, flag and unit sits in its value column, and its range cell is a range, a unit or
        a qualitative reference.
        """
        if row.stray or not _plausible_printed_name(row.printed_name):
            return False
        rng = row.range_text.split(" | ")[0].strip() if row.range_text else ""
        if not rng or self._has_bounds(row.range_text):
            return True
        ref = parse_range(rng, self.decimal_comma, self.sex)
        return bool(
            (ref is not None and (ref.low is not None or ref.high is not None))
            or is_qualitative_value(rng)
            or is_qualitative_value(rng.split()[0])  # "A Pattern", "Negative (ref.)"
            or normalise_unit(rng) is not None
        )

    def _make_unmapped(
        self,
        row: _Row,
        value: Value | None,
        qual: str | None,
        when: date | None,
        bbox: tuple[float, float, float, float],
        flag: str | None,
    ) -> ParsedResult:
        """A result row whose printed name maps to no catalog analyte: name and LOINC empty."""
        ref = parse_range(row.range_text, self.decimal_comma, self.sex) if row.range_text else None
        if ref is not None and ref.low is None and ref.high is None and not ref.text:
            ref = None
        if value is not None:
            v_out: float | str = value.text if value.comparator or value.num is None else value.num
            flag = flag or value.flag
        else:
            v_out = qual or ""
        unit_ucum = _unit_ucum(row.unit)
        flag = flag or _emphasis_flag(row, value, ref)
        return ParsedResult(
            name=None,
            printed_name=row.printed_name,
            loinc=None,
            value=v_out,
            value_num=value.num if value is not None else None,
            comparator=value.comparator if value is not None else None,
            unit=row.unit,
            unit_ucum=unit_ucum,
            value_canonical=None,
            unit_canonical=None,
            ref_low=ref.low if ref else None,
            ref_high=ref.high if ref else None,
            ref_text=ref.text if ref else None,
            flag=None if flag == "N" else flag,
            date=when,
            page=row.page,
            bbox=bbox,
            confidence=UNMAPPED_CONFIDENCE * (0.9 if row.headerless else 1.0),
            category=row.section,
            notes=("test name not in the catalog: map it or keep it as its own test",),
        )

    # ------------------------------------------------------------------ metadata
    def _metadata(self) -> dict[str, Any]:
        order = self.order or "DMY"
        found: dict[str, Any] = {}
        lines = self.meta_lines
        for li, ln in enumerate(lines):
            labels = _find_labels(ln)
            for k, lab in enumerate(labels):
                if lab.kind in found:
                    continue
                stop = labels[k + 1].start if k + 1 < len(labels) else len(ln.words)
                after = ln.words[lab.end : stop]
                after_text = " ".join(w.text for w in after).lstrip(":-– ").strip()
                if lab.kind in ("collected", "received", "reported", "dob"):
                    dates = find_dates(after_text, order)
                    if not dates:
                        # table style: label above, value below
                        below = _line_below(
                            lines, li, ln.words[lab.start].x0, ln.words[lab.end - 1].x1
                        )
                        dates = find_dates(below, order) if below else []
                    if dates:
                        found[lab.kind] = dates[0][1]
                elif lab.kind == "name" and lab.colon:
                    val = _gap_limited(after)
                    val = val.lstrip(":-– ").strip()
                    if val and any(ch.isalpha() for ch in val) and not find_dates(val, order):
                        found["name"] = val
        found["lab"] = self._lab_name(found.get("name"))
        return {
            "collected": found.get("collected"),
            "received": found.get("received"),
            "reported": found.get("reported"),
            "dob": found.get("dob"),
            "name": found.get("name"),
            "lab": found.get("lab"),
        }

    def _lab_name(self, patient: str | None) -> str | None:
        """The laboratory: the most prominent text near the top of page 1 that names an
        organisation ("... Laboratories", "... Diagnostics", "... Kft.", "... Hospital").

        Never the patient's name, a labelled field or a heading such as "DIAGNOSTIC REPORT";
        when nothing names an organisation the lab is unknown (None) rather than guessed.
        """
        patient_key = normalise_name(patient or "")
        best: tuple[float, float, str] | None = None
        for ln in self.first_page_lines:
            if ln.top > 320 or _find_labels(ln):
                continue
            cells = ln.cells()
            for ci, cell in enumerate(cells):
                nxt = cells[ci + 1].text if ci + 1 < len(cells) else ""
                if re.search(r"[:#]\s*$", cell.text) or nxt.startswith(":"):
                    continue  # a field label ("Lab Ref #:", "Lab No. : 123")
                text = cell.text.strip().strip(",").strip()
                key = normalise_name(text)
                words = set(key.split())
                if not words or len(words) > 8 or "@" in text or re.search(r"\d{3}", text):
                    continue
                if patient_key and (key in patient_key or patient_key in key):
                    continue
                if not words & _ORGANISATION_WORDS or words & _REPORT_HEADINGS:
                    continue
                if len(words) == 1 and key in _ORGANISATION_WORDS:
                    continue  # a column heading ("Lab") or a bare word, not a name
                parts = text.split(", ")
                k = next((i for i, p in enumerate(parts) if i and re.search(r"\d", p)), None)
                text = ", ".join(parts[:k]) if k else text  # "..., 12 Sample Lane": address
                size = max(w.size for w in cell.words)
                if best is None or size > best[0] + 0.5:
                    best = (size, ln.top, text)
        return best[2] if best else None


# ============================================================================ cumulative tables
_Entry = tuple[Value | None, str | None, Cell | None, date | None, str | None]


def _current_column(
    entries: list[_Entry], collected: date | None, column_dates: tuple[date, ...] = ()
) -> tuple[list[_Entry], bool]:
    """The value of today's column in a row with several result columns, and whether that is
    uncertain.

    Cumulative reports print today's draw beside earlier ones. Today's column is the one dated
    with the collection date; the earlier columns are history, not results of this report. An
    undated result column beside columns dated before the collection is today's. Otherwise the
    latest-dated (else the first) value is returned, flagged as uncertain, because reading an
    older column as today's value is the worst error a health record can make.
    """
    if collected is not None:
        today = [e for e in entries if e[3] == collected]
        if today:
            return today[:1], False
        if collected in column_dates:
            return [], False  # today's cell is empty: the row holds only earlier results
    undated = [e for e in entries if e[3] is None]
    dated = [e for e in entries if e[3] is not None]
    if (
        len(undated) == 1
        and dated
        and collected is not None
        and all(e[3] is not None and e[3] < collected for e in dated)
    ):
        return undated, False
    if dated:
        latest = max(dated, key=lambda e: e[3] or date.min)
        return [latest], True
    return entries[:1], True


# ============================================================================ repeats
def _value_key(r: ParsedResult) -> tuple[Any, ...]:
    if r.value_num is not None:
        return ("n", r.comparator or "", round(r.value_num, 9))
    return ("q", normalise_name(str(r.value)).replace(" ", ""))


def _unit_key(r: ParsedResult) -> str:
    return (r.unit_ucum or normalise_name(r.unit or "")).replace(" ", "")


def _same_test(a: ParsedResult, b: ParsedResult) -> bool:
    if a.loinc and b.loinc and a.loinc == b.loinc:
        return True
    pa, pb = normalise_name(a.printed_name), normalise_name(b.printed_name)
    return bool(pa) and (pa == pb or pa.replace(" ", "") == pb.replace(" ", ""))


def dedupe_results(results: list[ParsedResult]) -> list[ParsedResult]:
    """One result per (analyte or printed name, value, unit, date).

    Portal prints append the laboratory's own report, dashboards list a biomarker under every
    body system, and some sections print a row twice; each result is kept once. A copy that
    lacks the unit (an appendix without a unit column) is the same result. The copy kept is the
    most confident one, at the place of the first.
    """
    kept: list[ParsedResult] = []
    groups: dict[tuple[Any, ...], list[int]] = {}
    for r in results:
        gkey = (_value_key(r), r.date)
        for idx in groups.get(gkey, []):
            other = kept[idx]
            ua, ub = _unit_key(r), _unit_key(other)
            if _same_test(r, other) and (ua == ub or not ua or not ub):
                if (r.confidence, bool(ua)) > (other.confidence, bool(ub)):
                    kept[idx] = r
                break
        else:
            groups.setdefault(gkey, []).append(len(kept))
            kept.append(r)
    return kept


# ============================================================================ helpers
def _box_word(text: str, box: tuple[float, float, float, float], size: float) -> Word:
    return Word(text, box[0], box[2], box[1], box[3], size)


def _compact(row: _Row) -> None:
    """Keep only text and boxes once a page is read.

    A row otherwise holds its whole line (every word and the line's cell split) until the
    report is finished, so memory grew with the number of results on long reports.
    """
    line = row.line
    size = line.size
    row.line = Line([_box_word(line.text, _bbox([Cell(line.words)]), size)], line.page)
    if row.name_cells:
        row.name_cells = [Cell([_box_word("", _bbox(row.name_cells), size)])]
    row.values = [
        (v, q, Cell([_box_word("", _bbox([cell]), size)]) if cell is not None else None, d, f)
        for v, q, cell, d, f in row.values
    ]
    row.extra_cells = []


def _stack_lines(upper: Line, lower: Line) -> Line:
    """Two lines read column by column: cells that overlap horizontally are joined top first."""
    groups: list[tuple[float, float, list[Word], list[Word]]] = []
    for row, line in enumerate((upper, lower)):
        for cell in line.cells():
            for gi, (x0, x1, top, bottom) in enumerate(groups):
                if cell.x0 < x1 + 2 and cell.x1 > x0 - 2:
                    (top if row == 0 else bottom).extend(cell.words)
                    groups[gi] = (min(x0, cell.x0), max(x1, cell.x1), top, bottom)
                    break
            else:
                groups.append(
                    (
                        cell.x0,
                        cell.x1,
                        list(cell.words) if row == 0 else [],
                        list(cell.words) if row else [],
                    )
                )
    words: list[Word] = []
    for _, _, top, bottom in sorted(groups, key=lambda g: g[0]):
        words.extend(top + bottom)
    return Line(words, upper.page)


def _span_count(models: list[ColumnModel]) -> int:
    return sum(len(m.spans) for m in models)


def _cells_for_model(line: Line, model: ColumnModel) -> list[Cell]:
    """Line cells, re-split where a cell straddles a column boundary (tight layouts)."""
    cells = line.cells()
    out: list[Cell] = []
    for cell in cells:
        if len(cell.words) == 1:
            out.append(cell)
            continue
        cols = [model.column_of(Cell([w])) for w in cell.words]
        first = model.column_of(cell)
        if first.role == "name" and all(c.role == "name" for c in cols[:1]):
            # a long name may run over the next header; keep name words together
            k = 0
            while k < len(cell.words) and (
                cols[k].role == "name" or not _valueish(cell.words[k].text)
            ):
                k += 1
            if k == len(cell.words):
                out.append(cell)
            else:
                out.append(Cell(cell.words[:k]))
                out.extend(_group_by_column(cell.words[k:], cols[k:]))
            continue
        if len({id(c) for c in cols}) == 1 or normalise_unit(cell.text) is not None:
            out.append(cell)
        elif (
            first.role in RESULT_ROLES
            and cols[0].role in RESULT_ROLES
            and all(
                c is cols[0] or parse_flag(w.text) is not None
                for w, c in zip(cell.words, cols, strict=True)
            )
        ):
            # a long value whose flag runs into the next column ("Slightly cloudy A")
            out.append(cell)
        else:
            out.extend(_group_by_column(cell.words, cols))
    return out


def _group_by_column(words: list[Any], cols: list[Span]) -> list[Cell]:
    out: list[Cell] = []
    cur: list[Any] = []
    cur_col: Span | None = None
    for w, c in zip(words, cols, strict=True):
        if cur and c is not cur_col:
            out.append(Cell(cur))
            cur = []
        cur.append(w)
        cur_col = c
    if cur:
        out.append(Cell(cur))
    return out


def _valueish(text: str) -> bool:
    return parse_value(text) is not None or is_qualitative_value(text)


def _cells_of(words: list[Any], line: Line) -> list[Cell]:
    ids = {id(w) for w in words}
    out: list[Cell] = []
    for cell in line.cells():
        ws = [w for w in cell.words if id(w) in ids]
        if ws:
            out.append(Cell(ws))
    return out


def _is_name_number(tokens: list[Any], i: int) -> bool:
    """``Vitamin B12``, ``CA 19-9``, ``Troponin I 2``: digits glued to the name, not the value."""
    prev = tokens[i - 1]
    t = tokens[i].text
    gap = tokens[i].x0 - prev.x1
    small_gap = gap < 0.45 * max(tokens[i].size, 4)
    if not small_gap:
        return False
    # "CA 125", "Apo A1": a short all-caps token immediately before a number in a name
    return prev.text.isupper() and len(prev.text) <= 3 and t.isdigit() and i + 1 < len(tokens)


def _classify_result_cell(
    text: str, decimal_comma: bool, *, allow_range_tail: bool = False
) -> tuple[Value | None, str | None, str | None, str | None, list[str]] | None:
    """Split a result cell into (value, qualitative text, flag, unit, leftover tokens)."""
    toks = text.split()
    if not toks:
        return None
    value: Value | None = None
    flag: str | None = None
    unit: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if (
            value is None
            and tok in ("<", ">")
            and i + 3 < len(toks)
            and toks[i + 1].casefold() == "or"
            and toks[i + 2] == "="
        ):
            # "< OR = 5.0" is "<=5.0"; the value keeps the laboratory's spelling
            v = parse_value(f"{tok}={toks[i + 3]}", decimal_comma)
            if v is not None:
                value = replace(v, text=" ".join(toks[i : i + 4]))
                i += 4
                continue
        if value is None and not is_date_token(tok):
            # comparator written apart from the number: "< 0.5"
            if tok in ("<", ">", "<=", ">=", "≤", "≥") and i + 1 < len(toks):
                v = parse_value(tok + toks[i + 1], decimal_comma)
                if v is not None:
                    value = v
                    i += 2
                    continue
            v = parse_value(tok, decimal_comma)
            if v is not None:
                value = v
                i += 1
                continue
        if is_flag_token(tok, strict=value is None) and (value is not None or len(toks) > 1):
            flag = flag or parse_flag(tok)
            i += 1
            continue
        if unit is None:
            for n in (3, 2, 1):
                cand = " ".join(toks[i : i + n])
                if i + n <= len(toks) and normalise_unit(cand) is not None:
                    unit = cand
                    i += n
                    break
            else:
                rest.append(tok)
                i += 1
            continue
        rest.append(tok)
        i += 1
    if value is not None:
        # two-digit lab codes after the value ("105 High 01") are ignored
        rest = [t for t in rest if not re.fullmatch(r"0\d|\d{2}[A-Z]{0,2}", t) or allow_range_tail]
        return value, None, flag, unit, rest
    if len(toks) >= 2 and parse_flag(toks[-1]) in ("H", "L", "HH", "LL", "A"):
        # "Trace A", "1+ H", "Positive *": a qualitative result followed by its flag
        head = " ".join(toks[:-1])
        if is_qualitative_value(head):
            return None, head, parse_flag(toks[-1]), unit, []
    qual_tokens = [t for t in toks if not (is_flag_token(t, strict=True) and len(toks) > 1)]
    if unit is not None:
        qual_tokens = [t for t in qual_tokens if t not in unit.split()]
    qual_text = " ".join(qual_tokens)
    if not qual_text:
        return None, None, flag, unit, rest
    if is_qualitative_value(qual_text) or is_qualitative_value(text):
        q = qual_text if is_qualitative_value(qual_text) else text
        f = flag if q != text else None
        return None, q, f, unit, []
    if is_non_result(text):
        return None, None, None, None, [text]
    # any other words in a result column ("See note", a method, prose) are not a result: a
    # qualitative value comes only from the vocabulary (values.is_qualitative_value)
    return None, None, flag, unit, toks


_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_RANGE_HEAD = re.compile(
    rf"^\s*(?:(?:<|>|≤|≥)\s*(?:OR\s*=|=)?\s*{_NUM}|=<\s*{_NUM}|=>\s*{_NUM}"
    rf"|{_NUM}\s*(?:-|–|to)\s*{_NUM})(?=\s|$)",
    re.IGNORECASE,
)
# annotations printed after a unit or range: "(calc)", "calc", "(calculated)"
_ANNOTATION = re.compile(r"\s*\(?\bcalc(?:ulated)?\b\)?\s*$", re.IGNORECASE)


def _split_unit_tail(text: str) -> tuple[str | None, str]:
    """``"65-99 mg/dL"`` -> (``"mg/dL"``, ``"65-99"``).

    The words after a range in a range cell are its unit even when the unit table does not know
    them (``"<5.7 % of total Hgb"``); an annotation after the unit (``"(calc)"``) is dropped, and
    a unit broken at the line end (``"mL/min/1."``) is joined with its rest by the caller.
    """
    text = _ANNOTATION.sub("", text).strip() if _ANNOTATION.search(text) else text
    toks = text.split()
    for n in (3, 2, 1):
        if len(toks) > n:
            cand = " ".join(toks[-n:])
            if normalise_unit(cand) is not None and not looks_like_range(cand):
                return cand, " ".join(toks[:-n])
    m = _RANGE_HEAD.match(text)
    if m is not None:
        rest = text[m.end() :].strip()
        if (
            rest
            and len(rest.split()) <= 4
            and re.match(r"[A-Za-zµμ%/]", rest)
            and not looks_like_range(rest)
            and not is_qualitative_value(rest)
        ):
            return rest, m.group(0).strip()
    return None, text


# annotations after a unit: the measuring temperature ("U/L a 37°", "U/L at 37 C", "IU/L @37°C")
# or "(calc)"; the unit keeps its printed form, its code is read without them
_UNIT_ANNOTATION = re.compile(
    r"\s*(?:(?:a|at|@)\s*(?:25|30|37)\s*°?\s*C?\.?|\(?\bcalc(?:ulated)?\b\)?)\s*$",
    re.IGNORECASE,
)


def _bare_unit(unit: str | None) -> str | None:
    if not unit:
        return unit
    bare = _UNIT_ANNOTATION.sub("", unit).strip()
    return bare or unit


def _unit_ucum(unit: str | None) -> str | None:
    """The UCUM code of a printed unit, read without annotations such as ``a 37°``."""
    if not unit:
        return None
    return normalise_unit(unit) or normalise_unit(_bare_unit(unit) or "")


def _continues_unit(unit: str, text: str) -> bool:
    """``"mL/min/1."`` + ``"73m2"``, ``"Thousand"`` + ``"/uL"``: a unit wrapped onto the next line."""
    if " " in text.strip() or not text.strip():
        return False
    return unit.endswith(("/", ".", "^", "(")) or text.startswith(("/", "^"))


# Words of prose and comments, which a test name does not contain; words that name reference
# categories ("Optimal", "Deficiency", "Moderately increased", "Male Reference Range"): a name
# made only of them is not a test.
_PROSE_WORDS = frozenset(_WORDS["prose_words"])
_ORGANISATION_WORDS = frozenset(_WORDS["organisation_words"])
_REPORT_HEADINGS = frozenset(_WORDS["report_headings"])
_METHOD_WORDS = frozenset(_WORDS["method_words"])
_SPECIMEN_WORDS = frozenset(
    {"serum", "plasma", "s", "p", "qn", "quant", "quantitative", "semi", "level", "levels"}
)
_CATEGORY_WORDS = frozenset(_WORDS["category_words"])


_REF_COMMENT = re.compile(
    r"^(?:adult\s+|normal\s+)?(?:reference|ref\.?)\s+(?:range|interval|values?)s?\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# Status labels printed before a value on dashboard prints, under the test's name.
_STATUS_LABELS = frozenset(
    {
        "in range",
        "out of range",
        "normal",
        "abnormal",
        "high",
        "low",
        "optimal",
        "borderline",
        "above range",
        "below range",
        "within range",
        "improving",
        "younger",
        "older",
    }
)
_DECIMAL_IN_NAME = re.compile(r"(?<![\w.])\d+[.,]\d+(?![\w.\-])")
_COMPARATOR_WORDS = frozenset({"<", ">", "<=", ">=", "≤", "≥", "or", "="})


def _plausible_printed_name(text: str) -> bool:
    """A test name: not a sentence, an address, a number or a reference-category label."""
    words = text.split()
    if not words or len(words) > 10 or len(text) > 80:
        return False
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2 or letters < 0.4 * len(text.replace(" ", "")):
        return False
    first = text.lstrip()[0]
    if re.search(r"[<>=]", text):
        return False  # a comparison belongs to a range or a scale ("Optimal < or =")
    if not (first.isalnum() or first in "%#") or re.match(r"\d+[.,]?\s", text):
        return False  # "<5353. Male ...", "2501 South State Highway": not a name
    if first.isalpha() and first.islower() and not re.match(r"[a-z]{1,3}[A-Z0-9-]", text):
        return False  # prose continues a sentence; names such as "eGFR" or "pH" are mixed case
    if text.rstrip().endswith(":") or re.search(r":\s*[<>]?\d", text):
        return False  # a label ("Deficiency:", "Prediabetes: 5.7")
    if re.search(r"\.\s", text) and len(words) >= 5:
        return False  # a sentence ("Vit. D" is an abbreviation)
    if _DECIMAL_IN_NAME.search(text):
        return False  # a decimal number belongs to a value, not to a name ("LDL SIZE 21.3")
    folded = [w.casefold().strip(",;:()") for w in words]
    if any(w in _PROSE_WORDS for w in folded):
        return False
    return not all(w in _CATEGORY_WORDS or not w for w in folded)


_FUZZY_INDEX: dict[int, tuple[Catalog, tuple[dict[str, Analyte], list[str]]]] = {}


def _fuzzy_index(cat: Catalog) -> tuple[dict[str, Analyte], list[str]]:
    """Catalog names of five letters or more, built once per catalog (the catalog is shared)."""
    hit = _FUZZY_INDEX.get(id(cat))
    if hit is None or hit[0] is not cat:
        names = {k: a for k, a in cat.synonym_keys().items() if len(k) >= 5}
        hit = (cat, (names, list(names)))
        _FUZZY_INDEX.clear()  # one catalog at a time: tests may build their own
        _FUZZY_INDEX[id(cat)] = hit
    return hit[1]


def _emphasis_flag(row: _Row, value: Value | None, ref: RefRange | None) -> str | None:
    """H or L for a value printed in bold, alone in its row, outside its printed range.

    Some laboratories mark abnormal results only by bold type; the direction comes from the
    range. A bold value inside its range gets no flag (bold may be mere emphasis there).
    """
    if not row.emphasised or value is None or value.num is None or value.comparator or ref is None:
        return None
    if ref.high is not None and value.num > ref.high:
        return "H"
    if ref.low is not None and value.num < ref.low:
        return "L"
    return None


def _field_line(line: Line) -> bool:
    """A labelled field ("Lab Ref #: 1234567"), never the upper half of a wrapped header."""
    return any(
        w.text.endswith(":") or "#" in w.text or (re.fullmatch(r"\d{3,}", w.text) is not None)
        for w in line.words
    )


def _category_row(line: Line) -> bool:
    """A row of a risk-category or reference table: several ranges side by side, no result."""
    cells_ = line.cells()
    if len(cells_) < 4 or not any(
        c.text[:1] in "<>≤≥" or c.text.casefold() in ("n/a", "na") for c in cells_
    ):
        return False  # categories: a name and three or more, with a bound or a "N/A"
    bounds = ranges = values = 0
    not_applicable = False
    directions: set[str] = set()
    for cell in line.cells()[1:]:
        t = cell.text.strip()
        if re.fullmatch(r"n/?a", t, re.IGNORECASE):
            not_applicable = True
        elif parse_value(t) is not None or is_qualitative_value(t):
            values += 1
        if t[:1] in "<>≤≥":
            directions.add("<" if t[:1] in "<≤" else ">")
        if re.fullmatch(r"n/?a", t, re.IGNORECASE) or re.fullmatch(
            r"(?:<=|>=|<|>|≤|≥)\s*\d+(?:[.,]\d+)?", t
        ):
            bounds += 1
        elif re.fullmatch(r"\d+(?:[.,]\d+)?\s*-\s*\d+(?:[.,]\d+)?", t):
            ranges += 1
    cells = [c.text.strip() for c in line.cells()]
    numeric = [t for t in cells if parse_value(t) is not None]
    # a scale: "<117  117  527  839  >839" (open bounds at both ends)
    scale = len(numeric) >= 3 and (
        (numeric[0][0] in "<≤" and numeric[-1][0] in ">≥")
        or (numeric[0][0] in ">≥" and numeric[-1][0] in "<≤")
    )
    # "A  N/A  B  Pattern": categories side by side, one of them not applicable
    # categories run from a "<" bound to a ">" bound; censored values of several dates
    # ("<0.5  <0.5  <0.5") all point one way
    categories = bounds >= 2 and bounds + ranges >= 3 and len(directions) == 2
    return categories or (not_applicable and values >= 2) or scale


def _clean_name(text: str) -> str:
    s = text.strip().strip(":").strip()
    s = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+$", "", s)
    s = re.sub(r"\s*[*†‡]+$", "", s)
    return s.strip()


def _bbox(cells: list[Cell]) -> tuple[float, float, float, float]:
    words = [w for c in cells for w in c.words]
    return (
        min(w.x0 for w in words),
        min(w.top for w in words),
        max(w.x1 for w in words),
        max(w.bottom for w in words),
    )


def _union(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _line_below(lines: list[Line], index: int, x0: float, x1: float) -> str:
    if index + 1 >= len(lines):
        return ""
    ln = lines[index + 1]
    if ln.page != lines[index].page:
        return ""
    ws = [w for w in ln.words if w.x1 > x0 - 5 and w.x0 < x1 + 60]
    return " ".join(w.text for w in ws)


def _gap_limited(words: list[Any]) -> str:
    out: list[str] = []
    for i, w in enumerate(words):
        if i and w.x0 - words[i - 1].x1 > 3 * max(w.size, 4):
            break
        out.append(w.text)
    return " ".join(out)
