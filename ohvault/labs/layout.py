"""Geometry: pdfplumber words -> lines -> cells, and table header detection.

Nothing here knows about particular laboratories: columns are found from the words of a header
row ("Test", "Result", "Units", "Reference Interval", "Eredmény", "Valores de Referência", dates
in cumulative reports, ...) and their x-positions, and data cells are assigned to the column
whose region contains their centre.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ohvault.labs.catalog import normalise_name
from ohvault.labs.values import find_dates, is_date_token


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False  # set in a bold face (some laboratories mark abnormal values only so)


@dataclass
class Cell:
    words: list[Word]

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Line:
    words: list[Word]
    page: int
    _cells: list[Cell] | None = field(default=None, repr=False)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def size(self) -> float:
        return max(w.size for w in self.words)

    def cells(self) -> list[Cell]:
        """Split the line where the horizontal gap is wider than about two spaces."""
        if self._cells is None:
            cells: list[Cell] = []
            cur: list[Word] = []
            for w in self.words:
                if cur:
                    gap = w.x0 - cur[-1].x1
                    if gap > max(3.5, 0.55 * max(w.size, cur[-1].size)):
                        cells.append(Cell(cur))
                        cur = []
                cur.append(w)
            if cur:
                cells.append(Cell(cur))
            self._cells = cells
        return self._cells


# Private Use Area code points (U+E000-U+F8FF): fonts that map their own glyphs there (an
# icon font's "(", ")" or ":") give text with no standard meaning; they separate words.
_PRIVATE_USE = {cp: " " for cp in range(0xE000, 0xF900)}


def _is_bold(fontname: str) -> bool:
    """``Arial,Bold``, ``Helvetica-Bold``, ``ABCDEF+DejaVuSans-Bold``, ``…Black``, ``…Heavy``."""
    name = fontname.rsplit("+", 1)[-1].casefold()
    return any(k in name for k in ("bold", "black", "heavy", "semibold", "demi"))


def words_from_pdfplumber(raw: list[dict[str, Any]]) -> list[Word]:
    out = []
    for w in raw:
        text = " ".join(str(w["text"]).translate(_PRIVATE_USE).split())
        if text:
            out.append(
                Word(
                    text=text,
                    x0=float(w["x0"]),
                    x1=float(w["x1"]),
                    top=float(w["top"]),
                    bottom=float(w["bottom"]),
                    size=float(w.get("size", w["bottom"] - w["top"])),
                    bold=_is_bold(str(w.get("fontname", ""))),
                )
            )
    return out


def group_lines(words: list[Word], page: int) -> list[Line]:
    """Cluster words into text lines by vertical position (tolerant to baseline jitter)."""
    if not words:
        return []
    ordered = sorted(words, key=lambda w: (w.top, w.x0))
    lines: list[list[Word]] = []
    cur: list[Word] = [ordered[0]]
    cur_top = ordered[0].top
    cur_bottom = ordered[0].bottom
    for w in ordered[1:]:
        height = max(1.0, min(w.bottom - w.top, cur_bottom - cur_top))
        if abs(w.top - cur_top) <= 0.45 * height:
            cur.append(w)
            cur_bottom = max(cur_bottom, w.bottom)
        else:
            lines.append(cur)
            cur = [w]
            cur_top = w.top
            cur_bottom = w.bottom
    lines.append(cur)
    return [Line(sorted(ws, key=lambda w: w.x0), page) for ws in lines]


# ---------------------------------------------------------------------------- header vocabulary
# Role of each header phrase. Order matters only for documentation; the longest phrase wins.
ROLE_PHRASES: dict[str, list[str]] = {
    "prev": [
        "previous result and date",
        "previous result",
        "previous results",
        "previous",
        "prior result",
        "last result",
        "history",
        "historico",
        "vorwert",
        "vorwerte",
        "vorbefund",
        "elozo",
        "elozo eredmeny",
        "elozmeny",
        "resultado anterior",
        "anterior",
        "prev result",
        "previous value",
        "last value",
    ],
    "in": ["in range", "within range", "within normal range"],
    "out": [
        "out of range",
        "out range",
        "outside range",
        "outside of range",
        "out of normal range",
    ],
    "loinc": ["loinc", "loinc kod", "loinc code", "loinc kode"],
    "range": [
        "reference interval",
        "reference range",
        "reference ranges",
        "reference values",
        "reference value",
        "reference",
        "ref range",
        "ref interval",
        "ref values",
        "ref",
        "bio ref interval",
        "bio ref",
        "biological reference interval",
        "biological ref interval",
        "biological reference range",
        "normal range",
        "normal ranges",
        "normal values",
        "normal value",
        "range",
        "referencia",
        "referenciatartomany",
        "referencia tartomany",
        "referencia ertek",
        "referencia intervallum",
        "normalertek",
        "normal ertek",
        "referenzbereich",
        "referenz",
        "referenzwerte",
        "referenzwert",
        "referenzintervall",
        "normbereich",
        "normwerte",
        "normwert",
        "valores de referencia",
        "valor de referencia",
        "intervalo de referencia",
        "val ref",
        "expected values",
        "expected value",
        "limits",
        "target",
        "desirable range",
    ],
    "unit": [
        "units",
        "unit",
        "unit s",
        "uom",
        "mertekegyseg",
        "me",
        "egyseg",
        "einheit",
        "einheiten",
        "unidades",
        "unidade",
        "unid",
    ],
    "flag": [
        "flag",
        "flags",
        "status",
        "statusz",
        "minosites",
        "bewertung",
        "kennung",
        "kennzeichen",
        "abn flag",
        "abnormal flag",
        "indicator",
        "interpretation",
        "alert",
        "h l",
        "obs",
        "sinal",
        "comentario flag",
    ],
    "result": [
        "current result and flag",
        "current result",
        "result",
        "results",
        "value",
        "values",
        "value s",
        "your value",
        "your result",
        "eredmeny",
        "eredmenyek",
        "ergebnis",
        "ergebnisse",
        "resultado",
        "resultados",
        "resultado unidades",
        "result unit",
        "result units",
        "befund",
        "wert",
        "messwert",
        "test result",
        "test results",
        "observed value",
        "observed values",
        "obs value",
        "result value",
    ],
    "method": ["method", "technology", "methodology", "metodus", "methode", "metodo", "technique"],
    "name": [
        "test name",
        "test",
        "tests",
        "test description",
        "investigation",
        "investigations",
        "parameter",
        "parameters",
        "analyte",
        "analytes",
        "analyte name",
        "parameter name",
        "test description",
        "analysis",
        "examination",
        "description",
        "vizsgalat",
        "vizsgalat neve",
        "vizsgalatok",
        "megnevezes",
        "parameter neve",
        "untersuchung",
        "untersuchungen",
        "analyse",
        "analysen",
        "test performed",
        "tests performed",
        "analise",
        "analises",
        "exame",
        "exames",
        "parametro",
        "parametros",
        "determinacao",
        "determinacoes",
        "component",
        "components",
        "name",
        "test names",
    ],
    "lab": ["lab", "performing lab", "site", "labor", "laboratory"],
}
_PHRASE_ROLE: dict[tuple[str, ...], str] = {}
for _role, _phrases in ROLE_PHRASES.items():
    for _p in _phrases:
        _PHRASE_ROLE.setdefault(tuple(_p.split()), _role)
_MAX_PHRASE = max(len(k) for k in _PHRASE_ROLE)
RESULT_ROLES = {"result", "in", "out", "date"}


@dataclass
class Span:
    role: str
    x0: float
    x1: float
    text: str
    date: date | None = None


@dataclass
class ColumnModel:
    spans: list[Span]
    x_min: float
    x_max: float
    bounds: list[float] = field(default_factory=list)  # right edge of each span's region

    def __post_init__(self) -> None:
        self.spans.sort(key=lambda s: s.x0)
        if not any(s.role == "name" for s in self.spans):
            # the test-name column often has no header (e.g. "Resultado / Unidades | ...")
            first = self.spans[0]
            self.spans.insert(0, Span("name", self.x_min, max(self.x_min, first.x0 - 8), ""))
        bounds = []
        for left, right in zip(self.spans, self.spans[1:], strict=False):
            if left.role == "name":
                bounds.append(right.x0 - 3)
            elif right.role in RESULT_ROLES and left.role not in RESULT_ROLES:
                bounds.append(max(left.x1 + 1, right.x0 - 0.35 * (right.x0 - left.x1) - 6))
            else:
                bounds.append((left.x1 + right.x0) / 2)
        bounds.append(self.x_max)
        self.bounds = bounds

    def column_of(self, cell: Cell) -> Span:
        cx = cell.cx
        # names are left-aligned and may be long: decide by their left edge
        if self.spans[0].role == "name" and cell.x0 < self.bounds[0] - 1 and cell.x0 < cx:
            name_span = self.spans[0]
            if cell.x0 <= self.bounds[0] - 0.4 * (self.bounds[0] - name_span.x0):
                return name_span
        for span, bound in zip(self.spans, self.bounds, strict=True):
            if cx < bound:
                return span
        return self.spans[-1]

    @property
    def result_spans(self) -> list[Span]:
        return [s for s in self.spans if s.role in RESULT_ROLES]


@functools.lru_cache(maxsize=65536)
def _norm_word(text: str) -> str:
    """normalise_name of one word; header words recur on every line tried, so it is cached."""
    return normalise_name(text)


def detect_header(
    line: Line, x_min: float, x_max: float, order: str = "DMY"
) -> list[ColumnModel] | None:
    """Column models (one per page column) when ``line`` is a results-table header row."""
    words = line.words
    keys = [_norm_word(w.text) for w in words]
    spans: list[Span] = []
    matched = 0
    i = 0
    n = len(words)
    while i < n:
        if not keys[i]:
            i += 1
            matched += 1
            continue
        hit = None
        for length in range(min(_MAX_PHRASE, n - i), 0, -1):
            parts: list[str] = []
            for k in keys[i : i + length]:
                parts.extend(k.split())
            role = _PHRASE_ROLE.get(tuple(parts))
            if role is not None:
                # a phrase must not jump over a column gap
                gaps = [words[j + 1].x0 - words[j].x1 for j in range(i, i + length - 1)]
                if all(g < 2.5 * max(words[i].size, 4) for g in gaps):
                    hit = (length, role)
                    break
        if hit is None:
            # single-token dates are column headers of cumulative reports
            if is_date_token(words[i].text):
                d = find_dates(words[i].text, order)
                spans.append(
                    Span("date", words[i].x0, words[i].x1, words[i].text, d[0][1] if d else None)
                )
                matched += 1
            elif spans and words[i].x0 - spans[-1].x1 < 1.2 * words[i].size:
                spans[-1].x1 = words[i].x1
                spans[-1].text += " " + words[i].text
            i += 1
            continue
        length, role = hit
        spans.append(
            Span(
                role,
                words[i].x0,
                words[i + length - 1].x1,
                " ".join(w.text for w in words[i : i + length]),
            )
        )
        matched += length
        i += length
    if matched < 0.7 * n:
        return None
    roles = [s.role for s in spans]
    distinct = set(roles)
    has_result = bool(distinct & {"result", "in", "out"}) or roles.count("date") >= 1
    if not has_result or (
        len(distinct) < 3 and not (roles.count("date") >= 2 and len(distinct) >= 2)
    ):
        return None
    # two (or more) page columns: the header repeats its first role further right
    groups: list[list[Span]] = [[spans[0]]]
    first_role = spans[0].role
    for s in spans[1:]:
        if s.role == first_role and first_role != "date":
            groups.append([s])
        else:
            groups[-1].append(s)
    models = []
    for gi, group in enumerate(groups):
        lo = x_min if gi == 0 else group[0].x0 - 6
        hi = x_max if gi == len(groups) - 1 else groups[gi + 1][0].x0 - 6
        if not any(s.role in RESULT_ROLES for s in group):
            return None
        models.append(ColumnModel(list(group), lo, hi))
    return models


def split_line(line: Line, models: list[ColumnModel]) -> list[tuple[ColumnModel, Line]]:
    """Split a physical line into the parts that fall into each page column."""
    if len(models) == 1:
        return [(models[0], line)]
    out = []
    for m in models:
        ws = [w for w in line.words if m.x_min <= (w.x0 + w.x1) / 2 < m.x_max]
        if ws:
            out.append((m, Line(ws, line.page)))
    return out
