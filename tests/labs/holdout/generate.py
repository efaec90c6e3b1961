"""Independent hold-out corpus of synthetic lab reports (issue 3: does the parser generalise?).

    python -m tests.labs.holdout.generate OUT_DIR [--seed N] [--per-layout N] [--layout NAME ...]

Written without looking at the parser or at ``tests/labs/corpus.py``, from the public conventions in
``/work/shared/labs/LAYOUTS.md`` and from how real laboratories print reports. Every report is a real
PDF (fpdf2) plus a ground-truth JSON in the shape ``benchmarks/lab_accuracy.py`` scores. All people
are synthetic (invented names, random birth dates). Deterministic for a given seed.

Ground truth contains only what is printed: a flag is recorded only when the report prints one, a
censored value (``<0,35``) carries ``comparator``, qualitative results are strings.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF

from ohvault.labs.catalog import Analyte, load_catalog

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
class Doc:
    """A thin fpdf2 wrapper in PDF points with baseline-positioned text."""

    def __init__(self, size: str = "A4", font: str = "dejavu") -> None:
        self.pdf = FPDF(unit="pt", format=size)
        self.pdf.set_auto_page_break(False)
        self.pdf.set_compression(True)
        self.font = font  # "helvetica" (core, Latin-1 only) or "dejavu" (embedded TrueType)
        self._loaded: set[str] = set()
        self.width = float(self.pdf.w)
        self.height = float(self.pdf.h)
        self.pages = 0

    def new_page(self) -> None:
        self.pdf.add_page()
        self.pages += 1

    def _set(self, size: float, style: str) -> None:
        # TrueType fonts are parsed lazily: loading all styles up front costs ~0.3 s each.
        if self.font == "dejavu" and style not in self._loaded:
            name = {"": "DejaVuSans", "B": "DejaVuSans-Bold", "I": "DejaVuSans-Oblique"}[style]
            self.pdf.add_font("dejavu", style, str(FONT_DIR / f"{name}.ttf"))
            self._loaded.add(style)
        self.pdf.set_font(self.font, style, size)

    def width_of(self, s: str, size: float = 9, style: str = "") -> float:
        self._set(size, style)
        return float(self.pdf.get_string_width(s))

    def text(
        self, x: float, y: float, s: str, size: float = 9, style: str = "", tight: float = 0.0
    ) -> None:
        """Text with its baseline at ``y``. ``tight`` > 0 draws words that close together."""
        if not s:
            return
        self._set(size, style)
        if tight <= 0:
            self.pdf.text(x, y, s)
            return
        for word in s.split(" "):
            if word:
                self.pdf.text(x, y, word)
                x += float(self.pdf.get_string_width(word))
            x += tight

    def right(self, x_right: float, y: float, s: str, size: float = 9, style: str = "") -> None:
        self.text(x_right - self.width_of(s, size, style), y, s, size, style)

    def hline(self, x0: float, x1: float, y: float, width: float = 0.5) -> None:
        self.pdf.set_line_width(width)
        self.pdf.line(x0, y, x1, y)

    def vline(self, x: float, y0: float, y1: float, width: float = 0.5) -> None:
        self.pdf.set_line_width(width)
        self.pdf.line(x, y0, x, y1)

    def shade(self, x: float, y: float, w: float, h: float, grey: int = 230) -> None:
        self.pdf.set_fill_color(grey, grey, grey)
        self.pdf.rect(x, y, w, h, style="F")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


# --------------------------------------------------------------------------------------------
# Synthetic people and values
# --------------------------------------------------------------------------------------------
FIRST_F = ["Maren", "Odile", "Priya", "Zsófia", "Henrike", "Aoife", "Lucía", "Tamsin", "Noor"]
FIRST_M = ["Bastian", "Ravi", "Levente", "Caspar", "Eamon", "Tobias", "Arjun", "Dorian", "Ilan"]
LAST = [
    "Quillfeather",
    "Marrow",
    "Vantreight",
    "Oakhurst",
    "Szélvári",
    "Brenwick",
    "Kettleby",
    "Lindqvist",
    "Rastogi",
    "Havelmann",
    "Ormsby",
    "Duvernay",
    "Pemberton-Hale",
    "Tóthfalvi",
]


@dataclass
class Person:
    first: str
    last: str
    sex: str  # "M" / "F"
    birth: date


@dataclass
class Row:
    """One printed result and its ground truth."""

    aid: str
    name: str
    value: float | str
    text: str  # value as printed (no flag)
    unit: str  # unit as printed ("" when none)
    ucum: str
    ref_low: float | None
    ref_high: float | None
    ref: str  # range as printed (first line)
    flag: str | None  # truth flag: only what is printed
    abnormal: str | None  # "H" / "L" / "A" from the value, printed or not
    comparator: str | None = None
    ref_lines: list[str] = field(default_factory=list)  # extra printed range lines

    def truth(self, loinc: str, when: date) -> dict[str, Any]:
        out: dict[str, Any] = {
            "analyte": self.aid,
            "loinc": loinc,
            "printed_name": self.name,
            "value": self.value,
            "unit": self.unit,
            "unit_ucum": self.ucum,
            "ref_low": self.ref_low,
            "ref_high": self.ref_high,
            "flag": self.flag,
            "date": when.isoformat(),
        }
        if self.comparator:
            out["comparator"] = self.comparator
        return out


def fmt(v: float, dec: int, comma: bool = False, thousands: str = "") -> str:
    s = f"{v:,.{dec}f}" if thousands else f"{v:.{dec}f}"
    if thousands:
        s = s.replace(",", "\x00")
    if comma:
        s = s.replace(".", ",")
    return s.replace("\x00", thousands)


def indian_group(n: int) -> str:
    """2,50,000 (lakh grouping)."""
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    parts: list[str] = []
    while len(head) > 2:
        parts.insert(0, head[-2:])
        head = head[:-2]
    if head:
        parts.insert(0, head)
    return ",".join(parts) + "," + tail


class Values:
    """Draws realistic values in a given unit from the catalog's reference intervals."""

    def __init__(self, rng: random.Random, sex: str, p_abnormal: float = 0.22) -> None:
        self.rng = rng
        self.sex = sex
        self.p_abnormal = p_abnormal
        self.cat = load_catalog()

    def analyte(self, aid: str) -> Analyte:
        a = self.cat.by_id(aid)
        if a is None:
            raise KeyError(aid)
        return a

    def interval(
        self, aid: str, ucum: str, dec: int, ref: tuple[float | None, float | None] | None = None
    ) -> tuple[float | None, float | None]:
        a = self.analyte(aid)
        if ref is not None:
            return ref
        lo, hi = a.ref_low, a.ref_high

        def cv(v: float | None) -> float | None:
            if v is None:
                return None
            return round(a.convert(v, a.canonical_unit, ucum), dec)

        return cv(lo), cv(hi)

    def number(
        self,
        aid: str,
        ucum: str,
        dec: int,
        ref: tuple[float | None, float | None] | None = None,
        abnormal: bool | None = None,
    ) -> tuple[float, float | None, float | None, str | None]:
        """(value, ref_low, ref_high, "H"/"L"/None) rounded to ``dec`` decimals."""
        lo, hi = self.interval(aid, ucum, dec, ref)
        rng = self.rng
        ab = rng.random() < self.p_abnormal if abnormal is None else abnormal
        if lo is not None and hi is not None:
            span = hi - lo
            if not ab:
                v = rng.uniform(lo + 0.08 * span, hi - 0.08 * span)
            elif lo > 0 and rng.random() < 0.4:
                v = lo - rng.uniform(0.08, 0.3) * min(span, lo * 0.6)
            else:
                v = hi + rng.uniform(0.08, 0.5) * (span if span > 0 else hi * 0.2)
        elif hi is not None:
            # Sample normal values above the catalog's lower limit (an HbA1c of 1.7 % or a total
            # cholesterol of 37 mg/dL would be implausible) even when only "<5.7" is printed.
            floor = self.interval(aid, ucum, dec)[0]
            floor = floor if floor is not None and 0 < floor < hi else 0.45 * hi
            v = hi * rng.uniform(1.15, 2.2) if ab else rng.uniform(floor, 0.97 * hi)
        elif lo is not None:
            v = lo * (rng.uniform(0.5, 0.85) if ab else rng.uniform(1.1, 1.9))
        else:
            raise ValueError(aid)
        v = max(v, 10 ** (-dec))
        v = round(v, dec)
        flag = None
        if hi is not None and v > hi:
            flag = "H"
        elif lo is not None and v < lo:
            flag = "L"
        return v, lo, hi, flag


# --------------------------------------------------------------------------------------------
# Report model shared by the layouts
# --------------------------------------------------------------------------------------------
@dataclass
class Report:
    rid: str
    layout: str
    person: Person
    collected: date
    received: date
    reported: date
    printed: date
    lab: str
    sections: list[tuple[str, list[Row]]] = field(default_factory=list)
    unknown: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, value, unit, ref

    def truth(self, pages: int) -> dict[str, Any]:
        cat = load_catalog()
        results = []
        for _, rows in self.sections:
            for r in rows:
                a = cat.by_id(r.aid)
                assert a is not None
                results.append(r.truth(a.loinc, self.collected))
        return {
            "id": self.rid,
            "layout": self.layout,
            "pages": pages,
            "lab_name": self.lab,
            "patient_name": f"{self.person.last.upper()}, {self.person.first.upper()}",
            "patient_birth_date": self.person.birth.isoformat(),
            "patient_sex": self.person.sex,
            "collection_date": self.collected.isoformat(),
            "received_date": self.received.isoformat(),
            "reported_date": self.reported.isoformat(),
            "results": results,
            "unmatched_expected": [u[0] for u in self.unknown],
        }


# Real tests the catalog does not list (the catalog's growth took in Galectin-3, adiponectin,
# leptin, osteocalcin, chromogranin A and oxidized LDL).
UNKNOWN_TESTS = [
    ("Zonulin", "38.2", "ng/mL", "< 48.0"),
    ("Fetuin-A", "0.61", "g/L", "0.40-0.90"),
    ("Pentraxin-3", "2.1", "ng/mL", "< 3.0"),
    ("Neopterin", "6.3", "nmol/L", "< 10.0"),
    ("Irisin", "9.4", "ng/mL", "3.0-15.0"),
    ("Kisspeptin", "0.8", "ng/mL", "< 2.0"),
    ("Nitrotyrosine", "48", "nmol/L", "< 60"),
]


def _dates(rng: random.Random) -> tuple[date, date, date, date]:
    collected = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 560))
    received = collected + timedelta(days=rng.choice([0, 0, 1]))
    reported = received + timedelta(days=rng.randint(1, 3))
    printed = reported + timedelta(days=rng.randint(4, 40))
    return collected, received, reported, printed


def _person(rng: random.Random) -> Person:
    sex = rng.choice("MF")
    first = rng.choice(FIRST_M if sex == "M" else FIRST_F)
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 62))
    return Person(first, rng.choice(LAST), sex, birth)


