"""Resolution: a result row -> :class:`ParsedResult` (catalog analyte, unit, confidence).

The printed name is matched to a catalog analyte (as printed, without a method printed after
it, by its first words when the rest changes nothing, or approximately for OCR misspellings); a
row that is structurally a result but maps to nothing is kept with its printed name for review.
The value is converted to the analyte's canonical unit, and the confidence says what a person
should check. Cumulative tables give one current value; repeats within a report are dropped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import date
from typing import Any

from ohvault.labs.catalog import Analyte, Catalog, NameMatch, normalise_name
from ohvault.labs.layout import Cell
from ohvault.labs.results import (
    ABBREVIATION_AGREES_CONFIDENCE,
    FUZZY_CONFIDENCE,
    MARK_AFTER_NAME_CONFIDENCE,
    UNCERTAIN_COLUMN_CONFIDENCE,
    UNMAPPED_CONFIDENCE,
    ParsedResult,
    UnmatchedRow,
)
from ohvault.labs.rows import (
    DECIMAL_IN_NAME,
    Entry,
    Row,
    cells_bbox,
    has_bounds,
    plausible_printed_name,
)
from ohvault.labs.units import normalise_unit
from ohvault.labs.values import RefRange, Value, is_qualitative_value, parse_range
from ohvault.labs.words import METHOD_WORDS, SPECIMEN_WORDS

_PAREN = re.compile(r"\([^()]*\)")
# The printed words of a name, without the punctuation between them.
_NAME_TOKEN = re.compile(r"[^\s,;()]+")
# What follows a name matched by its first words (Resolver._prefix_holds).
_ABBREVIATION = "abbreviation"
_MARK = "mark"
_UNITLESS = {"", "1", "{ratio}", "{INR}", "[pH]", "{index}"}


class Resolver:
    """Resolves the rows of one report; rows that are no result are kept in :attr:`unmatched`."""

    def __init__(self, catalog: Catalog, *, decimal_comma: bool, sex: str | None) -> None:
        self.cat = catalog
        self.decimal_comma = decimal_comma
        self.sex = sex
        self.unmatched: list[UnmatchedRow] = []
        self._fuzzy_keys: tuple[dict[str, Analyte], list[str]] | None = None

    def _unmatched(self, row: Row, reason: str) -> None:
        """Keep the whole line as a row that is no result, with why (shown in the review)."""
        self.unmatched.append(
            UnmatchedRow(row.line.text, row.page, cells_bbox([Cell(row.line.words)]), reason)
        )

    def resolve(self, row: Row, collected: date | None) -> list[ParsedResult]:
        """The results of one row (one per current value); none when it is no result."""
        out: list[ParsedResult] = []
        bbox_name = (
            cells_bbox(row.name_cells) if row.name_cells else cells_bbox([Cell(row.line.words)])
        )
        real_values = [v for v in row.values if v[0] is not None or v[1]]
        if not real_values:
            self._unmatched(row, "no readable value")
            return out
        if DECIMAL_IN_NAME.search(row.printed_name):
            # a decimal number in the name column is a value that belongs elsewhere: a scale or
            # a chart ("LDL SIZE 21.3  23.0  Large ...  20.6"), never a row to trust
            self._unmatched(row, "number in the name")
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
                    if how == "prefix":
                        holds = self._structural_result(row) and self._prefix_holds(row, m.analyte)
                        if not holds:
                            # a guess from the first words of a line that is not a result
                            # row ("total PSA is between 4.0 and 10.0 ng/mL."), or one that
                            # drops words which change the test ("Magnesium, RBC")
                            analyte = None
                        elif holds == _ABBREVIATION:
                            score, how = ABBREVIATION_AGREES_CONFIDENCE, "with its abbreviation"
                        elif row.unit:  # _prefix_holds checked that the test takes this unit
                            score, how = MARK_AFTER_NAME_CONFIDENCE, "without the mark after it"
            if analyte is None and row.printed_name and self._structural_result(row):
                # misspelt by OCR ("Hemoglobln"): an approximate name, only for a row whose
                # structure says it is a result, and never confident
                fuzzy = self._fuzzy(row)
                if fuzzy is not None:
                    analyte, score, how = fuzzy, FUZZY_CONFIDENCE, "approximately (misspelt?)"
            bbox = _union(bbox_name, cells_bbox([cell])) if cell is not None else bbox_name
            if analyte is None:
                if not self._structural_result(row):
                    self._unmatched(row, "value without a test name")
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
        row: Row,
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
            # the code of the unit's property: glucose in mmol/L is 14749-6, not 2345-7
            loinc=analyte.loinc_for_result(unit_ucum, text_value=value is None),
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

    def _match(self, row: Row, qualitative: bool) -> NameMatch | None:
        """The catalog analyte of a row's printed name; a method printed after the name
        (``"TESTOSTERONE, TOTAL, MS"``, ``"VITAMIN D,25-OH,TOTAL,IA"``) is tried without it."""
        m = self.cat.match_name(
            row.printed_name, _bare_unit(row.unit), section=row.section, qualitative=qualitative
        )
        if m is not None and m.score >= 0.9:
            return m
        abbreviated = self._from_abbreviation(row, qualitative)
        if abbreviated is not None:
            return abbreviated
        parts = [p.strip() for p in re.split(r"[,;]", row.printed_name)]
        while len(parts) > 1 and normalise_name(parts[-1]) in METHOD_WORDS:
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

    def _from_abbreviation(self, row: Row, qualitative: bool) -> NameMatch | None:
        """A full name, its abbreviation, then words that qualify it: the abbreviation and
        what follows name the test (``Prostate Specific Antigen PSA, Free`` is ``PSA, Free``,
        free PSA, not PSA). Only when the name and the abbreviation are the same test."""
        name = row.printed_name
        tokens = [(t.group(), t.start()) for t in _NAME_TOKEN.finditer(name)]
        for k in range(1, len(tokens) - 1):
            head = self.cat.match_name(name[: tokens[k][1]])
            if head is None or head.score < 0.95:
                continue
            short = self.cat.match_name(tokens[k][0])
            if short is None or short.analyte.id != head.analyte.id or short.score < 0.95:
                continue
            rest = self.cat.match_name(
                name[tokens[k][1] :], _bare_unit(row.unit), section=row.section,
                qualitative=qualitative,
            )  # fmt: skip
            if rest is not None and rest.score >= 0.9:
                return NameMatch(rest.analyte, min(rest.score, 0.9), "by its abbreviation")
            return None
        return None

    def _prefix_holds(self, row: Row, analyte: Analyte) -> str | None:
        """How a name matched by its first words names that analyte, or None if it may not.

        The words left over must be whole printed words that change nothing: a footnote letter
        (``Triglycerides A``), a method or specimen word (``Qn``, ``Serum``, ``IA``), both
        `_MARK`, or the test's own abbreviation (``Sex Hormone Binding Globulin SHBG``,
        `_ABBREVIATION`). ``LDL-P``, ``PSA, Free``, ``Magnesium, RBC`` or ``AST:ALT Ratio``
        are other tests.
        """
        ucum = _unit_ucum(row.unit)
        if row.unit and (ucum is None or not analyte.accepts(ucum)):
            return None  # "Protein S  82 %" is not total protein
        tokens = [t for t in _NAME_TOKEN.findall(row.printed_name) if normalise_name(t)]
        for k in range(len(tokens) - 1, 0, -1):
            head = self.cat.match_name(
                " ".join(tokens[:k]), _bare_unit(row.unit), section=row.section
            )
            # only a head that is a name as printed ("LDL-P" read as "LDL" is not)
            if head is None or head.score < 0.95 or head.analyte.id != analyte.id:
                continue
            how = _MARK
            for t in tokens[k:]:
                key = normalise_name(t)
                if len(key) == 1 or all(
                    w in METHOD_WORDS or w in SPECIMEN_WORDS for w in key.split()
                ):
                    continue
                same = self.cat.match_name(t)
                if same is None or same.analyte.id != analyte.id:
                    return None
                how = _ABBREVIATION
            return how
        return None

    def _fuzzy(self, row: Row) -> Analyte | None:
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

    def _structural_result(self, row: Row) -> bool:
        """Whether a row the catalog does not know is still plainly a result row.

        Its name reads as a test name (not prose, a category label or an address), nothing but
        value, flag and unit sits in its value column, and its range cell is a range, a unit or
        a qualitative reference.
        """
        if row.stray or not plausible_printed_name(row.printed_name):
            return False
        rng = row.range_text.split(" | ")[0].strip() if row.range_text else ""
        if not rng or has_bounds(row.range_text, self.decimal_comma, self.sex):
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
        row: Row,
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


def _current_column(
    entries: list[Entry], collected: date | None, column_dates: tuple[date, ...] = ()
) -> tuple[list[Entry], bool]:
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


def _emphasis_flag(row: Row, value: Value | None, ref: RefRange | None) -> str | None:
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


def _union(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
