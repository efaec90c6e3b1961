"""Classification of single cells/tokens: numbers, censored values, qualitative results, flags,
reference ranges and dates, in the spellings of US, UK, Indian and continental European labs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ohvault.labs.catalog import normalise_name

# ---------------------------------------------------------------- numbers
_COMPARATORS = {
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "≤": "<=",
    "≥": ">=",
    "=<": "<=",
    "=>": ">=",
    "less than": "<",
    "more than": ">",
    "greater than": ">",
    "below": "<",
    "above": ">",
    "up to": "<=",
    "upto": "<=",
    "bis": "<=",
    "ate": "<=",
    "até": "<=",
    "kisebb mint": "<",
}
_NUM_BODY = r"[-+−]?(?:\d{1,2}(?:,\d{2})+,\d{3}|\d{1,3}(?:[ ,.\u202f\u00a0]\d{3})+|\d+)(?:[.,]\d+)?|[-+−]?[.,]\d+"
_NUM_RE = re.compile(rf"^(?:{_NUM_BODY})$")
_LAKH_RE = re.compile(r"^\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?$")
_VALUE_RE = re.compile(
    r"^(?P<cmp><=|>=|=<|=>|<|>|≤|≥)?\s*(?P<num>"
    + _NUM_BODY
    + r")\s*(?P<flag>\*?(?:HH|LL|H|L|A)\*?|\*)?$"
)


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    norm = normalise_number(text, decimal_comma)
    return float(norm) if norm is not None else None


def normalise_number(text: str, decimal_comma: bool = False) -> str | None:
    """``"1,234.5"`` -> 1234.5; ``"5,2"`` -> 5.2; ``"2,50,000"`` -> 250000. None if not a number.

    A comma followed by exactly three digits is a thousands separator unless the document uses
    decimal commas (``decimal_comma``), in which case ``"1,234"`` is 1.234.
    """
    s = text.strip().replace("−", "-").replace("\u202f", " ").replace("\u00a0", " ")
    if not s or not _NUM_RE.match(s):
        return None
    if _LAKH_RE.match(s):
        return s.replace(",", "")
    s = s.replace(" ", "")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):  # 1.234,5
            s = s.replace(".", "").replace(",", ".")
        else:  # 1,234.5
            s = s.replace(",", "")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        if s.count(",") > 1:
            s = s.replace(",", "")
        elif len(tail) == 3 and not decimal_comma and head.lstrip("+-") not in ("", "0"):
            s = head + tail
        else:
            s = head + "." + tail
    elif s.count(".") > 1:
        s = s.replace(".", "")
    elif "." in s and decimal_comma:
        head, _, tail = s.rpartition(".")
        if len(tail) == 3 and head.lstrip("+-") not in ("", "0"):
            s = head + tail  # 1.234 as thousands in a decimal-comma document
    try:
        float(s)
    except ValueError:
        return None
    return s


def decimals_of(text: str) -> int:
    m = re.search(r"[.,](\d+)$", text.strip())
    return len(m.group(1)) if m else 0


# ---------------------------------------------------------------- flags
_FLAG_WORDS: dict[str, str] = {
    "h": "H",
    "l": "L",
    "hh": "HH",
    "ll": "LL",
    "a": "A",
    "*": "A",
    "**": "A",
    "!": "A",
    "high": "H",
    "low": "L",
    "abnormal": "A",
    "abn": "A",
    "critical": "A",
    "critical high": "HH",
    "critical low": "LL",
    "panic high": "HH",
    "panic low": "LL",
    "very high": "HH",
    "very low": "LL",
    "h*": "H",
    "l*": "L",
    "*h": "H",
    "*l": "L",
    "↑": "H",
    "↓": "L",
    "↑↑": "HH",
    "↓↓": "LL",
    "+": "H",
    "-": "L",
    "++": "HH",
    "--": "LL",
    "magas": "H",
    "alacsony": "L",
    "emelkedett": "H",
    "csokkent": "L",
    "koros": "A",
    "kóros": "A",
    "hoch": "H",
    "niedrig": "L",
    "erhoht": "H",
    "erniedrigt": "L",
    "pathologisch": "A",
    "path": "A",
    "alto": "H",
    "baixo": "L",
    "elevado": "H",
    "anormal": "A",
    "anomalo": "A",
    "elevated": "H",
    "n": "N",
    "normal": "N",
    "ok": "N",
    "normál": "N",
    "norm": "N",
}
# Flag words that must not be read as a flag when they are the whole result cell of a
# qualitative test (``+`` means positive in urinalysis).
_AMBIGUOUS_FLAGS = {"+", "-", "++", "--", "a", "n", "normal"}


def parse_flag(text: str) -> str | None:
    """Normalised flag (``H``, ``L``, ``HH``, ``LL``, ``A``, ``N`` for explicit normal) or None."""
    raw = text.strip().strip("()[]").strip()
    if not raw:
        return None
    if raw in _FLAG_WORDS:
        return _FLAG_WORDS[raw]
    return _FLAG_WORDS.get(normalise_name(raw) or raw.casefold())


def is_flag_token(text: str, *, strict: bool = False) -> bool:
    f = parse_flag(text)
    if f is None:
        return False
    return not (strict and text.strip().casefold() in _AMBIGUOUS_FLAGS)


# ---------------------------------------------------------------- qualitative values
_QUALITATIVE = {
    normalise_name(x)
    for x in [
        "Negative",
        "Positive",
        "Not detected",
        "Detected",
        "Trace",
        "Nil",
        "Absent",
        "Present",
        "Reactive",
        "Non-reactive",
        "Nonreactive",
        "Non reactive",
        "Not reactive",
        "Weakly reactive",
        "Equivocal",
        "Indeterminate",
        "Borderline",
        "Normal",
        "Clear",
        "Slightly cloudy",
        "Cloudy",
        "Turbid",
        "Hazy",
        "Yellow",
        "Pale yellow",
        "Light yellow",
        "Dark yellow",
        "Straw",
        "Amber",
        "Red",
        "Colourless",
        "Colorless",
        "Few",
        "Many",
        "Moderate",
        "Occasional",
        "Rare",
        "None seen",
        "None",
        "Not seen",
        "Seen",
        "1+",
        "2+",
        "3+",
        "4+",
        "+",
        "++",
        "+++",
        "++++",
        "Negatív",
        "Pozitív",
        "Nem mutatható ki",
        "Kimutatható",
        "Nyomokban",
        "Negatív (-)",
        "Negativ",
        "Positiv",
        "Nicht nachweisbar",
        "Nachweisbar",
        "Spuren",
        "Klar",
        "Gelb",
        "Hellgelb",
        "Negativo",
        "Positivo",
        "Não detectado",
        "Não detetado",
        "Ausente",
        "Presente",
        "Amarelo",
        "Amarelo claro",
        "Límpido",
        "Limpido",
        "Vestígios",
        "Normal (+/-)",
        "A",
        "B",
        "AB",
        "O",
        "A positive",
        "A negative",
        "B positive",
        "B negative",
        "AB positive",
        "AB negative",
        "O positive",
        "O negative",
        "Rh positive",
        "Rh negative",
        "Rh+",
        "Rh-",
        "D positive",
        "D negative",
    ]
}
_QUAL_PLUS = re.compile(r"^(?:\+{1,4}|[1-4]\+|\(?[+-]\)?)$")
_NON_RESULT = {
    normalise_name(x)
    for x in [
        "See note",
        "See comment",
        "See below",
        "Pending",
        "Cancelled",
        "Canceled",
        "QNS",
        "Not performed",
        "Test not performed",
        "TNP",
        "To follow",
        "Comment",
        "Hemolyzed",
        "Haemolysed",
        "Siehe Befund",
        "folgt",
        "Lásd megjegyzés",
        "Ver nota",
        "Em curso",
    ]
}


# Words that combine into qualitative results: urine colour and clarity ("Pale yellow",
# "Slightly hazy"), semi-quantitative grades ("Weakly positive", "Small"), blood groups
# ("RH(D) POSITIVE", "O Rh negative") and category codes (KDIGO "G1", "A2"; LDL "Pattern B").
_QUAL_MODIFIER = r"(?:pale|light|dark|deep|bright|slightly|slight|very|weakly|weak|strongly|strong|low|high|faintly|mildly)"
_QUAL_COLOUR = r"(?:yellow|amber|straw|red|reddish|brown|orange|green|pink|colou?rless|clear|hazy|cloudy|turbid|milky|bloody)"
_QUAL_GRADE = r"(?:positive|negative|reactive|non ?reactive|detected|not detected|small|moderate|large|trace|present|absent)"
_QUAL_PATTERNS = [
    re.compile(
        rf"^(?:{_QUAL_MODIFIER} )?{_QUAL_COLOUR}(?: (?:to|and|or) (?:{_QUAL_MODIFIER} )?{_QUAL_COLOUR})?$"
    ),
    re.compile(rf"^(?:{_QUAL_MODIFIER} )?{_QUAL_GRADE}$"),
    # blood group and Rh(D) type: "A", "AB positive", "O Rh negative", "RH D POSITIVE", "Rh+"
    re.compile(
        r"^(?:abo )?(?:(?:a|b|ab|o|a1|a2|a1b|a2b)(?: |$))?"
        r"(?:(?:rh|rhesus|rh d|d)(?: |$))?(?:(?:positive|negative|pos|neg)(?: |$))?$"
    ),
    re.compile(r"^(?:pattern )?(?:a|b|a b|i|ii|iii)$"),
    re.compile(r"^(?:g[1-5][ab]?|a[1-3])$"),
    re.compile(r"^(?:none|not|no) (?:seen|found|detected|present|observed)$"),
    re.compile(
        r"^(?:few|rare|occasional|many|moderate|numerous|plenty|loaded)(?: seen| present)?$"
    ),
]


def is_qualitative_value(text: str) -> bool:
    """A qualitative result from the vocabulary of laboratories (never an arbitrary word).

    ``"Negative"``, ``"Not detected"``, ``"Pale yellow"``, ``"RH(D) POSITIVE"``, ``"1+"``,
    ``"G1"``; prose (``"fetal"``, ``"See note"``) and method names are not results.
    """
    key = normalise_name(text)
    if not key:
        return bool(_QUAL_PLUS.match(text.strip()))
    if re.search(r"[<>=]|[,;]\s*$", text) or text.count("(") != text.count(")"):
        return False  # "(Pattern A)->", "<-Small": scale labels, not a result
    if key in _QUALITATIVE or _QUAL_PLUS.match(text.strip()):
        return True
    if len(key) > 40 or (
        any(ch.isdigit() for ch in key.replace("1+", ""))
        and not re.fullmatch(r"g[1-5][ab]?|a[1-3]|a1|a2|a1b|a2b", key)
    ):
        return False
    return any(p.match(key) for p in _QUAL_PATTERNS) and key.strip() != ""


def is_non_result(text: str) -> bool:
    return normalise_name(text) in _NON_RESULT


_NOT_APPLICABLE = re.compile(r"n\.?\s*/?\s*a\.?|not applicable|nil|none|-+|[–—]", re.IGNORECASE)


def is_not_applicable(text: str) -> bool:
    """``N/A``, ``NA``, ``n.a.``, ``-``: a cell saying nothing applies (no unit, no range).

    Never a unit: a unitless test (a ratio, an index) prints it in the unit column.
    """
    return _NOT_APPLICABLE.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class Value:
    text: str  # as it should be reported: "5.2", "<0.5", "Negative"
    num: float | None
    comparator: str | None
    flag: str | None = None  # flag glued to the value ("105H", "5.2*")
    decimals: int = 0


def parse_value(text: str, decimal_comma: bool = False) -> Value | None:
    """A numeric (optionally censored) value, possibly with a glued flag, else None."""
    s = text.strip().replace("−", "-")
    if not s:
        return None
    low = s.casefold()
    comparator = None
    for word, cmp in _COMPARATORS.items():
        if len(word) > 2 and low.startswith(word + " "):
            comparator = cmp
            s = s[len(word) :].strip()
            break
    m = _VALUE_RE.match(s)
    if m is None or re.fullmatch(r"0\d+", m.group("num")):
        return None  # "01", "02": lab codes, not values
    norm = normalise_number(m.group("num"), decimal_comma)
    if norm is None:
        return None
    num = float(norm)
    dec = decimals_of(norm)
    if m.group("cmp"):
        comparator = _COMPARATORS[m.group("cmp")]
    flag = parse_flag(m.group("flag")) if m.group("flag") else None
    shown = _fmt(num, dec)
    return Value(
        text=f"{comparator}{shown}" if comparator else shown,
        num=num,
        comparator=comparator,
        flag=flag,
        decimals=dec,
    )


def _fmt(num: float, decimals: int) -> str:
    return f"{num:.{decimals}f}"


# ---------------------------------------------------------------- reference ranges
@dataclass(frozen=True)
class RefRange:
    low: float | None
    high: float | None
    text: str


_RANGE_NUM = r"[-+]?\d+(?:[.,]\d+)?(?:[.,]\d{3})*"
_BETWEEN = re.compile(
    rf"(?P<a>{_RANGE_NUM})\s*(?:-|–|—|to|bis|a|até|ate|\.\.|…|~)\s*(?P<b>{_RANGE_NUM})"
)
_ONE_SIDED = re.compile(
    rf"(?P<cmp><=|>=|=<|=>|<|>|≤|≥|up to|upto|less than|greater than|more than|below|above|bis|ate|até|kisebb mint|max\.?|min\.?)\s*(?P<a>{_RANGE_NUM})",
    re.IGNORECASE,
)
_LEADING_DASH = re.compile(r"^\s*[-–]\s*(?P<a>\d+(?:[.,]\d+)?)\s*$")
_SEX_LABEL = re.compile(
    r"^(?P<sex>m|f|male|female|men|women|males|females|man|woman|ferfi|ferfiak|no|nok|"
    r"mann|manner|frau|frauen|w|homem|homens|mulher|mulheres|h)\b",
)
_NORMAL_LABELS = (
    "desirable",
    "optimal",
    "normal",
    "non diabetic",
    "nondiabetic",
    "healthy",
    "sufficient",
    "sufficiency",
    "adult",
    "adults",
    "reference",
    "kivanatos",
    "optimalis",
    "normalis",
    "wunschenswert",
    "optimal",
    "erwachsene",
    "desejavel",
    "otimo",
    "adultos",
    "recommended",
    "target",
    "ideal",
    "negative",
    "low risk",
    "felnott",
    "felnottek",
)


def _num(text: str, decimal_comma: bool) -> float | None:
    v = parse_number(text.replace("+", ""), decimal_comma)
    return v


def parse_simple_range(
    text: str, decimal_comma: bool = False
) -> tuple[float | None, float | None] | None:
    """Bounds of one range expression (``"3.5 - 5.0"``, ``"< 200"``, ``">= 40"``), else None."""
    s = text.strip().strip("()[]{}").strip()
    m = _BETWEEN.search(s)
    if m:
        a, b = _num(m.group("a"), decimal_comma), _num(m.group("b"), decimal_comma)
        if a is not None and b is not None and a <= b:
            return a, b
    m = _ONE_SIDED.search(s)
    if m:
        a = _num(m.group("a"), decimal_comma)
        if a is None:
            return None
        cmp = m.group("cmp").casefold()
        if cmp in (
            "<",
            "<=",
            "=<",
            "≤",
            "up to",
            "upto",
            "less than",
            "below",
            "bis",
            "ate",
            "até",
            "kisebb mint",
            "max",
            "max.",
        ):
            return None, a
        return a, None
    m = _LEADING_DASH.match(s)
    if m:
        a = _num(m.group("a"), decimal_comma)
        return (None, a) if a is not None else None
    return None


def parse_range(text: str, decimal_comma: bool = False, sex: str | None = None) -> RefRange | None:
    """Parse a (possibly multi-line, ``" | "``-joined) reference range cell.

    Sex-qualified ranges pick the patient's sex when known; category ranges pick the
    desirable/optimal/normal line. Text-only ranges (``"Negative"``) keep text, no bounds.
    """
    raw = " ".join(text.split())
    if not raw:
        return None
    raw = re.sub(r">\s*OR\s*=", ">=", re.sub(r"<\s*OR\s*=", "<=", raw, flags=re.I), flags=re.I)
    parts = [p.strip() for p in re.split(r"\s*\|\s*|;\s*|\s{2,}", raw) if p.strip()]
    # split "M: 13.5-17.5 F: 12.0-15.5" into two labelled parts
    labelled: list[tuple[str, str]] = []
    for p in parts:
        pieces = re.split(r"(?<=\d)\s+(?=[A-Za-zÀ-ž][A-Za-zÀ-ž .\-/()]*:)", p)
        for piece in pieces:
            if ":" in piece:
                label, _, rest = piece.partition(":")
                labelled.append((normalise_name(label), rest.strip()))
            else:
                labelled.append(("", piece.strip()))
    parsed = [(label, parse_simple_range(rest, decimal_comma)) for label, rest in labelled]
    bounded = [(label, b) for label, b in parsed if b is not None]
    if not bounded:
        return RefRange(None, None, raw) if _looks_textual_range(raw) else None
    chosen: tuple[float | None, float | None] | None = None
    if len(bounded) == 1:
        chosen = bounded[0][1]
    else:
        if sex:
            for label, b in bounded:
                m = _SEX_LABEL.match(label)
                if m and _sex_of(m.group("sex")) == sex:
                    chosen = b
                    break
        if chosen is None:
            for label, b in bounded:
                if any(label.startswith(n) for n in _NORMAL_LABELS):
                    chosen = b
                    break
        if chosen is None and all(not label for label, _ in bounded):
            chosen = bounded[0][1]
    if chosen is None:
        return RefRange(None, None, raw)
    return RefRange(chosen[0], chosen[1], raw)


def _sex_of(label: str) -> str:
    return (
        "F"
        if label
        in {
            "f",
            "female",
            "women",
            "females",
            "woman",
            "no",
            "nok",
            "frau",
            "frauen",
            "w",
            "mulher",
            "mulheres",
        }
        else "M"
    )


def _looks_textual_range(text: str) -> bool:
    return is_qualitative_value(text) or normalise_name(text) in {
        "negative",
        "non reactive",
        "not detected",
        "absent",
        "nil",
        "normal",
        "clear",
    }


def looks_like_range(text: str, decimal_comma: bool = False) -> bool:
    s = text.strip()
    if not s:
        return False
    if s[0] in "([" and s[-1] in ")]":
        return parse_simple_range(s, decimal_comma) is not None
    if _BETWEEN.search(s):
        m = _BETWEEN.search(s)
        assert m is not None
        # "5-10" is a range; a lone negative number is not
        return m.start() == 0 or not s[: m.start()].strip().replace(":", "").isdigit()
    return bool(re.match(r"^(?:<=|>=|<|>|≤|≥)\s*\d", s)) or bool(_LEADING_DASH.match(s))


# ---------------------------------------------------------------- dates
_MONTHS = {
    "jan": 1,
    "january": 1,
    "janeiro": 1,
    "januar": 1,
    "janvier": 1,
    "januar.": 1,
    "januarius": 1,
    "január": 1,
    "feb": 2,
    "february": 2,
    "febr": 2,
    "fev": 2,
    "fevereiro": 2,
    "februar": 2,
    "február": 2,
    "mar": 3,
    "march": 3,
    "marco": 3,
    "março": 3,
    "mär": 3,
    "mrz": 3,
    "märz": 3,
    "marc": 3,
    "márc": 3,
    "március": 3,
    "apr": 4,
    "april": 4,
    "abr": 4,
    "abril": 4,
    "ápr": 4,
    "április": 4,
    "may": 5,
    "mai": 5,
    "maio": 5,
    "máj": 5,
    "május": 5,
    "jun": 6,
    "june": 6,
    "junho": 6,
    "juni": 6,
    "jún": 6,
    "június": 6,
    "jul": 7,
    "july": 7,
    "julho": 7,
    "juli": 7,
    "júl": 7,
    "július": 7,
    "aug": 8,
    "august": 8,
    "ago": 8,
    "agosto": 8,
    "augusztus": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "set": 9,
    "setembro": 9,
    "szept": 9,
    "szeptember": 9,
    "oct": 10,
    "october": 10,
    "out": 10,
    "outubro": 10,
    "okt": 10,
    "oktober": 10,
    "október": 10,
    "nov": 11,
    "november": 11,
    "novembro": 11,
    "nov.": 11,
    "dec": 12,
    "december": 12,
    "dez": 12,
    "dezembro": 12,
    "dezember": 12,
}
_ISO = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})\.?(?!\d)")
# Both separators must be the same: "13.2-17.1" is a reference range, not 13 Feb 2017.
_NUMERIC = re.compile(
    r"(?<![\d.])(?P<a>\d{1,2})(?P<sep>[-./])(?P<b>\d{1,2})(?P=sep)(?P<y>(?:19|20)?\d{2})"
    r"(?![\d/]|[.,]\d)"
)
_TEXT_DMY = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})\.?[\s\-/]*(?P<mon>[A-Za-zÀ-ž]{3,10})\.?[\s\-/,]*(?P<y>(?:19|20)\d{2}|\d{2})(?!\d)"
)
_TEXT_MDY = re.compile(
    r"(?P<mon>[A-Za-zÀ-ž]{3,10})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d{2})(?!\d)"
)
_TEXT_YMD = re.compile(
    r"(?P<y>(?:19|20)\d{2})\.?\s+(?P<mon>[A-Za-zÀ-ž]{3,10})\.?\s+(?P<d>\d{1,2})\.?"
)


def _scan(rx: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Like finditer, but also tries matches that start inside a previous match."""
    out: list[re.Match[str]] = []
    pos = 0
    while True:
        m = rx.search(text, pos)
        if m is None:
            return out
        out.append(m)
        pos = m.start() + 1