def num_row(
    vals: Values,
    aid: str,
    name: str,
    ucum: str,
    unit: str,
    dec: int,
    *,
    comma: bool = False,
    flags: tuple[str, str] | None = ("H", "L"),
    ref: tuple[float | None, float | None] | None = None,
    ref_fmt: Callable[[float | None, float | None, str], str] | None = None,
    thousands: str = "",
    abnormal: bool | None = None,
) -> Row:
    """A numeric row; ``flags`` is the printed (high, low) pair or None when flags are not printed."""
    v, lo, hi, ab = vals.number(aid, ucum, dec, ref, abnormal)
    text = fmt(v, dec, comma, thousands if v >= 1000 else "")
    ref_text = (ref_fmt or range_dash)(lo, hi, "," if comma else ".")
    flag = None
    if ab is not None and flags is not None:
        flag = ab
    if dec == 0:
        v = float(int(v))
    if lo is not None and dec > 0:
        ref_text = ref_text  # printed with the same number of decimals below
    return Row(aid, name, v, text, unit, ucum, lo, hi, ref_text, flag, ab)


def _n(v: float, sep: str) -> str:
    s = f"{v:g}" if abs(v) < 1e6 else f"{v:.0f}"
    return s.replace(".", sep)


def range_dash(lo: float | None, hi: float | None, sep: str) -> str:
    if lo is not None and hi is not None:
        return f"{_n(lo, sep)}-{_n(hi, sep)}"
    if hi is not None:
        return f"<{_n(hi, sep)}"
    assert lo is not None
    return f">{_n(lo, sep)}"


def range_spaced(lo: float | None, hi: float | None, sep: str) -> str:
    if lo is not None and hi is not None:
        return f"{_n(lo, sep)} - {_n(hi, sep)}"
    if hi is not None:
        return f"< {_n(hi, sep)}"
    assert lo is not None
    return f"> {_n(lo, sep)}"


def range_us_portal(lo: float | None, hi: float | None, sep: str) -> str:
    if lo is not None and hi is not None:
        return f"{_n(lo, sep)}-{_n(hi, sep)}"
    if hi is not None:
        return f"<{_n(hi, sep)}"
    assert lo is not None
    return f"> OR = {_n(lo, sep)}"


def range_paren(lo: float | None, hi: float | None, sep: str) -> str:
    return f"({range_spaced(lo, hi, sep)})"


def range_german(lo: float | None, hi: float | None, sep: str) -> str:
    if lo is not None and hi is not None:
        return f"{_n(lo, sep)} - {_n(hi, sep)}"
    if hi is not None:
        return f"bis {_n(hi, sep)}" if hi >= 1 else f"< {_n(hi, sep)}"
    assert lo is not None
    return f"> {_n(lo, sep)}"


def qual_row(
    name: str, aid: str, value: str, normal: str, *, flag_word: str | None, ref: str | None = None
) -> Row:
    """A qualitative row; ``flag_word`` printed for abnormal values ("A") or None."""
    abnormal = value.casefold() != normal.casefold()
    return Row(
        aid,
        name,
        value,
        value,
        "",
        "",
        None,
        None,
        ref if ref is not None else normal,
        "A" if abnormal and flag_word else None,
        "A" if abnormal else None,
    )


def pick_unknown(rng: random.Random, n: int = 1) -> list[tuple[str, str, str, str]]:
    return rng.sample(UNKNOWN_TESTS, n)


# --------------------------------------------------------------------------------------------
# Panels (names per language; units per convention)
# --------------------------------------------------------------------------------------------
# (analyte id, US name, UCUM, US spelling, decimals)
US_PANELS: dict[str, list[tuple[str, str, str, str, int]]] = {
    "CBC With Differential/Platelet": [
        ("wbc", "WBC", "10*3/uL", "x10E3/uL", 1),
        ("rbc", "RBC", "10*6/uL", "x10E6/uL", 2),
        ("hgb", "Hemoglobin", "g/dL", "g/dL", 1),
        ("hct", "Hematocrit", "%", "%", 1),
        ("mcv", "MCV", "fL", "fL", 0),
        ("mch", "MCH", "pg", "pg", 1),
        ("mchc", "MCHC", "g/dL", "g/dL", 1),
        ("rdw", "RDW", "%", "%", 1),
        ("plt", "Platelets", "10*3/uL", "x10E3/uL", 0),
        ("neut_pct", "Neutrophils", "%", "%", 0),
        ("lymph_pct", "Lymphs", "%", "%", 0),
        ("mono_pct", "Monocytes", "%", "%", 0),
        ("eos_pct", "Eos", "%", "%", 0),
        ("baso_pct", "Basos", "%", "%", 0),
        ("neut_abs", "Neutrophils (Absolute)", "10*3/uL", "x10E3/uL", 1),
        ("lymph_abs", "Lymphs (Absolute)", "10*3/uL", "x10E3/uL", 1),
        ("mono_abs", "Monocytes(Absolute)", "10*3/uL", "x10E3/uL", 1),
        ("eos_abs", "Eos (Absolute)", "10*3/uL", "x10E3/uL", 1),
        ("baso_abs", "Baso (Absolute)", "10*3/uL", "x10E3/uL", 1),
    ],
    "Comp. Metabolic Panel (14)": [
        ("glucose", "Glucose", "mg/dL", "mg/dL", 0),
        ("bun", "BUN", "mg/dL", "mg/dL", 0),
        ("creatinine", "Creatinine", "mg/dL", "mg/dL", 2),
        ("egfr", "eGFR", "mL/min/{1.73_m2}", "mL/min/1.73", 0),
        ("bun_creat", "BUN/Creatinine Ratio", "{ratio}", "", 0),
        ("sodium", "Sodium", "mmol/L", "mmol/L", 0),
        ("potassium", "Potassium", "mmol/L", "mmol/L", 1),
        ("chloride", "Chloride", "mmol/L", "mmol/L", 0),
        ("co2", "Carbon Dioxide, Total", "mmol/L", "mmol/L", 0),
        ("calcium", "Calcium", "mg/dL", "mg/dL", 1),
        ("protein_total", "Protein, Total", "g/dL", "g/dL", 1),
        ("albumin", "Albumin", "g/dL", "g/dL", 1),
        ("globulin", "Globulin, Total", "g/dL", "g/dL", 1),
        ("bili_total", "Bilirubin, Total", "mg/dL", "mg/dL", 1),
        ("alp", "Alkaline Phosphatase", "U/L", "IU/L", 0),
        ("ast", "AST (SGOT)", "U/L", "IU/L", 0),
        ("alt", "ALT (SGPT)", "U/L", "IU/L", 0),
    ],
    "Lipid Panel": [
        ("chol", "Cholesterol, Total", "mg/dL", "mg/dL", 0),
        ("tg", "Triglycerides", "mg/dL", "mg/dL", 0),
        ("hdl", "HDL Cholesterol", "mg/dL", "mg/dL", 0),
        ("vldl", "VLDL Cholesterol Cal", "mg/dL", "mg/dL", 0),
        ("ldl", "LDL Chol Calc (NIH)", "mg/dL", "mg/dL", 0),
    ],
    "Thyroid": [
        ("tsh", "TSH", "u[IU]/mL", "uIU/mL", 3),
        ("ft4", "Free T4", "ng/dL", "ng/dL", 2),
    ],
    "Hemoglobin A1c": [("hba1c", "Hemoglobin A1c", "%", "%", 1)],
    "Vitamins": [
        ("vitd", "Vitamin D, 25-Hydroxy", "ng/mL", "ng/mL", 1),
        ("b12", "Vitamin B12", "pg/mL", "pg/mL", 0),
        ("ferritin", "Ferritin", "ng/mL", "ng/mL", 0),
    ],
}

US_RANGES: dict[str, tuple[float | None, float | None]] = {
    "wbc": (3.4, 10.8),
    "rbc": (4.14, 5.80),
    "hgb": (13.0, 17.7),
    "hct": (37.5, 51.0),
    "mcv": (79, 97),
    "mch": (26.6, 33.0),
    "mchc": (31.5, 35.7),
    "rdw": (11.6, 15.4),
    "plt": (150, 450),
    "neut_abs": (1.4, 7.0),
    "lymph_abs": (0.7, 3.1),
    "mono_abs": (0.1, 0.9),
    "eos_abs": (0.0, 0.4),
    "baso_abs": (0.0, 0.2),
    "glucose": (70, 99),
    "bun": (6, 24),
    "creatinine": (0.76, 1.27),
    "egfr": (59, None),
    "bun_creat": (9, 20),
    "sodium": (134, 144),
    "potassium": (3.5, 5.2),
    "chloride": (96, 106),
    "co2": (20, 29),
    "calcium": (8.7, 10.2),
    "protein_total": (6.0, 8.5),
    "albumin": (3.8, 4.9),
    "globulin": (1.5, 4.5),
    "bili_total": (0.0, 1.2),
    "alp": (44, 121),
    "ast": (0, 40),
    "alt": (0, 44),
    "chol": (100, 199),
    "tg": (0, 149),
    "hdl": (39, None),
    "vldl": (5, 40),
    "ldl": (0, 99),
    "tsh": (0.45, 4.5),
    "ft4": (0.82, 1.77),
    "hba1c": (4.8, 5.6),
    "vitd": (30.0, 100.0),
    "b12": (232, 1245),
    "ferritin": (30, 400),
}


# --------------------------------------------------------------------------------------------
# Page flow: page headers repeated on every page, rows moved to the next page when full
# --------------------------------------------------------------------------------------------
class Flow:
    def __init__(
        self,
        doc: Doc,
        page_header: Callable[[int], float],
        column_header: Callable[[float], float] | None,
        bottom: float,
        footer: Callable[[int], None] | None = None,
    ) -> None:
        self.doc = doc
        self.page_header = page_header
        self.column_header = column_header
        self.bottom = bottom
        self.footer = footer
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        if self.doc.pages and self.footer:
            self.footer(self.doc.pages)
        self.doc.new_page()
        self.y = self.page_header(self.doc.pages)
        if self.column_header:
            self.y = self.column_header(self.y)

    def need(self, h: float) -> None:
        if self.y + h > self.bottom:
            self.new_page()

    def finish(self) -> None:
        if self.footer:
            self.footer(self.doc.pages)


