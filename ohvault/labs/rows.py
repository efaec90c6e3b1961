"""Row reading: the words of each page -> result rows (name, values, unit, range, flag).

Lines are split into cells; a header row defines columns (:mod:`ohvault.labs.layout`) and each
line under it is read column by column, and without a header a line is read by token
classification alone (name, value, flag, unit, range in any whitespace layout). What a row's
name means (the catalog analyte) is decided later, by :mod:`ohvault.labs.resolve`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ohvault.labs.catalog import Catalog, normalise_name
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
)
from ohvault.labs.metadata import date_order, find_labels, scan_sex
from ohvault.labs.units import normalise_unit
from ohvault.labs.values import (
    Value,
    is_date_token,
    is_flag_token,
    is_non_result,
    is_not_applicable,
    is_qualitative_value,
    looks_like_range,
    parse_flag,
    parse_range,
    parse_value,
)
from ohvault.labs.words import CATEGORY_WORDS, PROSE_WORDS, STATUS_LABELS

_FOOTER = re.compile(
    r"^(?:page|seite|oldal|pagina|página)\s*\d+|\d+\s*(?:/|of|von|de)\s*\d+\s*$|^-+\s*\d+\s*-+$",
    re.IGNORECASE,
)

# One value cell of a row: (value, qualitative text, cell, column date, flag).
Entry = tuple[Value | None, str | None, Cell | None, date | None, str | None]


@dataclass
class Row:
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


class RowReader:
    """Reads a report page by page into result rows; keeps what later pages need (columns,
    section, decimal mark, date order, the patient's sex, lines for the metadata)."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog
        self.word_count = 0
        self.models: list[ColumnModel] | None = None
        self.section: str | None = None
        self.rows: list[Row] = []
        self.meta_lines: list[Line] = []
        self.first_page_lines: list[Line] = []
        self.decimal_votes = [0, 0]  # [point, comma]
        self.order: str | None = None
        self.sex: str | None = None
        self.last_row: Row | None = None
        self.pending_name: tuple[str, list[Cell]] | None = None
        # the previous line read without a header, and the row made from it (if any)
        self.prev_free: list[tuple[Line, Row | None]] = []
        self.ref_row: Row | None = None  # the last row, while it has no reference range
        self.ref_wait = False  # a "Reference Range:" line was read; its range is on the next
        self.ref_lines: list[str] = []

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
            self.order = date_order(lines, width, height)
            self.sex = scan_sex(lines)
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

    # ------------------------------------------------------------------ lines
    def _is_meta_line(self, line: Line) -> bool:
        labels = find_labels(line)
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
            if not find_labels(Line(first.words, line.page)) and not self._heading(first.text):
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
        return has_bounds(text, self.decimal_comma, self.sex)

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
                and plausible_printed_name(joined)
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

    def _line_above(self, line: Line) -> tuple[Line, Row | None] | None:
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

    def _free_line(self, line: Line, text: str, prev: tuple[Line, Row | None] | None) -> None:
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
        self, line: Line, label: list[Word], prev: tuple[Line, Row | None] | None
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
        if above.size < line.size + 0.5 and normalise_name(label_text) not in STATUS_LABELS:
            return None  # same type: a heading over a row, not a name over its status line
        if row is not None and above.size < line.size + 0.5:
            return None  # two result rows of one table, not a name over its status line
        name = above.text.strip()
        if not plausible_printed_name(name) and self.cat.match_name(name) is None:
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
        if unit is not None and is_not_applicable(unit):
            unit = None  # "N/A" in the unit column of a ratio or an index is no unit
        row = Row(
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


def _box_word(text: str, box: tuple[float, float, float, float], size: float) -> Word:
    return Word(text, box[0], box[2], box[1], box[3], size)


def _compact(row: Row) -> None:
    """Keep only text and boxes once a page is read.

    A row otherwise holds its whole line (every word and the line's cell split) until the
    report is finished, so memory grew with the number of results on long reports.
    """
    line = row.line
    size = line.size
    row.line = Line([_box_word(line.text, cells_bbox([Cell(line.words)]), size)], line.page)
    if row.name_cells:
        row.name_cells = [Cell([_box_word("", cells_bbox(row.name_cells), size)])]
    row.values = [
        (v, q, Cell([_box_word("", cells_bbox([cell]), size)]) if cell is not None else None, d, f)
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


def _continues_unit(unit: str, text: str) -> bool:
    """``"mL/min/1."`` + ``"73m2"``, ``"Thousand"`` + ``"/uL"``: a unit wrapped onto the next line."""
    if " " in text.strip() or not text.strip():
        return False
    return unit.endswith(("/", ".", "^", "(")) or text.startswith(("/", "^"))


_REF_COMMENT = re.compile(
    r"^(?:adult\s+|normal\s+)?(?:reference|ref\.?)\s+(?:range|interval|values?)s?\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
DECIMAL_IN_NAME = re.compile(r"(?<![\w.])\d+[.,]\d+(?![\w.\-])")
_COMPARATOR_WORDS = frozenset({"<", ">", "<=", ">=", "≤", "≥", "or", "="})


def plausible_printed_name(text: str) -> bool:
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
    if DECIMAL_IN_NAME.search(text):
        return False  # a decimal number belongs to a value, not to a name ("LDL SIZE 21.3")
    folded = [w.casefold().strip(",;:()") for w in words]
    if any(w in PROSE_WORDS for w in folded):
        return False
    return not all(w in CATEGORY_WORDS or not w for w in folded)


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
        elif (parse_value(t) is not None or is_qualitative_value(t)) and t[:1] not in "<>≤≥":
            # a bound is a range, not a category: "3.5  N/A  <5.0" is a ratio with no unit
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


def cells_bbox(cells: list[Cell]) -> tuple[float, float, float, float]:
    words = [w for c in cells for w in c.words]
    return (
        min(w.x0 for w in words),
        min(w.top for w in words),
        max(w.x1 for w in words),
        max(w.bottom for w in words),
    )


def has_bounds(text: str, decimal_comma: bool, sex: str | None) -> bool:
    """Whether ``text`` is a reference range with at least one bound."""
    ref = parse_range(text, decimal_comma, sex)
    return ref is not None and (ref.low is not None or ref.high is not None)