def _year(y: str) -> int:
    v = int(y)
    return v + (2000 if v < 50 else 1900) if v < 100 else v


def _mk(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str, order: str = "DMY") -> list[tuple[int, date]]:
    """All dates in ``text`` as (start offset, date). ``order`` resolves ``03/05/2024``."""
    out: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _ISO.finditer(text):
        d = _mk(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if d:
            out.append((m.start(), d))
            taken.append(m.span())
    for rx in (_TEXT_DMY, _TEXT_MDY, _TEXT_YMD):
        for m in _scan(rx, text):
            if not free(*m.span()):
                continue
            mon = _MONTHS.get(m.group("mon").casefold().rstrip("."))
            if mon is None:
                continue
            d = _mk(_year(m.group("y")), mon, int(m.group("d")))
            if d:
                out.append((m.start(), d))
                taken.append(m.span())
    for m in _scan(_NUMERIC, text):
        if not free(*m.span()):
            continue
        a, b, y = int(m.group("a")), int(m.group("b")), _year(m.group("y"))
        if a > 12 >= b:
            d = _mk(y, b, a)
        elif b > 12 >= a:
            d = _mk(y, a, b)
        else:
            d = _mk(y, a, b) if order == "MDY" else _mk(y, b, a)
        if d:
            out.append((m.start(), d))
            taken.append(m.span())
    out.sort(key=lambda t: t[0])
    return out


def numeric_date_evidence(text: str) -> tuple[int, int]:
    """Count numeric dates that can only be DMY / only MDY."""
    dmy = mdy = 0
    for m in _NUMERIC.finditer(text):
        a, b = int(m.group("a")), int(m.group("b"))
        if a > 12 >= b:
            dmy += 1
        elif b > 12 >= a:
            mdy += 1
    return dmy, mdy


def is_date_token(text: str) -> bool:
    s = text.strip()
    return bool(_ISO.fullmatch(s) or _NUMERIC.fullmatch(s))