def wrap(doc: Doc, text: str, width: float, size: float) -> list[str]:
    lines: list[str] = []
    cur = ""
    for w in text.split():
        cand = f"{cur} {w}".strip()
        if cur and doc.width_of(cand, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def paragraph(flow: Flow, x: float, text: str, width: float, size: float = 7) -> None:
    for line in wrap(flow.doc, text, width, size):
        flow.need(size + 3)
        flow.doc.text(x, flow.y, line, size)
        flow.y += size + 2.5
    flow.y += 3


FOOTNOTES_US = [
    "Please note: Effective 02/20/2024 the reference interval for this test has changed; results "
    "reported before that date were compared with 10-50 and are not directly comparable.",
    "According to ADA guidelines, hemoglobin A1c <7.0% represents optimal control in non-pregnant "
    "diabetic patients. Different metrics may apply to specific patient populations.",
    "This test was developed and its performance characteristics determined by the laboratory. It "
    "has not been cleared or approved by the Food and Drug Administration. Results 3.5 to 4.9 "
    "should be interpreted in the clinical context.",
    "Vitamin D deficiency has been defined by the Institute of Medicine and an Endocrine Society "
    "practice guideline as a level of serum 25-OH vitamin D less than 20 ng/mL (1,2). The Endocrine "
    "Society went on to further define vitamin D insufficiency as a level between 21 and 29 ng/mL.",
]


# --------------------------------------------------------------------------------------------
# Layout 1: US national lab, classic
# --------------------------------------------------------------------------------------------
def layout_us_classic(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("Letter", "helvetica")
    variant_prev = rng.random() < 0.6  # "Previous Result and Date" column
    p = rep.person
    panels = ["CBC With Differential/Platelet", "Comp. Metabolic Panel (14)", "Lipid Panel"]
    panels += rng.sample(["Thyroid", "Hemoglobin A1c", "Vitamins"], 2)
    for panel in panels:
        rows = []
        for aid, name, ucum, unit, dec in US_PANELS[panel]:
            ref = US_RANGES.get(aid)
            if ref is None:
                ref = vals.interval(aid, ucum, dec)
            r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, thousands=",")
            r.flag = {"H": "H", "L": "L"}.get(r.abnormal or "")
            rows.append(r)
        rep.sections.append((panel, rows))
    rep.unknown = pick_unknown(rng)

    def page_header(page: int) -> float:
        d = doc
        if page == 1:
            d.text(36, 48, rep.lab, 15, "B")
            d.text(36, 62, "Patient Report", 9)
            d.text(36, 84, f"Patient Name: {p.last.upper()}, {p.first.upper()}", 9)
            d.text(
                330,
                84,
                f"Specimen ID: {rng.randint(100, 999)}-{rng.randint(100, 999)}-"
                f"{rng.randint(1000, 9999)}-0",
                8,
            )
            d.text(
                36,
                97,
                f"DOB: {p.birth:%m/%d/%Y}      Sex: {'Male' if p.sex == 'M' else 'Female'}",
                9,
            )
            d.text(330, 97, "Control ID: 88117035", 8)
            d.text(36, 116, "Date Collected", 7, "B")
            d.text(150, 116, "Date Received", 7, "B")
            d.text(264, 116, "Date Reported", 7, "B")
            d.text(378, 116, "Fasting", 7, "B")
            d.text(36, 127, f"{rep.collected:%m/%d/%Y} 0000 Local", 8)
            d.text(150, 127, f"{rep.received:%m/%d/%Y}", 8)
            d.text(264, 127, f"{rep.reported:%m/%d/%Y}", 8)
            d.text(378, 127, "Yes", 8)
            d.hline(36, 576, 134)
            return 150
        d.text(36, 40, f"{p.last.upper()}, {p.first.upper()}     DOB: {p.birth:%m/%d/%Y}", 8)
        d.text(360, 40, f"Printed: {rep.printed:%m/%d/%Y}   Page {page}", 8)
        d.text(36, 52, f"Date Collected: {rep.collected:%m/%d/%Y}", 8)
        d.hline(36, 576, 58)
        return 74

    cols = {"name": 36, "val": 200, "prev": 300, "unit": 400, "ref": 470, "lab": 552}
    if not variant_prev:
        cols = {"name": 36, "val": 240, "unit": 350, "ref": 440, "lab": 552}

    def column_header(y: float) -> float:
        d = doc
        d.shade(34, y - 10, 544, 26 if variant_prev else 15)
        if variant_prev:
            d.text(cols["name"], y, "Test", 8, "B")
            d.text(cols["val"], y, "Current Result and Flag", 8, "B")
            d.text(cols["prev"], y, "Previous Result and Date", 8, "B")
            d.text(cols["unit"], y, "Units", 8, "B")
            d.text(cols["ref"], y, "Reference Interval", 8, "B")
            return y + 28
        d.text(cols["name"], y, "TESTS", 8, "B")
        d.text(cols["val"], y, "RESULT", 8, "B")
        d.text(cols["val"] + 48, y, "FLAG", 8, "B")
        d.text(cols["unit"], y, "UNITS", 8, "B")
        d.text(cols["ref"], y, "REFERENCE INTERVAL", 8, "B")
        d.text(cols["lab"], y, "LAB", 8, "B")
        return y + 20

    flow = Flow(doc, page_header, column_header, 730)
    prev_date = rep.collected - timedelta(days=rng.randint(120, 500))
    for panel, rows in rep.sections:
        flow.need(30)
        doc.text(36, flow.y, panel, 9, "B")
        flow.y += 14
        for r in rows:
            flow.need(14)
            y = flow.y
            name = r.name
            if variant_prev:
                doc.text(cols["name"] + 8, y, name, 8.5)
                doc.text(cols["name"] + 12 + doc.width_of(name, 8.5), y - 2, "01", 6)
                word = {"H": "High", "L": "Low"}.get(r.flag or "", "")
                doc.text(cols["val"], y, f"{r.text} {word}".strip(), 8.5, "B" if word else "")
                if rng.random() < 0.7 and isinstance(r.value, float):
                    prev = r.value * rng.uniform(0.85, 1.15)
                    dec = len(r.text.split(".")[1]) if "." in r.text else 0
                    doc.text(cols["prev"], y, f"{prev:.{dec}f}", 8.5)
                    doc.text(cols["prev"] + 40, y, f"{prev_date:%m/%d/%Y}", 8.5)
            else:
                doc.text(cols["name"] + 8, y, name, 8.5)
                doc.text(cols["val"], y, r.text, 8.5)
                word = {"H": "High", "L": "Low"}.get(r.flag or "", "")
                doc.text(cols["val"] + 48, y, word, 8.5, "B")
                doc.text(cols["lab"] + 4, y, "01", 8)
            doc.text(cols["unit"], y, r.unit, 8.5)
            doc.text(cols["ref"], y, r.ref, 8.5)
            flow.y += 13
            if r.aid in ("hba1c",):
                for line in (
                    "Prediabetes: 5.7 - 6.4",
                    "Diabetes: >6.4",
                    "Glycemic control for adults with diabetes: <7.0",
                ):
                    flow.need(10)
                    doc.text(cols["val"] - 40, flow.y, line, 7.5)
                    flow.y += 10
            if r.aid in ("ldl", "vitd", "creatinine") and rng.random() < 0.7:
                paragraph(flow, cols["name"] + 8, rng.choice(FOOTNOTES_US), 520)
        if panel == "Comp. Metabolic Panel (14)":
            for name, value, unit, uref in rep.unknown:
                flow.need(14)
                doc.text(cols["name"] + 8, flow.y, name, 8.5)
                doc.text(cols["val"], flow.y, value, 8.5)
                doc.text(cols["unit"], flow.y, unit, 8.5)
                doc.text(cols["ref"], flow.y, uref, 8.5)
                flow.y += 13
    flow.need(40)
    paragraph(
        flow,
        36,
        "Comments: All results reviewed. Specimen received at ambient temperature. "
        "Test methodology on request. Laboratory Director: R. Nemo, MD.",
        520,
    )
    return doc


# --------------------------------------------------------------------------------------------
# Layout 2: US national lab, patient portal print (In Range / Out Of Range)
# --------------------------------------------------------------------------------------------
PORTAL_PANELS: dict[str, list[tuple[str, str, str, str, int]]] = {
    "COMPREHENSIVE METABOLIC PANEL": [
        ("glucose", "GLUCOSE", "mg/dL", "mg/dL", 0),
        ("bun", "UREA NITROGEN (BUN)", "mg/dL", "mg/dL", 0),
        ("creatinine", "CREATININE", "mg/dL", "mg/dL", 2),
        ("egfr", "EGFR", "mL/min/{1.73_m2}", "mL/min/1.73m2", 0),
        ("sodium", "SODIUM", "mmol/L", "mmol/L", 0),
        ("potassium", "POTASSIUM", "mmol/L", "mmol/L", 1),
        ("chloride", "CHLORIDE", "mmol/L", "mmol/L", 0),
        ("co2", "CARBON DIOXIDE", "mmol/L", "mmol/L", 0),
        ("calcium", "CALCIUM", "mg/dL", "mg/dL", 1),
        ("protein_total", "PROTEIN, TOTAL", "g/dL", "g/dL", 1),
        ("albumin", "ALBUMIN", "g/dL", "g/dL", 1),
        ("globulin", "GLOBULIN", "g/dL", "g/dL", 1),
        ("ag_ratio", "ALBUMIN/GLOBULIN RATIO", "{ratio}", "", 1),
        ("bili_total", "BILIRUBIN, TOTAL", "mg/dL", "mg/dL", 1),
        ("alp", "ALKALINE PHOSPHATASE", "U/L", "U/L", 0),
        ("ast", "AST", "U/L", "U/L", 0),
        ("alt", "ALT", "U/L", "U/L", 0),
    ],
    "LIPID PANEL, STANDARD": [
        ("chol", "CHOLESTEROL, TOTAL", "mg/dL", "mg/dL", 0),
        ("hdl", "HDL CHOLESTEROL", "mg/dL", "mg/dL", 0),
        ("tg", "TRIGLYCERIDES", "mg/dL", "mg/dL", 0),
        ("ldl", "LDL-CHOLESTEROL", "mg/dL", "mg/dL", 0),
        ("nonhdl", "NON HDL CHOLESTEROL", "mg/dL", "mg/dL", 0),
    ],
    "CBC (INCLUDES DIFF/PLT)": [
        ("wbc", "WHITE BLOOD CELL COUNT", "10*3/uL", "Thousand/uL", 1),
        ("rbc", "RED BLOOD CELL COUNT", "10*6/uL", "Million/uL", 2),
        ("hgb", "HEMOGLOBIN", "g/dL", "g/dL", 1),
        ("hct", "HEMATOCRIT", "%", "%", 1),
        ("mcv", "MCV", "fL", "fL", 1),
        ("plt", "PLATELET COUNT", "10*3/uL", "Thousand/uL", 0),
        ("neut_abs", "ABSOLUTE NEUTROPHILS", "/uL", "cells/uL", 0),
        ("lymph_abs", "ABSOLUTE LYMPHOCYTES", "/uL", "cells/uL", 0),
        ("neut_pct", "NEUTROPHILS", "%", "%", 1),
        ("lymph_pct", "LYMPHOCYTES", "%", "%", 1),
    ],
    "HEMOGLOBIN A1c": [("hba1c", "HEMOGLOBIN A1c", "%", "%", 1)],
    "TSH": [("tsh", "TSH", "m[IU]/L", "mIU/L", 2)],
}
PORTAL_RANGES: dict[str, tuple[float | None, float | None]] = {
    "glucose": (65, 99),
    "bun": (7, 25),
    "creatinine": (0.6, 1.29),
    "egfr": (60, None),
    "sodium": (135, 146),
    "potassium": (3.5, 5.3),
    "chloride": (98, 110),
    "co2": (20, 32),
    "calcium": (8.6, 10.3),
    "protein_total": (6.1, 8.1),
    "albumin": (3.6, 5.1),
    "globulin": (1.9, 3.7),
    "ag_ratio": (1.0, 2.5),
    "bili_total": (0.2, 1.2),
    "alp": (36, 130),
    "ast": (10, 40),
    "alt": (9, 46),
    "chol": (None, 200),
    "hdl": (40, None),
    "tg": (None, 150),
    "ldl": (None, 100),
    "nonhdl": (None, 130),
    "wbc": (3.8, 10.8),
    "rbc": (4.2, 5.8),
    "hgb": (13.2, 17.1),
    "hct": (38.5, 50.0),
    "mcv": (80.0, 100.0),
    "plt": (140, 400),
    "neut_abs": (1500, 7800),
    "lymph_abs": (850, 3900),
    "hba1c": (None, 5.7),
    "tsh": (0.4, 4.5),
}


def layout_us_portal(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("Letter", "dejavu")
    p = rep.person
    panels = list(PORTAL_PANELS)
    rng.shuffle(panels)
    for panel in panels:
        rows = []
        for aid, name, ucum, unit, dec in PORTAL_PANELS[panel]:
            ref = PORTAL_RANGES.get(aid)
            r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_us_portal)
            if ref is None:  # differential % printed without a range on this layout
                r.ref, r.ref_low, r.ref_high, r.flag = "", None, None, None
            rows.append(r)
        rep.sections.append((panel, rows))
    rep.unknown = pick_unknown(rng)
    xs = {"name": 40, "in": 250, "out": 320, "ref": 400, "lab": 550}

    def page_header(page: int) -> float:
        doc.text(40, 40, f"{p.first} {p.last}", 13, "B")
        doc.text(
            40,
            54,
            f"DOB: {p.birth:%m/%d/%Y}   |   Sex: {p.sex}   |   Patient ID: "
            f"{rng.randint(10**7, 10**8)}",
            8,
        )
        doc.text(420, 40, rep.lab, 10, "B")
        doc.text(420, 54, f"Printed: {rep.printed:%m/%d/%Y} 10:41 AM", 7)
        if page == 1:
            doc.text(40, 78, "Collection Date:", 8, "B")
            doc.text(115, 78, f"{rep.collected:%m/%d/%Y} 08:14 AM", 8)
            doc.text(230, 78, "Received:", 8, "B")
            doc.text(275, 78, f"{rep.received:%m/%d/%Y}", 8)
            doc.text(360, 78, "Reported:", 8, "B")
            doc.text(407, 78, f"{rep.reported:%m/%d/%Y}", 8)
            doc.text(40, 92, "Ordering physician: DR. ALDOUS PENROSE      Account: 73310442", 8)
            doc.hline(40, 572, 100)
            return 118
        doc.hline(40, 572, 62)
        return 80

    def column_header(y: float) -> float:
        doc.text(xs["name"], y, "Test Name", 8, "B")
        doc.text(xs["in"], y, "In Range", 8, "B")
        doc.text(xs["out"], y, "Out Of Range", 8, "B")
        doc.text(xs["ref"], y, "Reference Range", 8, "B")
        doc.text(xs["lab"], y, "Lab", 8, "B")
        doc.hline(40, 572, y + 4)
        return y + 18

    flow = Flow(doc, page_header, column_header, 740)
    for panel, rows in rep.sections:
        flow.need(40)
        doc.text(xs["name"], flow.y, panel, 9, "B")
        flow.y += 14
        for r in rows:
            flow.need(14)
            y = flow.y
            doc.text(xs["name"] + 6, y, r.name, 8.5)
            if r.abnormal and r.ref:
                doc.text(xs["out"], y, f"{r.text} {r.abnormal}", 8.5, "B")
                r.flag = r.abnormal
            else:
                doc.text(xs["in"], y, r.text, 8.5)
                r.flag = None
            ref_cell = f"{r.ref} {r.unit}".strip() if r.ref else r.unit
            if r.aid == "ag_ratio":
                ref_cell = f"{r.ref} (calc)"
            doc.text(xs["ref"], y, ref_cell, 8.5)
            doc.text(xs["lab"], y, "EN", 8)
            flow.y += 13
            if r.aid == "egfr" and rng.random() < 0.8:
                paragraph(
                    flow,
                    xs["name"] + 18,
                    "The eGFR is based on the CKD-EPI 2021 equation. "
                    "To calculate the new eGFR from a previous Creatinine or Cystatin C "
                    "result, go to the laboratory web site.",
                    480,
                )
            if r.aid == "ldl":
                for line in (
                    "Desirable range <100 mg/dL for primary prevention;",
                    "<70 mg/dL for patients with CHD or diabetic patients",
                    "with > or = 2 CHD risk factors.",
                ):
                    flow.need(10)
                    doc.text(xs["name"] + 18, flow.y, line, 7)
                    flow.y += 9
                flow.y += 3
            if r.aid == "hba1c":
                paragraph(
                    flow,
                    xs["name"] + 18,
                    "For someone without known diabetes, a hemoglobin "
                    "A1c value of 6.5% or greater indicates that they may have diabetes and "
                    "this should be confirmed with a follow-up test.",
                    480,
                )
        if panel.startswith("COMP"):
            for name, value, unit, uref in rep.unknown:
                flow.need(14)
                doc.text(xs["name"] + 6, flow.y, name.upper(), 8.5)
                doc.text(xs["in"], flow.y, value, 8.5)
                doc.text(xs["ref"], flow.y, f"{uref} {unit}", 8.5)
                doc.text(xs["lab"], flow.y, "EN", 8)
                flow.y += 13
    return doc


# --------------------------------------------------------------------------------------------
# Layout 3: Indian diagnostic chain
# --------------------------------------------------------------------------------------------
def layout_in_chain(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "dejavu")
    tight = 1.0 if rng.random() < 0.4 else 0.0  # words drawn almost touching
    p = rep.person
    blood: list[Row] = []
    spec = [
        ("hgb", "Hemoglobin", "g/dL", "g/dL", 1, "Photometry"),
        ("rbc", "Total RBC Count", "10*6/uL", "mill/mm3", 2, "Electrical Impedance"),
        ("hct", "Packed Cell Volume (PCV)", "%", "%", 1, "Calculated"),
        ("mcv", "Mean Corpuscular Volume (MCV)", "fL", "fL", 1, "Calculated"),
        ("wbc", "Total Leukocyte Count", "10*3/uL", "thou/mm3", 2, "Electrical Impedance"),
        ("plt", "Platelet Count", "10*3/uL", "thou/mm3", 0, "Electrical Impedance"),
    ]
    for aid, name, ucum, unit, dec, method in spec:
        r = num_row(vals, aid, name, ucum, unit, dec, ref_fmt=range_spaced)
        r.ref_lines = [method]
        blood.append(r)
    lipids: list[Row] = []
    chol = num_row(vals, "chol", "Total Cholesterol", "mg/dL", "mg/dL", 0, ref=(None, 200))
    chol.ref = "Desirable: < 200"
    chol.ref_lines = ["Borderline high: 200 - 239", "High: >= 240"]
    tg = num_row(vals, "tg", "Triglycerides", "mg/dL", "mg/dL", 0, ref=(None, 150))
    tg.ref = "Normal: < 150"
    tg.ref_lines = ["Borderline high: 150 - 199", "High: 200 - 499", "Very high: >= 500"]
    hdl = num_row(
        vals, "hdl", "HDL Cholesterol", "mg/dL", "mg/dL", 0, ref=(40, 60), ref_fmt=range_spaced
    )
    ldl = num_row(vals, "ldl", "LDL Cholesterol", "mg/dL", "mg/dL", 0, ref=(None, 100))
    ldl.ref = "Optimal: < 100"
    ldl.ref_lines = ["Near optimal: 100 - 129", "Borderline high: 130 - 159", "High: 160 - 189"]
    vldl = num_row(
        vals, "vldl", "VLDL Cholesterol", "mg/dL", "mg/dL", 0, ref=(None, 30), ref_fmt=range_spaced
    )
    ratio = num_row(
        vals,
        "chol_hdl",
        "Chol/HDL Ratio",
        "{ratio}",
        "Ratio",
        1,
        ref=(3.0, 5.0),
        ref_fmt=range_spaced,
    )
    for r, m in (
        (chol, "CHOD-PAP"),
        (tg, "GPO-PAP"),
        (hdl, "Direct"),
        (ldl, "Calculated"),
        (vldl, "Calculated"),
        (ratio, "Calculated"),
    ):
        r.ref_lines = r.ref_lines or []
        r.ref_lines.insert(0, "\x01" + m)  # method line (under the name)
        lipids.append(r)
    other: list[Row] = []
    for aid, name, ucum, unit, dec, ref, method in [
        ("glucose_fasting", "Glucose - Fasting", "mg/dL", "mg/dL", 0, (70, 100), "Hexokinase"),
        ("hba1c", "HbA1c", "%", "%", 1, (None, 5.7), "HPLC"),
        ("tsh", "TSH - Ultrasensitive", "u[IU]/mL", "µIU/mL", 2, (0.35, 4.94), "CLIA"),
        ("t4", "Total Thyroxine (T4)", "ug/dL", "µg/dL", 2, (4.87, 11.72), "CLIA"),
        ("vitd", "25-OH Vitamin D (Total)", "ng/mL", "ng/mL", 2, (30, 100), "CLIA"),
        ("b12", "Vitamin B-12", "pg/mL", "pg/mL", 0, (211, 911), "CLIA"),
        ("creatinine", "Creatinine", "mg/dL", "mg/dL", 2, (0.6, 1.3), "Jaffe"),
        ("uric_acid", "Uric Acid", "mg/dL", "mg/dL", 1, (3.5, 7.2), "Uricase"),
    ]:
        r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_spaced)
        if aid == "hba1c":
            r.ref = "Non-diabetic: < 5.7"
            r.ref_lines = ["Pre-diabetic: 5.7 - 6.4", "Diabetic: >= 6.5"]
        r.ref_lines.insert(0, "\x01" + method)
        other.append(r)
    for r in blood:
        r.ref_lines = ["\x01" + r.ref_lines[0]]
    flag_style = rng.choice(["HL", "none"])
    for r in blood + lipids + other:
        r.flag = r.abnormal if flag_style == "HL" else None
    rep.sections = [("HAEMATOLOGY", blood), ("LIPID PROFILE", lipids), ("BIOCHEMISTRY", other)]
    rep.unknown = pick_unknown(rng)
    header_kind = rng.choice(["bio", "desc"])
    xs = {"name": 40, "val": 270, "unit": 350, "ref": 430}

    def page_header(page: int) -> float:
        doc.text(40, 40, rep.lab, 14, "B")
        doc.text(40, 52, "NABL accredited laboratory   |   Toll free: 1800 000 0000", 7)
        age = (rep.collected - p.birth).days // 365
        doc.text(40, 72, f"Name : {p.first.upper()} {p.last.upper()}", 8.5, tight=tight)
        doc.text(40, 84, f"Age/Gender : {age} Y / {'Male' if p.sex == 'M' else 'Female'}", 8.5)
        doc.text(40, 96, "Referred By : Self", 8.5)
        doc.text(320, 72, f"Collected On : {rep.collected:%d/%b/%Y} 07:52AM", 8.5)
        doc.text(320, 84, f"Received On : {rep.received:%d/%b/%Y} 10:15AM", 8.5)
        doc.text(320, 96, f"Reported On : {rep.reported:%d/%b/%Y} 06:40PM", 8.5)
        doc.text(320, 108, f"Printed On : {rep.printed:%d/%b/%Y} 11:02AM", 8.5)
        doc.hline(40, 555, 114)
        return 132

    def column_header(y: float) -> float:
        if header_kind == "bio":
            doc.text(xs["name"], y + 5, "Test Name", 8.5, "B")
            doc.text(xs["val"], y + 5, "Results", 8.5, "B")
            doc.text(xs["unit"], y + 5, "Units", 8.5, "B")
            doc.text(xs["ref"], y, "Bio. Ref.", 8.5, "B")
            doc.text(xs["ref"], y + 10, "Interval", 8.5, "B")
            doc.hline(40, 555, y + 15)
            return y + 30
        doc.text(xs["name"], y, "Test Description", 8.5, "B")
        doc.text(xs["val"], y, "Value(s)", 8.5, "B")
        doc.text(xs["unit"], y, "Unit(s)", 8.5, "B")
        doc.text(xs["ref"], y, "Reference Range", 8.5, "B")
        doc.hline(40, 555, y + 5)
        return y + 20

    def footer(page: int) -> None:
        doc.text(
            40,
            812,
            "*** This is a computer generated report. Sample processed at the "
            "regional reference laboratory. ***",
            6.5,
        )
        doc.text(490, 812, f"Page {page}", 7)

    flow = Flow(doc, page_header, column_header, 780, footer)
    for title, rows in rep.sections:
        flow.need(60)
        doc.text(xs["name"], flow.y, title, 10, "B")
        flow.y += 16
        for r in rows:
            lines = r.ref_lines
            flow.need(14 + 10 * len(lines))
            y = flow.y
            doc.text(xs["name"], y, r.name, 8.5, "B" if r.abnormal else "", tight=tight)
            val = r.text if r.flag is None else f"{r.text} {r.flag}"
            doc.text(xs["val"], y, val, 8.5, "B" if r.abnormal else "", tight=tight)
            doc.text(xs["unit"], y, r.unit, 8.5)
            doc.text(xs["ref"], y, r.ref, 8.5, tight=tight)
            ly = y + 10
            bottom = y + 9
            for line in lines:
                if line.startswith("\x01"):  # the method, in small type under the name
                    doc.text(xs["name"], y + 9, line[1:], 6.5, "I")
                    bottom = y + 19
                    continue
                doc.text(xs["ref"], ly, line, 8.5, tight=tight)
                ly += 10
            flow.y = max(ly, bottom) + 5
            if r.aid == "hba1c":
                paragraph(
                    flow,
                    xs["name"],
                    "Interpretation: HbA1c reflects the average blood "
                    "glucose over the previous 8-12 weeks. Values between 5.7 and 6.4 "
                    "indicate increased risk; 6.5 or above on two occasions is diagnostic. "
                    "Falsely low values occur with haemolytic anaemia.",
                    500,
                    7.5,
                )
        if title == "BIOCHEMISTRY":
            for name, value, unit, uref in rep.unknown:
                flow.need(16)
                doc.text(xs["name"], flow.y, name, 8.5, tight=tight)
                doc.text(xs["val"], flow.y, value, 8.5)
                doc.text(xs["unit"], flow.y, unit, 8.5)
                doc.text(xs["ref"], flow.y, uref, 8.5)
                flow.y += 16
    flow.need(30)
    doc.text(230, flow.y + 10, "~~~ End of report ~~~", 8)
    flow.finish()
    return doc


# --------------------------------------------------------------------------------------------
# Layout 4: Indian hospital pathology, one-page CBC (Investigation / Result / Unit / Ref. Range)
# --------------------------------------------------------------------------------------------
def layout_in_hospital(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "helvetica")
    p = rep.person
    rows = []
    for aid, name, ucum, unit, dec, ref in [
        (
            "hgb",
            "Haemoglobin (Hb)",
            "g/dL",
            "g/dL",
            1,
            (13.0, 17.0) if p.sex == "M" else (12.0, 15.0),
        ),
        ("wbc", "Total Leucocyte Count (TLC)", "/uL", "/cumm", 0, (4000, 11000)),
        ("neut_pct", "Neutrophils", "%", "%", 0, (40, 80)),
        ("lymph_pct", "Lymphocytes", "%", "%", 0, (20, 40)),
        ("mono_pct", "Monocytes", "%", "%", 0, (2, 10)),
        ("eos_pct", "Eosinophils", "%", "%", 0, (1, 6)),
        ("baso_pct", "Basophils", "%", "%", 0, (0, 2)),
        ("neut_abs", "Absolute Neutrophil Count", "10*3/uL", "10^3/µL", 2, (2.0, 7.0)),
        ("lymph_abs", "Absolute Lymphocyte Count", "10*3/uL", "10^3/µL", 2, (1.0, 3.0)),
        ("eos_abs", "Absolute Eosinophil Count", "10*3/uL", "10^3/µL", 2, (0.02, 0.5)),
        ("rbc", "RBC Count", "10*6/uL", "mill/cumm", 2, (4.5, 5.5) if p.sex == "M" else (3.8, 4.8)),
        ("hct", "PCV", "%", "%", 1, (40, 50) if p.sex == "M" else (36, 46)),
        ("mcv", "MCV", "fL", "fL", 1, (83, 101)),
        ("mch", "MCH", "pg", "pg", 1, (27, 32)),
        ("mchc", "MCHC", "g/dL", "g/dL", 1, (31.5, 34.5)),
        ("rdw", "RDW-CV", "%", "%", 1, (11.6, 14.0)),
        ("plt", "Platelet Count", "/uL", "/cumm", 0, (150000, 410000)),
        ("esr", "ESR (Westergren)", "mm/h", "mm/1st hr", 0, (0, 15) if p.sex == "M" else (0, 20)),
    ]:
        r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_spaced)
        if unit == "/cumm":
            v = int(round(float(r.value), -2 if aid == "wbc" else -3))
            r.value = float(v)
            r.text = indian_group(v)
            lo, hi = r.ref_low or 0, r.ref_high or 0
            r.abnormal = "H" if v > hi else "L" if v < lo else None
            r.ref = f"{indian_group(int(lo))} - {indian_group(int(hi))}"
        # abnormal values are printed only in bold type; like the real reports' labels, the truth
        # gives the flag that the bold value and its range imply
        r.flag = r.abnormal
        rows.append(r)
    rep.sections = [("COMPLETE BLOOD COUNT", rows)]
    sex_word = "Male" if p.sex == "M" else "Female"

    def page_header(page: int) -> float:
        doc.text(170, 40, rep.lab, 14, "B")
        doc.text(200, 54, "DEPARTMENT OF PATHOLOGY", 9, "B")
        doc.hline(40, 555, 62)
        doc.text(40, 78, f"Patient Name : Mr/Ms. {p.first} {p.last}", 8.5)
        doc.text(
            40, 90, f"Age / Sex : {(rep.collected - p.birth).days // 365} Years / {sex_word}", 8.5
        )
        doc.text(40, 102, f"UHID : {rng.randint(10**6, 10**7)}     IP/OP : OP", 8.5)
        doc.text(330, 78, f"Sample Date : {rep.collected:%d-%b-%Y}", 8.5)
        doc.text(330, 90, f"Report Date : {rep.reported:%d-%b-%Y}", 8.5)
        doc.text(330, 102, "Sample : EDTA Whole Blood", 8.5)
        doc.hline(40, 555, 110)
        return 130

    def column_header(y: float) -> float:
        doc.hline(40, 555, y - 11)
        doc.text(44, y, "Investigation", 9, "B")
        doc.text(250, y, "Result", 9, "B")
        doc.text(330, y, "Unit", 9, "B")
        doc.text(420, y, "Ref. Range", 9, "B")
        doc.hline(40, 555, y + 5)
        return y + 20

    flow = Flow(doc, page_header, column_header, 790)
    doc.text(200, flow.y, "COMPLETE BLOOD COUNT (CBC)", 10, "B")
    flow.y += 18
    diff_heading_done = False
    for r in rows:
        if r.aid == "neut_pct" and not diff_heading_done:
            doc.text(44, flow.y, "Differential Leucocyte Count (DLC)", 8.5, "B")
            flow.y += 13
            diff_heading_done = True
        flow.need(13)
        doc.text(44 + (10 if r.aid.endswith("_pct") else 0), flow.y, r.name, 8.5)
        doc.text(250, flow.y, r.text, 8.5, "B" if r.abnormal else "")
        doc.text(330, flow.y, r.unit, 8.5)
        doc.text(420, flow.y, r.ref, 8.5)
        flow.y += 14
    flow.y += 10
    paragraph(
        flow,
        44,
        "Note: Differential count performed on a 5-part analyser and verified by "
        "peripheral smear examination. Values in bold are outside the reference range.",
        500,
        7.5,
    )
    doc.text(420, flow.y + 30, "Consultant Pathologist", 8.5, "B")
    return doc


# --------------------------------------------------------------------------------------------
# Layouts 5 and 6: Hungarian national e-health form and Hungarian lab
# --------------------------------------------------------------------------------------------
HU_TESTS: list[tuple[str, str, str, str, int]] = [
    ("wbc", "Fehérvérsejtszám", "10*9/L", "G/l", 2),
    ("rbc", "Vörösvérsejtszám", "10*12/L", "T/l", 2),
    ("hgb", "Hemoglobin", "g/L", "g/l", 0),
    ("hct", "Hematokrit", "L/L", "l/l", 3),
    ("plt", "Trombocita", "10*9/L", "G/l", 0),
    ("glucose", "Glükóz", "mmol/L", "mmol/l", 1),
    ("creatinine", "Kreatinin", "umol/L", "µmol/l", 0),
    ("urea", "Karbamid", "mmol/L", "mmol/l", 1),
    ("sodium", "Nátrium", "mmol/L", "mmol/l", 0),
    ("potassium", "Kálium", "mmol/L", "mmol/l", 2),
    ("uric_acid", "Húgysav", "umol/L", "µmol/l", 0),
    ("chol", "Koleszterin", "mmol/L", "mmol/l", 2),
    ("tg", "Triglicerid", "mmol/L", "mmol/l", 2),
    ("hdl", "HDL-koleszterin", "mmol/L", "mmol/l", 2),
    ("ggt", "Gamma-GT", "U/L", "U/l", 0),
    ("tsh", "TSH", "m[IU]/L", "mU/l", 3),
    ("crp", "CRP", "mg/L", "mg/l", 1),
]


def _hu_rows(vals: Values, rng: random.Random) -> list[Row]:
    rows = []
    for aid, name, ucum, unit, dec in HU_TESTS:
        if aid == "crp" and rng.random() < 0.7:
            v = rng.choice([0.6, 0.35, 1.0])
            r = Row(
                aid,
                name,
                v,
                "<" + fmt(v, 2 if v < 0.5 else 1, True),
                unit,
                ucum,
                None,
                5.0,
                "<5,0",
                None,
                None,
                comparator="<",
            )
            rows.append(r)
            continue
        rows.append(num_row(vals, aid, name, ucum, unit, dec, comma=True, ref_fmt=range_spaced))
    return rows


def layout_hu_eeszt(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "dejavu")
    p = rep.person
    rows = _hu_rows(vals, rng)
    for r in rows:
        r.flag = r.abnormal
    rep.sections = [("Laboratóriumi eredmények", rows)]
    cat = load_catalog()
    xs = {"loinc": 40, "name": 100, "res": 265, "ref": 375, "stat": 490}

    def page_header(page: int) -> float:
        doc.text(40, 36, "Elektronikus Egészségügyi Szolgáltatási Tér", 7)
        doc.text(40, 52, "Laboratóriumi lelet", 13, "B")
        doc.text(40, 66, rep.lab, 9)
        doc.text(370, 36, f"Nyomtatva: {rep.printed:%Y.%m.%d.} 14:22", 7)
        doc.text(40, 84, f"Név: {p.last} {p.first}", 8.5)
        doc.text(40, 96, f"Születési idő: {p.birth:%Y.%m.%d.}", 8.5)
        doc.text(220, 96, f"Nem: {'férfi' if p.sex == 'M' else 'nő'}", 8.5)
        doc.text(
            40,
            108,
            f"TAJ: {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            8.5,
        )
        doc.text(300, 84, f"Mintavétel ideje: {rep.collected:%Y.%m.%d.} 07:40", 8.5)
        doc.text(300, 96, f"Beérkezés: {rep.received:%Y.%m.%d.} 09:05", 8.5)
        doc.text(300, 108, f"Lelet kiadva: {rep.reported:%Y.%m.%d.}", 8.5)
        doc.hline(40, 555, 116)
        return 134

    def column_header(y: float) -> float:
        doc.shade(38, y - 10, 519, 14)
        doc.text(xs["loinc"], y, "LOINC", 8, "B")
        doc.text(xs["name"], y, "Vizsgálat", 8, "B")
        doc.text(xs["res"], y, "Eredmény", 8, "B")
        doc.text(xs["ref"], y, "Referenciatartomány", 8, "B")
        doc.text(xs["stat"], y, "Státusz", 8, "B")
        return y + 18

    flow = Flow(doc, page_header, column_header, 790)
    for r in rows:
        flow.need(14)
        a = cat.by_id(r.aid)
        assert a is not None
        doc.text(xs["loinc"], flow.y, a.loinc, 8)
        doc.text(xs["name"], flow.y, r.name, 8.5)
        doc.text(xs["res"], flow.y, f"{r.text} {r.unit}", 8.5)
        doc.text(xs["ref"], flow.y, r.ref, 8.5)
        word = {"H": "magas", "L": "alacsony"}.get(r.flag or "", "")
        doc.text(xs["stat"], flow.y, word, 8.5, "B")
        flow.y += 14
    flow.y += 12
    paragraph(
        flow,
        40,
        "A lelet elektronikusan hitelesített. Megjegyzés: a referenciatartományok "
        "felnőtt korra vonatkoznak.",
        500,
        7.5,
    )
    return doc


def layout_hu_lab(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "dejavu")
    p = rep.person
    rows = _hu_rows(vals, rng)
    for r in rows:
        r.flag = r.abnormal
    rep.sections = [("Rutin kémia", rows)]
    rep.unknown = pick_unknown(rng)
    xs = {"name": 40, "res": 210, "q": 275, "ref": 345, "unit": 450}

    def page_header(page: int) -> float:
        doc.text(40, 44, rep.lab, 13, "B")
        doc.text(40, 58, "Központi Laboratórium – 1111 Budapest, Minta utca 1.", 7.5)
        doc.text(40, 80, f"Beteg neve: {p.last} {p.first}", 8.5)
        doc.text(40, 92, f"Szül. dátum: {p.birth:%Y.%m.%d.}", 8.5)
        doc.text(320, 80, f"Mintavétel: {rep.collected:%Y.%m.%d.}", 8.5)
        doc.text(320, 92, f"Érkezés: {rep.received:%Y.%m.%d.}", 8.5)
        doc.text(320, 104, f"Validálva: {rep.reported:%Y.%m.%d.}", 8.5)
        doc.hline(40, 555, 112)
        return 130

    def column_header(y: float) -> float:
        for key, label in (
            ("name", "Vizsgálat"),
            ("res", "Eredmény"),
            ("q", "Minősítés"),
            ("ref", "Referencia"),
            ("unit", "Mértékegység"),
        ):
            doc.text(xs[key], y, label, 8.5, "B")
        doc.hline(40, 555, y + 4)
        return y + 18

    flow = Flow(doc, page_header, column_header, 790)
    doc.text(40, flow.y, "Rutin kémia és vérkép", 9.5, "B")
    flow.y += 15
    for r in rows:
        flow.need(14)
        doc.text(xs["name"], flow.y, r.name, 8.5)
        doc.right(xs["res"] + 40, flow.y, r.text, 8.5, "B" if r.flag else "")
        word = {"H": "magas", "L": "alacsony"}.get(r.flag or "", "")
        doc.text(xs["q"], flow.y, word, 8.5)
        doc.text(xs["ref"], flow.y, r.ref, 8.5)
        doc.text(xs["unit"], flow.y, r.unit, 8.5)
        flow.y += 14
    for name, value, unit, uref in rep.unknown:
        doc.text(xs["name"], flow.y, name, 8.5)
        doc.right(xs["res"] + 40, flow.y, value.replace(".", ","), 8.5)
        doc.text(xs["ref"], flow.y, uref.replace(".", ","), 8.5)
        doc.text(xs["unit"], flow.y, unit, 8.5)
        flow.y += 14
    return doc


# --------------------------------------------------------------------------------------------
# Layout 7: German Befund (Parameter / Ergebnis / Einheit / Referenzbereich, +/- or arrows)
# --------------------------------------------------------------------------------------------
def layout_de_befund(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "dejavu")
    p = rep.person
    arrows = rng.random() < 0.5
    spec = [
        (
            "Kleines Blutbild",
            [
                ("wbc", "Leukozyten", "10*3/uL", "/nl", 1),
                ("rbc", "Erythrozyten", "10*6/uL", "/pl", 2),
                ("hgb", "Hämoglobin", "g/dL", "g/dl", 1),
                ("hct", "Hämatokrit", "%", "%", 1),
                ("mcv", "MCV", "fL", "fl", 1),
                ("mch", "MCH", "pg", "pg", 1),
                ("mchc", "MCHC", "g/dL", "g/dl", 1),
                ("plt", "Thrombozyten", "10*3/uL", "/nl", 0),
            ],
        ),
        (
            "Klinische Chemie",
            [
                ("sodium", "Natrium", "mmol/L", "mmol/l", 0),
                ("potassium", "Kalium", "mmol/L", "mmol/l", 1),
                ("creatinine", "Kreatinin", "mg/dL", "mg/dl", 2),
                ("egfr", "eGFR (CKD-EPI)", "mL/min/{1.73_m2}", "ml/min/1,73m²", 0),
                ("uric_acid", "Harnsäure", "mg/dL", "mg/dl", 1),
                ("ast", "GOT (ASAT)", "U/L", "U/l", 0),
                ("alt", "GPT (ALAT)", "U/L", "U/l", 0),
                ("ggt", "Gamma-GT", "U/L", "U/l", 0),
                ("chol", "Cholesterin", "mg/dL", "mg/dl", 0),
                ("hdl", "HDL-Cholesterin", "mg/dL", "mg/dl", 0),
                ("ldl", "LDL-Cholesterin", "mg/dL", "mg/dl", 0),
                ("tg", "Triglyceride", "mg/dL", "mg/dl", 0),
                ("crp", "CRP", "mg/L", "mg/l", 1),
            ],
        ),
        (
            "Schilddrüse",
            [
                ("tsh", "TSH basal", "u[IU]/mL", "µU/ml", 2),
                ("ft4", "fT4", "ng/dL", "ng/dl", 2),
            ],
        ),
    ]
    for title, tests in spec:
        rows = [
            num_row(vals, aid, name, ucum, unit, dec, comma=True, ref_fmt=range_german)
            for aid, name, ucum, unit, dec in tests
        ]
        for r in rows:
            r.flag = r.abnormal
        rep.sections.append((title, rows))
    xs = {"name": 50, "res": 220, "flag": 262, "unit": 290, "ref": 380}

    def page_header(page: int) -> float:
        doc.text(50, 44, rep.lab, 13, "B")
        doc.text(50, 57, "Medizinisches Versorgungszentrum für Labordiagnostik", 7.5)
        doc.text(50, 80, f"Patient: {p.last}, {p.first}", 9)
        doc.text(
            50, 92, f"geb. {p.birth:%d.%m.%Y}   {'männlich' if p.sex == 'M' else 'weiblich'}", 9
        )
        doc.text(330, 80, f"Entnahme: {rep.collected:%d.%m.%Y} 07:45", 8.5)
        doc.text(330, 92, f"Eingang: {rep.received:%d.%m.%Y} 10:12", 8.5)
        doc.text(330, 104, f"Befunddatum: {rep.reported:%d.%m.%Y}", 8.5)
        doc.text(330, 116, f"Ausdruck: {rep.printed:%d.%m.%Y}", 8.5)
        doc.hline(50, 545, 124)
        doc.text(50, 140, "Endbefund" if page == 1 else f"Endbefund – Seite {page}", 10, "B")
        return 160

    def column_header(y: float) -> float:
        doc.text(xs["name"], y, "Parameter", 8.5, "B")
        doc.text(xs["res"], y, "Ergebnis", 8.5, "B")
        doc.text(xs["unit"], y, "Einheit", 8.5, "B")
        doc.text(xs["ref"], y, "Referenzbereich", 8.5, "B")
        doc.hline(50, 545, y + 4, 0.3)
        return y + 18

    flow = Flow(doc, page_header, column_header, 790)
    for title, rows in rep.sections:
        flow.need(40)
        doc.text(xs["name"], flow.y, title, 9, "B")
        flow.y += 14
        for r in rows:
            flow.need(14)
            doc.text(xs["name"], flow.y, r.name, 8.5)
            doc.right(xs["res"] + 34, flow.y, r.text, 8.5, "B" if r.flag else "")
            if r.flag:
                mark = (
                    ("↑" if r.flag == "H" else "↓") if arrows else ("+" if r.flag == "H" else "-")
                )
                doc.text(xs["flag"], flow.y, mark, 8.5, "B")
            doc.text(xs["unit"], flow.y, r.unit, 8.5)
            doc.text(xs["ref"], flow.y, r.ref, 8.5)
            flow.y += 13.5
        flow.y += 4
    paragraph(
        flow,
        50,
        "Legende: "
        + ("↑ erhöht, ↓ erniedrigt" if arrows else "+ oberhalb, - unterhalb des Referenzbereichs")
        + ". Die Referenzbereiche gelten für Erwachsene.",
        480,
        7.5,
    )
    return doc


# --------------------------------------------------------------------------------------------
# Layout 8: UK NHS print (Test / Result / Units / Range / Flag)
# --------------------------------------------------------------------------------------------
def layout_uk_nhs(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "helvetica")
    p = rep.person
    fbc = [
        ("hgb", "Haemoglobin", "g/L", "g/L", 0, (130, 180) if p.sex == "M" else (115, 165)),
        ("wbc", "White cell count", "10*9/L", "x10^9/L", 1, (4.0, 11.0)),
        ("plt", "Platelet count", "10*9/L", "x10^9/L", 0, (150, 400)),
        (
            "rbc",
            "Red cell count",
            "10*12/L",
            "x10^12/L",
            2,
            (4.5, 6.5) if p.sex == "M" else (3.8, 5.8),
        ),
        ("hct", "Haematocrit", "L/L", "L/L", 3, (0.4, 0.54) if p.sex == "M" else (0.37, 0.47)),
        ("mcv", "Mean cell volume", "fL", "fL", 1, (80.0, 100.0)),
        ("mch", "Mean cell haemoglobin", "pg", "pg", 1, (27.0, 32.0)),
        ("neut_abs", "Neutrophil count", "10*9/L", "x10^9/L", 1, (2.0, 7.5)),
        ("lymph_abs", "Lymphocyte count", "10*9/L", "x10^9/L", 1, (1.0, 4.5)),
        ("mono_abs", "Monocyte count", "10*9/L", "x10^9/L", 1, (0.2, 0.8)),
        ("eos_abs", "Eosinophil count", "10*9/L", "x10^9/L", 2, (0.04, 0.4)),
    ]
    ue = [
        ("sodium", "Serum sodium", "mmol/L", "mmol/L", 0, (133, 146)),
        ("potassium", "Serum potassium", "mmol/L", "mmol/L", 1, (3.5, 5.3)),
        ("urea", "Serum urea", "mmol/L", "mmol/L", 1, (2.5, 7.8)),
        ("creatinine", "Serum creatinine", "umol/L", "umol/L", 0, (59, 104)),
        ("egfr", "eGFR", "mL/min/{1.73_m2}", "mL/min/1.73m2", 0, (90, None)),
        ("hba1c", "HbA1c level (IFCC)", "mmol/mol", "mmol/mol", 0, (20, 41)),
        ("tsh", "Serum TSH level", "m[IU]/L", "mU/L", 2, (0.27, 4.2)),
        ("ft4", "Serum free T4 level", "pmol/L", "pmol/L", 1, (12.0, 22.0)),
        ("ferritin", "Serum ferritin", "ug/L", "ug/L", 0, (30, 400)),
        ("crp", "C reactive protein", "mg/L", "mg/L", 0, (None, 5)),
        ("ntprobnp", "NT-proBNP", "ng/L", "ng/L", 0, (None, 400)),
    ]
    sections: list[tuple[str, list[Row]]] = []
    for title, tests in (("Full blood count", fbc), ("Urea and electrolytes / chemistry", ue)):
        rows = []
        for aid, name, ucum, unit, dec, ref in tests:
            r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_spaced)
            if aid == "ntprobnp" and r.abnormal:
                v = float(rng.randint(1010, 4800))
                r.value, r.text = v, f"{int(v):,}"
            r.flag = r.abnormal
            rows.append(r)
        sections.append((title, rows))
    rep.sections = sections
    xs = {"name": 45, "res": 240, "unit": 300, "range": 380, "flag": 490}
    paren = rng.random() < 0.5

    def page_header(page: int) -> float:
        doc.text(45, 40, rep.lab, 12, "B")
        doc.text(45, 52, "Pathology Services   NHS Foundation Trust", 8)
        doc.text(380, 40, f"Printed: {rep.printed:%d/%m/%Y} 14:02", 8)
        doc.text(45, 72, f"Patient: {p.last.upper()}, {p.first}", 9)
        doc.text(
            45,
            84,
            f"NHS No: {rng.randint(100, 999)} {rng.randint(100, 999)} "
            f"{rng.randint(1000, 9999)}     DOB: {p.birth:%d/%m/%Y}",
            9,
        )
        doc.text(45, 96, f"Sample collected: {rep.collected:%d-%b-%Y} 09:14", 8.5)
        doc.text(300, 96, f"Sample received: {rep.received:%d-%b-%Y} 11:30", 8.5)
        doc.text(45, 108, f"Report authorised: {rep.reported:%d-%b-%Y}", 8.5)
        doc.hline(45, 550, 114)
        return 132

    def column_header(y: float) -> float:
        for key, label in (
            ("name", "Test"),
            ("res", "Result"),
            ("unit", "Units"),
            ("range", "Range"),
            ("flag", "Flag"),
        ):
            doc.text(xs[key], y, label, 9, "B")
        doc.hline(45, 550, y + 4)
        return y + 18

    flow = Flow(doc, page_header, column_header, 790)
    for title, rows in rep.sections:
        flow.need(40)
        doc.text(xs["name"], flow.y, title, 9.5, "B")
        flow.y += 15
        for r in rows:
            flow.need(14)
            doc.text(xs["name"], flow.y, r.name, 9)
            doc.right(xs["res"] + 36, flow.y, r.text, 9)
            doc.text(xs["unit"], flow.y, r.unit, 9)
            rng_text = range_paren(r.ref_low, r.ref_high, ".") if paren else r.ref
            doc.text(xs["range"], flow.y, rng_text, 9)
            doc.text(xs["flag"], flow.y, r.flag or "", 9, "B")
            flow.y += 14
            if r.aid == "egfr":
                paragraph(
                    flow,
                    xs["name"] + 10,
                    "eGFR calculated using the CKD-EPI creatinine "
                    "equation (2009). Results above 90 are reported as >90 and are not "
                    "corrected for ethnicity.",
                    470,
                    7.5,
                )
        flow.y += 6
    return doc


# --------------------------------------------------------------------------------------------
# Layout 9: two-column page (two tables side by side)
# --------------------------------------------------------------------------------------------
def layout_two_column(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "helvetica")
    p = rep.person
    left = [
        ("wbc", "WBC", "10*9/L", "10^9/L", 1),
        ("rbc", "RBC", "10*12/L", "10^12/L", 2),
        ("hgb", "Hemoglobin", "g/L", "g/L", 0),
        ("hct", "Hematocrit", "%", "%", 1),
        ("mcv", "MCV", "fL", "fL", 1),
        ("mch", "MCH", "pg", "pg", 1),
        ("plt", "Platelets", "10*9/L", "10^9/L", 0),
        ("esr", "ESR", "mm/h", "mm/h", 0),
        ("inr", "INR", "{INR}", "", 2),
        ("pt", "Prothrombin time", "s", "s", 1),
        ("aptt", "APTT", "s", "s", 1),
    ]
    right = [
        ("glucose", "Glucose", "mmol/L", "mmol/L", 1),
        ("creatinine", "Creatinine", "umol/L", "umol/L", 0),
        ("sodium", "Sodium", "mmol/L", "mmol/L", 0),
        ("potassium", "Potassium", "mmol/L", "mmol/L", 1),
        ("alt", "ALT", "U/L", "U/L", 0),
        ("ast", "AST", "U/L", "U/L", 0),
        ("chol", "Total cholesterol", "mmol/L", "mmol/L", 2),
        ("ldl", "LDL cholesterol", "mmol/L", "mmol/L", 2),
        ("iron", "Iron", "umol/L", "umol/L", 1),
        ("ferritin", "Ferritin", "ug/L", "ug/L", 0),
        ("vitd", "25-OH Vitamin D", "nmol/L", "nmol/L", 0),
    ]
    sections = []
    for title, tests in (("Haematology", left), ("Chemistry", right)):
        rows = [
            num_row(vals, aid, name, ucum, unit, dec, ref_fmt=range_spaced)
            for aid, name, ucum, unit, dec in tests
        ]
        for r in rows:
            r.flag = r.abnormal
        sections.append((title, rows))
    rep.sections = sections

    def page_header(page: int) -> float:
        doc.text(40, 40, rep.lab, 13, "B")
        doc.text(
            40,
            60,
            f"Patient: {p.first} {p.last}   Born: {p.birth.isoformat()}   "
            f"Sex: {'male' if p.sex == 'M' else 'female'}",
            8.5,
        )
        doc.text(
            40,
            72,
            f"Collection date: {rep.collected.isoformat()}   Received: "
            f"{rep.received.isoformat()}   Report date: {rep.reported.isoformat()}",
            8.5,
        )
        doc.hline(40, 555, 80)
        return 100

    doc.new_page()
    y0 = page_header(1)
    for col, (title, rows) in enumerate(sections):
        x = 40 if col == 0 else 305
        xs = (x, x + 110, x + 150, x + 195)
        y = y0
        doc.text(x, y, title, 9.5, "B")
        y += 15
        for label, cx in zip(("Test", "Result", "Unit", "Reference"), xs, strict=True):
            doc.text(cx, y, label, 7.5, "B")
        doc.hline(x, x + 250, y + 3, 0.3)
        y += 14
        for r in rows:
            doc.text(xs[0], y, r.name, 7.5)
            doc.text(
                xs[1], y, r.text + (f" {r.flag}" if r.flag else ""), 7.5, "B" if r.flag else ""
            )
            doc.text(xs[2], y, r.unit, 7.5)
            doc.text(xs[3], y, r.ref, 7.5)
            y += 12
    doc.vline(297, y0 - 8, y0 + 170, 0.3)
    return doc


# --------------------------------------------------------------------------------------------
# Layout 10: ruled table with cell borders and multi-line cells (incl. sex-specific ranges)
# --------------------------------------------------------------------------------------------
def layout_ruled(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("A4", "dejavu")
    p = rep.person
    m = p.sex == "M"
    spec: list[tuple[str, str, str, str, int, tuple[float, float], tuple[float, float] | None]] = [
        ("hgb", "Hemoglobin", "g/dL", "g/dL", 1, (13.5, 17.5), (12.0, 15.5)),
        ("ferritin", "Ferritin", "ng/mL", "ng/mL", 0, (30, 400), (15, 150)),
        ("alt", "Alanine aminotransferase (ALT/SGPT)", "U/L", "U/L", 0, (0, 45), (0, 35)),
        ("ast", "Aspartate aminotransferase (AST/SGOT)", "U/L", "U/L", 0, (0, 40), (0, 35)),
        ("ggt", "Gamma-glutamyl transferase (GGT)", "U/L", "U/L", 0, (10, 71), (6, 42)),
        ("bili_total", "Bilirubin, total", "mg/dL", "mg/dL", 2, (0.2, 1.2), None),
        ("albumin", "Albumin", "g/dL", "g/dL", 1, (3.5, 5.2), None),
        ("tsat", "Transferrin saturation", "%", "%", 0, (20, 50), (15, 45)),
        ("iron", "Iron", "ug/dL", "µg/dL", 0, (65, 175), (50, 170)),
        ("tibc", "Total iron binding capacity (TIBC)", "ug/dL", "µg/dL", 0, (250, 450), None),
        ("magnesium", "Magnesium", "mg/dL", "mg/dL", 1, (1.7, 2.4), None),
        ("phosphorus", "Phosphorus, inorganic", "mg/dL", "mg/dL", 1, (2.5, 4.5), None),
        (
            "psa" if m else "folate",
            "Prostate specific antigen (PSA), total" if m else "Folate",
            "ng/mL",
            "ng/mL",
            2 if m else 1,
            (0.0, 4.0) if m else (3.0, 20.0),
            None,
        ),
    ]
    rows = []
    for aid, name, ucum, unit, dec, male, female in spec:
        ref = male if (m or female is None) else female
        r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_spaced)
        r.flag = r.abnormal
        if female is not None:
            r.ref = f"Male: {range_spaced(male[0], male[1], '.')}"
            r.ref_lines = [f"Female: {range_spaced(female[0], female[1], '.')}"]
        rows.append(r)
    urine = []
    for name, aid, value, normal in [
        ("Colour", "u_color", rng.choice(["Pale yellow", "Yellow", "Straw"]), None),
        ("Appearance", "u_appearance", rng.choice(["Clear", "Clear", "Slightly cloudy"]), "Clear"),
        ("Protein", "u_protein", rng.choice(["Negative", "Negative", "Trace", "1+"]), "Negative"),
        ("Glucose", "u_glucose", rng.choice(["Negative", "Negative", "2+"]), "Negative"),
        ("Ketones", "u_ketones", rng.choice(["Negative", "Trace"]), "Negative"),
        ("Nitrite", "u_nitrite", rng.choice(["Negative", "Positive"]), "Negative"),
    ]:
        r = qual_row(name, aid, value, normal or value, flag_word="A")
        r.ref = "" if normal is None else normal
        urine.append(r)
    sg = num_row(
        vals, "u_sg", "Specific gravity", "1", "", 3, ref=(1.005, 1.03), ref_fmt=range_spaced
    )
    sg.flag = sg.abnormal
    urine.insert(2, sg)
    rep.sections = [("Clinical chemistry", rows), ("Urine examination (dipstick)", urine)]
    widths = (200, 85, 70, 160)
    x0 = 40

    def page_header(page: int) -> float:
        doc.text(40, 40, rep.lab, 13, "B")
        doc.text(40, 62, f"Patient: {p.last}, {p.first}", 8.5)
        doc.text(40, 74, f"Date of birth: {p.birth:%d.%m.%Y}   Sex: {'M' if m else 'F'}", 8.5)
        doc.text(330, 62, f"Specimen collected: {rep.collected:%d.%m.%Y}", 8.5)
        doc.text(330, 74, f"Report printed: {rep.printed:%d.%m.%Y}", 8.5)
        return 96

    def column_header(y: float) -> float:
        top = y - 12
        doc.shade(x0, top, sum(widths), 18)
        x = x0
        for label, w in zip(
            ("Examination", "Result", "Unit", "Reference range"), widths, strict=True
        ):
            doc.text(x + 4, y, label, 8.5, "B")
            x += w
        return y + 6

    flow = Flow(doc, page_header, column_header, 790)

    def grid_row(cells: list[list[str]], bold: bool, top: float) -> float:
        n = max(len(c) for c in cells)
        h = 6 + 11 * n
        x = x0
        for lines, w in zip(cells, widths, strict=True):
            for i, line in enumerate(lines):
                doc.text(x + 4, top + 12 + 11 * i, line, 8.5, "B" if bold and x != x0 else "")
            x += w
        doc.hline(x0, x0 + sum(widths), top)
        doc.hline(x0, x0 + sum(widths), top + h)
        x = x0
        for w in (0, *widths):
            x += w
            doc.vline(x, top, top + h)
        return top + h

    for title, rs in rep.sections:
        flow.need(40)
        flow.y += 8
        doc.text(x0, flow.y + 4, title, 9.5, "B")
        flow.y += 10
        for r in rs:
            name_lines = wrap(doc, r.name, widths[0] - 8, 8.5)
            val = r.text + (f" {r.flag}" if r.flag else "")
            cells = [name_lines, [val], [r.unit], [r.ref, *r.ref_lines] if r.ref else []]
            h = 6 + 11 * max(len(c) for c in cells)
            flow.need(h)
            flow.y = grid_row(cells, bool(r.flag), flow.y)
    return doc


# --------------------------------------------------------------------------------------------
# Layout 11: US urinalysis with qualitative results (Test / Result / Flag / Units / Reference)
# --------------------------------------------------------------------------------------------
def layout_urinalysis(rep: Report, rng: random.Random, vals: Values) -> Doc:
    doc = Doc("Letter", "helvetica")
    p = rep.person
    rows: list[Row] = []
    quals = [
        ("Color, Urine", "u_color", rng.choice(["Yellow", "Pale yellow", "Amber"]), None, "Yellow"),
        ("Appearance", "u_appearance", rng.choice(["Clear", "Cloudy"]), "Clear", "Clear"),
        (
            "Protein",
            "u_protein",
            rng.choice(["Negative", "Trace", "1+"]),
            "Negative",
            "Negative/Trace",
        ),
        (
            "Glucose",
            "u_glucose",
            rng.choice(["Negative", "Negative", "3+"]),
            "Negative",
            "Negative",
        ),
        ("Ketones", "u_ketones", rng.choice(["Negative", "Trace"]), "Negative", "Negative"),
        (
            "Occult Blood",
            "u_blood",
            rng.choice(["Negative", "1+", "Trace"]),
            "Negative",
            "Negative",
        ),
        (
            "Leukocyte Esterase",
            "u_le",
            rng.choice(["Negative", "Negative", "2+"]),
            "Negative",
            "Negative",
        ),
        (
            "Nitrite, Urine",
            "u_nitrite",
            rng.choice(["Negative", "Positive"]),
            "Negative",
            "Negative",
        ),
        ("Bilirubin", "u_bilirubin", "Negative", "Negative", "Negative"),
    ]
    for name, aid, value, normal, ref_txt in quals:
        r = qual_row(name, aid, value, normal or value, flag_word="Abnormal", ref=ref_txt)
        if normal is None:
            r.flag, r.abnormal = None, None
        rows.append(r)
    sg = num_row(
        vals, "u_sg", "Specific Gravity", "1", "", 3, ref=(1.005, 1.03), ref_fmt=range_dash
    )
    ph = num_row(vals, "u_ph", "pH", "[pH]", "", 1, ref=(5.0, 7.5), ref_fmt=range_dash)
    uro = num_row(
        vals,
        "u_urobilinogen",
        "Urobilinogen,Semi-Qn",
        "mg/dL",
        "mg/dL",
        1,
        ref=(0.2, 1.0),
        ref_fmt=range_dash,
    )
    for r in (sg, ph, uro):
        r.flag = r.abnormal
    rows[2:2] = [sg, ph]
    rows.append(uro)
    chem = []
    for aid, name, ucum, unit, dec, ref in [
        ("glucose", "Glucose", "mg/dL", "mg/dL", 0, (70, 99)),
        ("creatinine", "Creatinine", "mg/dL", "mg/dL", 2, (0.57, 1.0)),
        ("hscrp", "C-Reactive Protein, Cardiac", "mg/L", "mg/L", 2, (0.0, 3.0)),
    ]:
        r = num_row(vals, aid, name, ucum, unit, dec, ref=ref, ref_fmt=range_dash)
        r.flag = r.abnormal
        chem.append(r)
    rep.sections = [("Urinalysis, Complete", rows), ("Chemistry", chem)]
    xs = {"name": 40, "res": 230, "flag": 320, "unit": 380, "ref": 450}

    def page_header(page: int) -> float:
        doc.text(40, 44, rep.lab, 14, "B")
        doc.text(40, 66, f"{p.last.upper()}, {p.first.upper()}", 10, "B")
        doc.text(40, 79, f"DOB: {p.birth:%m/%d/%Y}  Sex: {p.sex}", 8.5)
        doc.text(330, 66, f"Collected: {rep.collected:%m/%d/%Y}  09:02", 8.5)
        doc.text(330, 79, f"Received: {rep.received:%m/%d/%Y}", 8.5)
        doc.text(330, 92, f"Final Report: {rep.reported:%m/%d/%Y}", 8.5)
        doc.hline(40, 572, 100)
        return 120

    def column_header(y: float) -> float:
        for key, label in (
            ("name", "Test"),
            ("res", "Result"),
            ("flag", "Flag"),
            ("unit", "Units"),
            ("ref", "Reference Interval"),
        ):
            doc.text(xs[key], y, label, 8.5, "B")
        doc.hline(40, 572, y + 4)
        return y + 18

    flow = Flow(doc, page_header, column_header, 740)
    for title, rs in rep.sections:
        flow.need(30)
        doc.text(xs["name"], flow.y, title, 9.5, "B")
        flow.y += 15
        for r in rs:
            flow.need(14)
            doc.text(xs["name"] + 8, flow.y, r.name, 8.5)
            doc.text(xs["res"], flow.y, r.text, 8.5)
            word = {"H": "High", "L": "Low", "A": "Abnormal"}.get(r.flag or "", "")
            doc.text(xs["flag"], flow.y, word, 8.5, "B")
            doc.text(xs["unit"], flow.y, r.unit, 8.5)
            doc.text(xs["ref"], flow.y, r.ref, 8.5)
            flow.y += 13
        if title.startswith("Urinalysis"):
            doc.text(xs["name"] + 8, flow.y, "Microscopic Examination", 8.5)
            doc.text(xs["res"], flow.y, "See below:", 8.5)
            flow.y += 13
            paragraph(
                flow,
                xs["name"] + 8,
                "Microscopic was indicated and was performed. "
                "WBC 0-5 /hpf, RBC 0-2 /hpf, Epithelial cells 0-10 /hpf, Casts None seen, "
                "Bacteria None seen.",
                500,
                7.5,
            )
    return doc


LAYOUTS: dict[str, Callable[[Report, random.Random, Values], Doc]] = {
    "us_classic": layout_us_classic,
    "us_portal": layout_us_portal,
    "in_chain": layout_in_chain,
    "in_hospital": layout_in_hospital,
    "hu_eeszt": layout_hu_eeszt,
    "hu_lab": layout_hu_lab,
    "de_befund": layout_de_befund,
    "uk_nhs": layout_uk_nhs,
    "two_column": layout_two_column,
    "ruled": layout_ruled,
    "urinalysis": layout_urinalysis,
}

LABS = {
    "us_classic": ["Northbrook Clinical Laboratories", "Meridian Reference Lab"],
    "us_portal": ["Harborview Diagnostics", "Crescent Lab Services"],
    "in_chain": ["Suryodaya Diagnostics Pvt. Ltd.", "Kaveri Path Labs"],
    "in_hospital": ["Shantiniketan Multispeciality Hospital", "Lotus Care Hospital"],
    "hu_eeszt": ["Dunamenti Kórház Laboratórium", "Tiszavirág Labor Kft."],
    "hu_lab": ["Bakonyi Diagnosztika Kft.", "Somlói Orvosi Labor"],
    "de_befund": ["Labor am Lindenpark", "Laborgemeinschaft Westerwald"],
    "uk_nhs": ["Fenmoor Hospitals", "Kestrel Valley Hospital"],
    "two_column": ["Baltic Medical Laboratory", "Alpine Lab Center"],
    "ruled": ["Meadowgate Laboratory", "Coastline Clinical Lab"],
    "urinalysis": ["Pinecrest Medical Laboratory", "Redwood Clinical Services"],
}


def generate_report(layout: str, index: int, seed: int) -> tuple[bytes, dict[str, Any]]:
    rng = random.Random(f"{seed}:{layout}:{index}")
    person = _person(rng)
    collected, received, reported, printed = _dates(rng)
    rep = Report(
        rid=f"{layout}_{index:02d}",
        layout=layout,
        person=person,
        collected=collected,
        received=received,
        reported=reported,
        printed=printed,
        lab=rng.choice(LABS[layout]),
    )
    vals = Values(rng, person.sex)
    doc = LAYOUTS[layout](rep, rng, vals)
    pdf = doc.output()
    truth = rep.truth(doc.pages)
    truth["seed"] = seed
    return pdf, truth


def generate_holdout(
    out: Path, seed: int = 7031, per_layout: int = 4, layouts: Sequence[str] | None = None
) -> list[Path]:
    """Write ``<layout>_<nn>.pdf`` + ``.json`` for each layout; return the JSON paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for layout in layouts or LAYOUTS:
        for i in range(per_layout):
            pdf, truth = generate_report(layout, i, seed)
            (out / f"{truth['id']}.pdf").write_bytes(pdf)
            path = out / f"{truth['id']}.json"
            path.write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the hold-out lab report corpus")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7031)
    ap.add_argument("--per-layout", type=int, default=4)
    ap.add_argument("--layout", action="append", choices=sorted(LAYOUTS))
    args = ap.parse_args(argv)
    paths = generate_holdout(args.out, args.seed, args.per_layout, args.layout)
    print(f"{len(paths)} reports in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
