"""Text recognition for scanned lab reports, through Tesseract (pytesseract).

Used only when a PDF has no text layer and the user asks for it. OCR misreads
digits ("0" for "8", "l" for "1"), and a wrong number presented as confident is
worse than a missing one: a result read this way is capped below the confidence
threshold, so the review screen shows it for checking, unless everything about
it agrees (`settle`, `self_consistent`): the parser is sure of the row, and its
value, unit, range and flag agree with each other and with the analyte's
plausible bounds.

Pages arrive the way scans do: askew, grey, blurred, JPEG-compressed, with fax
headers and coloured stamps. Before Tesseract sees a page it is cleaned
(`preprocess`): coloured ink (stamps, highlighter) is dropped because printed
results are dark in every colour channel, the page is straightened (the angle
whose row profile is sharpest) and binarised (Otsu). Tesseract's word boxes
then go through the same row extraction as a text PDF's words.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ohvault.labs.errors import CorruptPdf, ParseCancelled
from ohvault.labs.layout import Word

if TYPE_CHECKING:
    from ohvault.labs.catalog import Catalog
    from ohvault.labs.parser import ParsedResult

DPI = 300
POINTS_PER_INCH = 72.0
MAX_CONFIDENCE = 0.6  # below the parser's CONFIDENT (0.8): an OCR result that does not agree
HOW_TO_ENABLE = (
    "install Tesseract (e.g. `sudo apt-get install tesseract-ocr`) to let ohvault read it, "
    "or make a searchable copy first with `ocrmypdf in.pdf out.pdf`"
)


def self_consistent(result: ParsedResult, catalog: Catalog) -> bool:
    """Whether an OCR result may be trusted without review: everything about it agrees.

    The rule for lifting the OCR cap (MAX_CONFIDENCE): the row maps to a catalog analyte, its
    value is a plain number in a unit that analyte is measured in, the value and both ends of
    the printed range fall inside the analyte's plausible bounds, the range is ordered, the
    value lies within a factor of ten of the range (a lost decimal point is a factor of ten),
    and the printed H/L flag says what the value and range say (a value outside its range
    needs its flag). A lost or moved decimal point, a
    misread unit or flag, a digit read into the wrong cell break one of these; a digit misread
    as another digit inside the plausible range (94.3 for 94.8) does not, which is why the
    benchmark counts confident wrong values. `settle` applies it to every OCR result.
    """
    analyte = catalog.by_loinc(result.loinc) if result.loinc else None
    value, unit = result.value_num, result.unit_ucum
    if analyte is None or value is None or result.comparator is not None:
        return False
    if unit is None or not analyte.accepts(unit):
        return False
    low, high = result.ref_low, result.ref_high
    if low is None or high is None or not low < high or high <= 0:
        return False
    try:
        canonical = [analyte.to_canonical(v, unit) for v in (value, low, high)]
    except (ValueError, KeyError, ZeroDivisionError):
        return False
    if not all(analyte.is_plausible(v) for v in canonical):
        return False
    if value > high * 10 or (low > 0 and value < low / 10):
        return False
    expected = "H" if value > high else "L" if value < low else None
    printed = (result.flag or "").upper()[:1] or None
    # A value outside its range needs the laboratory's flag saying so: OCR loses a decimal point
    # ("7.7" read "77") or reads a flag as a digit ("14.4H" read "14.44"), and both leave an
    # out-of-range value with no flag beside it.
    return printed in (None, "N") if expected is None else printed == expected


@dataclass(frozen=True)
class OcrWord(Word):
    """A word read by Tesseract, with Tesseract's confidence in it (0-100)."""

    conf: float = 100.0


@dataclass(frozen=True)
class ReadNumbers:
    """The words with digits that text recognition read on each page, and how sure it was."""

    by_page: dict[int, list[OcrWord]] = field(default_factory=dict)

    def add(self, page: int, words: list[Word]) -> None:
        self.by_page.setdefault(page, []).extend(
            w for w in words if isinstance(w, OcrWord) and any(c.isdigit() for c in w.text)
        )

    def decimal_mark(self) -> str | None:
        """The decimal mark of most numbers in the document, when nine in ten agree."""
        marks = [m for ws in self.by_page.values() for w in ws for m in _DECIMAL.findall(w.text)]
        for mark in ".,":
            if marks and marks.count(mark) >= 0.9 * len(marks):
                return mark
        return None

    def within(self, page: int, box: tuple[float, float, float, float]) -> list[OcrWord]:
        x0, top, x1, bottom = box
        return [
            w
            for w in self.by_page.get(page, [])
            if x0 - 1 <= (w.x0 + w.x1) / 2 <= x1 + 1
            and top - 1 <= (w.top + w.bottom) / 2 <= bottom + 1
        ]


# One decimal mark between two runs of digits, in a number that is not a date ("22.10.2024").
_DECIMAL = re.compile(r"(?<![\d.,])\d+([.,])\d+(?![\d.,])")
MIN_WORD_CONF = 80.0  # Tesseract's confidence (0-100) below which a number read is doubted

CHECK_NOTE = "read by text recognition (OCR): check it against the page"
AGREES_NOTE = "read by text recognition (OCR): name, value, unit, range and flag agree"


def settle(
    results: list[ParsedResult],
    catalog: Catalog,
    confident: float,
    numbers: ReadNumbers | None = None,
) -> list[ParsedResult]:
    """OCR results with the confidence they may keep.

    A result keeps the parser's confidence only when the parser is sure of the row as read
    (at or above `confident`: the name matched exactly, the unit is right for the test, the
    value is in its column), the row carries a collection date, `self_consistent` finds
    value, unit, range and flag in agreement, and (given the `numbers` read) Tesseract was
    sure of every number in the row's name and value cells and read their decimal marks as
    the rest of the document prints them ("2.9" on a report of "2,5" is a misread). Every
    other OCR result is capped below the confident threshold (MAX_CONFIDENCE) and listed for
    review.
    """
    mark = numbers.decimal_mark() if numbers is not None else None

    def sure(r: ParsedResult) -> bool:
        if numbers is None:
            return True
        read = numbers.within(r.page, r.bbox)
        if not read or any(w.conf < MIN_WORD_CONF for w in read):
            return False
        return mark is None or all(m == mark for w in read for m in _DECIMAL.findall(w.text))

    out: list[ParsedResult] = []
    for r in results:
        repaired = repair_result_unit(r, catalog)
        if repaired is not None:  # a guessed unit is not what the page says: reviewed
            out.append(repaired)
            continue
        if (
            r.confidence >= confident
            and r.date is not None
            and self_consistent(r, catalog)
            and sure(r)
        ):
            out.append(replace(r, notes=(*r.notes, AGREES_NOTE)))
        else:
            capped = min(r.confidence, MAX_CONFIDENCE)
            out.append(replace(r, confidence=capped, notes=(*r.notes, CHECK_NOTE)))
    return out


_LOST = "uLl"  # characters a blurred unit loses: the micro sign, the litre after "/d"


def repair_result_unit(result: ParsedResult, catalog: Catalog) -> ParsedResult | None:
    """`result` with a misread unit replaced by the one unit its test is measured in; else None.

    Knowing the test narrows a misread unit down where the page alone does not: "pmol/L" is a
    unit, but not one bilirubin is measured in, and one misread character ("µ" read "p") gives
    "µmol/L", which it is. The repair is made only when one misread, lost or extra character
    gives exactly one unit the result's analyte accepts. The value is never touched, and the
    result stays below the confident threshold, with a note, for the reviewer to confirm.
    """
    from ohvault.labs.units import display_unit, normalise_unit

    analyte = catalog.by_loinc(result.loinc) if result.loinc else None
    printed = result.unit
    if analyte is None or not printed or analyte.accepts(result.unit_ucum):
        return None
    if len(printed) > _MAX_UNIT or any(c.isspace() for c in printed):
        return None
    # A lost character (the micro sign, the litre of "/dL"), or the micro sign read as a letter.
    edits = {printed[:i] + c + printed[i:] for i in range(len(printed) + 1) for c in _LOST}
    edits |= {printed[:i] + "u" + printed[i + 1 :] for i, c in enumerate(printed) if c in "py"}
    if normalise_unit(printed) is None:
        # Not a unit at all: also one character of the analyte's own units read as another,
        # or an extra one. A printed unit that is a unit is not rewritten so freely: the name
        # may be the misread part.
        alphabet = {c for conv in analyte.conversions for c in conv.unit if not c.isspace()}
        edits |= _unit_edits(printed)
        for i in range(len(printed)):
            edits.add(printed[:i] + printed[i + 1 :])
            edits |= {printed[:i] + c + printed[i + 1 :] for c in alphabet | {"l"}}
    accepted: dict[str, str] = {}
    for edit in sorted(edits, key=lambda e: (len(e), e)):
        ucum = normalise_unit(edit)
        if ucum is not None and analyte.accepts(ucum):
            accepted.setdefault(ucum, edit)
    if len(accepted) != 1:
        return None
    ((ucum, _spelled),) = accepted.items()
    spelled = display_unit(ucum)
    canonical = None
    if result.value_num is not None:
        canonical = analyte.to_canonical(result.value_num, ucum)
    notes = tuple(n for n in result.notes if not n.startswith("unit "))
    return replace(
        result,
        unit=spelled,
        unit_ucum=ucum,
        value_canonical=canonical,
        unit_canonical=analyte.canonical_unit if canonical is not None else None,
        confidence=min(result.confidence, MAX_CONFIDENCE),
        notes=(*notes, f"unit read as {printed!r}, taken as {spelled!r}", CHECK_NOTE),
    )


def ocr_available() -> bool:
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return True


def otsu_threshold(grey: Any) -> int:
    """The grey level that best splits a page into ink and paper (Otsu's method)."""
    import numpy as np

    hist = np.bincount(np.asarray(grey, dtype=np.uint8).ravel(), minlength=256).astype(float)
    total = hist.sum()
    if total == 0:
        return 128
    levels = np.arange(256)
    weight_dark = np.cumsum(hist)
    weight_light = total - weight_dark
    mass_dark = np.cumsum(hist * levels)
    mean_dark = mass_dark / np.maximum(weight_dark, 1)
    mean_light = (mass_dark[-1] - mass_dark) / np.maximum(weight_light, 1)
    between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    return int(np.argmax(between))


def skew_angle(grey: Any, limit: float = 6.0) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines horizontal.

    Text lines give the row-sum profile of the ink sharp peaks and valleys when they run level;
    the angle with the most uneven profile wins (coarse, then fine around the best).
    """
    import numpy as np
    from PIL import Image

    small = Image.fromarray(np.asarray(grey, dtype=np.uint8))
    factor = max(1.0, small.width / 900)
    small = small.resize((int(small.width / factor), int(small.height / factor)))
    ink = Image.fromarray(
        np.where(np.asarray(small) < otsu_threshold(small), 255, 0).astype(np.uint8)
    )

    def sharpness(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST)).sum(axis=1)
        return float(np.square(np.diff(rows.astype(float))).sum())

    best = max(np.arange(-limit, limit + 0.01, 0.5), key=sharpness)
    best = max(np.arange(best - 0.5, best + 0.51, 0.1), key=sharpness)
    best = max(np.arange(best - 0.1, best + 0.101, 0.025), key=sharpness)
    return round(float(best), 3)


def _runs(ink: Any, length: int, axis: int) -> Any:
    """Pixels that belong to a straight run of ink at least `length` long along `axis`."""
    import numpy as np

    a = ink if axis == 1 else ink.T
    n = a.shape[1]
    if n < length:
        return np.zeros_like(ink)
    sums = np.pad(np.cumsum(a, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    full = (sums[:, length:] - sums[:, : n - length + 1]) == length  # a run starts here
    starts = np.zeros(a.shape, dtype=np.int32)
    starts[:, : n - length + 1] = full
    cum = np.pad(np.cumsum(starts, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    x = np.arange(n)
    marked = (cum[:, x + 1] - cum[:, np.maximum(0, x - length + 1)]) > 0
    return marked if axis == 1 else marked.T


def _thicken(mask: Any, axis: int) -> Any:
    """`mask` grown by one pixel both ways along `axis`."""
    out = mask.copy()
    if axis == 0:
        out[1:] |= mask[:-1]
        out[:-1] |= mask[1:]
    else:
        out[:, 1:] |= mask[:, :-1]
        out[:, :-1] |= mask[:, 1:]
    return out


def remove_rules(ink: Any, dpi: int = DPI) -> Any:
    """Table rules (long straight lines) taken out of a page's ink mask.

    Tesseract reads a ruled grid as a stream of dashes and tildes that swallows the cells beside
    it; no character is a sixth of an inch of straight thin ink across (an em dash at 9 pt is
    an eighth) or a third of an inch down, so such runs are rules, not text. A rule left slightly askew or broken by JPEG
    steps from row to row: runs are found on the ink thickened by a pixel across the rule.
    """
    across = max(20, dpi // 6)
    down = max(40, dpi // 3)  # a slash or an "l" next to a bracket is a tall thin stroke
    rules = _thicken(_runs(_thicken(ink, 0), across, 1), 0)
    rules |= _thicken(_runs(_thicken(ink, 1), down, 0), 1)
    return ink & ~rules


def preprocess(image: Any) -> Any:
    """A page image cleaned for Tesseract: coloured ink dropped, straightened, black on white."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    # Printed text is dark in every channel; a red stamp or a yellow highlight is light in one.
    grey = Image.fromarray(rgb.max(axis=2))
    angle = skew_angle(grey)
    if abs(angle) >= 0.1:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    ink = np.asarray(grey) <= otsu_threshold(grey)
    ink = remove_rules(ink)
    return Image.fromarray(np.where(ink, 0, 255).astype(np.uint8))


# What Tesseract reads for the characters of a unit: "l" for "/" or "1", "y" for "µ"...
_CONFUSED = {
    "l": "1/I",
    "1": "l/",
    "I": "l1/",
    "i": "l/1",
    "t": "l/",
    "|": "/l1",
    "!": "l/",
    "y": "u",
    "p": "u",  # the micro sign's tail
    "0": "o",
    "o": "0",
    "O": "0",
    "-": "l",  # the stem of a blurred "l" lost, its foot left
}
# A slash and the letter after it merged into one glyph.
_MERGED = {"A": ("/l", "/L"), "H": ("/l",)}
_DROPPABLE = set("l1Ii|xX")  # an extra stroke read as a character
_MAX_UNIT = 14


def _unit_edits(token: str, *, substitutions_only: bool = False) -> set[str]:
    out: set[str] = set()
    for i, ch in enumerate(token):
        for alt in (*_CONFUSED.get(ch, ""), *_MERGED.get(ch, ())):
            out.add(token[:i] + alt + token[i + 1 :])
        if ch in _DROPPABLE and not substitutions_only:
            out.add(token[:i] + token[i + 1 :])
    if "/" not in token and not substitutions_only:
        out.update(token[:i] + "/" + token[i:] for i in range(1, len(token)))
    out.discard(token)
    return out


def _one_unit(candidates: set[str]) -> tuple[str | None, bool]:
    """(the candidate spelling a unit, ambiguous?) among `candidates`."""
    from ohvault.labs.units import normalise_unit

    hits = {e: u for e in candidates if len(e) >= 2 and (u := normalise_unit(e)) is not None}
    if len(set(hits.values())) == 1:
        return min(hits, key=lambda e: (len(e), e)), False
    return None, bool(hits)


# "x10³/µL" and "10^3/µL" as Tesseract reads them: "x107/uL", "x103/pL", "10%3/uL", "1073/pL".
# The caret or asterisk becomes "%", "*" or "7"; a superscript three becomes "3" or "7".
_POWER_READ = re.compile(r"(?P<x>[xX×*]?)10(?P<power>[%*^°7]?\d{1,2})(?P<per>/\S{1,6})")
_POWER_SIGNS = "%*^°7"
_SUPERSCRIPT_READ = {"7": "3"}


_SPLIT_POWER_HEAD = re.compile(r"[xX×*]?10[%*^°7]?")
_SPLIT_POWER_TAIL = re.compile(r"\d{1,2}/\S{1,6}")


def repair_power(token: str) -> str | None:
    """A power-of-ten count unit read wrong (``x107/uL``), spelled ``x10^3/uL``; else None.

    Every reading of the characters after "10" (a sign, then the exponent; a superscript read
    as a digit) and of the letters after the slash (one misread character) is tried; the token
    is repaired only when exactly one known unit results.
    """
    from ohvault.labs.units import normalise_unit

    m = _POWER_READ.fullmatch(token)
    if m is None:
        return None
    power = m.group("power")
    exponents = {power[1:]} if power[0] in _POWER_SIGNS and len(power) > 1 else set()
    exponents.add(power)
    exponents |= {_SUPERSCRIPT_READ[e] for e in exponents if e in _SUPERSCRIPT_READ}
    pers = {m.group("per")} | {
        e for e in _unit_edits(m.group("per"), substitutions_only=True) if e.startswith("/")
    }
    found: dict[str, str] = {}
    for exponent in exponents:
        if not exponent.isdigit() or exponent.startswith("0"):
            continue
        for per in pers:
            spelled = f"{m.group('x')}10^{exponent}{per}"
            ucum = normalise_unit(spelled)
            if ucum is not None and ucum.startswith("10*"):
                found.setdefault(ucum, spelled)
    return next(iter(found.values())) if len(found) == 1 else None


def repair_unit(token: str) -> str:
    """A unit Tesseract misread (``U/I``, ``gil``, ``x1l0E6/uL``, ``ymol/L``) spelled right.

    Only a token that is not already a unit, not a flag and unit-shaped is touched, and only
    when one or two character confusions turn it into exactly one known unit; otherwise it is
    returned as read.
    """
    from ohvault.labs.units import normalise_unit
    from ohvault.labs.values import is_flag_token

    if len(token) < 2 or len(token) > _MAX_UNIT or normalise_unit(token) is not None:
        return token
    if is_flag_token(token) or any(c.isspace() for c in token):
        return token
    if not any(c.isalpha() for c in token):  # a number or a range: never rewritten
        return token
    power = repair_power(token)
    if power is not None:
        return power
    if token.isalpha() and len(token) > 3:  # a word, not a mangled unit
        return token
    # A misread character is likelier than a lost or an extra one: substitutions are tried first.
    found, ambiguous = _one_unit(_unit_edits(token, substitutions_only=True))
    if found is not None or ambiguous:
        return found or token
    frontier = {token}
    # A word gets one edit at most: two could turn a test name ("IgA") into a unit.
    for _ in range(1 if token.isalpha() else 2):
        frontier = {e for t in frontier for e in _unit_edits(t)}
        found, ambiguous = _one_unit(frontier)
        if found is not None or ambiguous:
            return found or token  # ambiguous: left as read, for the person reviewing
    return token


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between `a` and `b`, or `limit + 1` once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# Labels of the dates a report states; the report's other labels are read only to tell them apart.
_DATE_KINDS = frozenset({"collected", "received", "reported", "dob"})
_MIN_LABEL = 8  # a shorter label ("born", "drawn") is one misread away from other words


def _labels() -> dict[tuple[str, ...], str]:
    """Every metadata label of the parser's word lists (normalised words) and its kind."""
    from ohvault.labs.words import LABEL_INDEX

    return LABEL_INDEX


def _single(word: str) -> str:
    """`word` with each run of one letter written once."""
    return re.sub(r"(.)\1+", r"\1", word)


def _respell(read: str, word: str) -> str:
    """`read` with its letters replaced by `word`, its punctuation and capital kept."""
    core = re.search(r"[^\W_](?:.*[^\W_])?", read)
    if core is None:
        return read
    if read[core.start()].isupper():
        word = word[:1].upper() + word[1:]
    return read[: core.start()] + word + read[core.end() :]


def _label_near(keys: list[str]) -> tuple[str, ...] | None:
    """The one date label `keys` (normalised words) is a few misread characters away from."""
    if any(len(k.split()) != 1 for k in keys):
        return None
    labels = _labels()
    if tuple(keys) in labels:
        return None  # read right: nothing to repair
    # An accented letter is often read as two ("é" as "eé"): doubled letters count once.
    keys = [_single(k) for k in keys]
    text = " ".join(keys)
    best: dict[tuple[str, ...], int] = {}
    for label in labels:
        if len(label) != len(keys):
            continue
        target = " ".join(_single(w) for w in label)
        # about one misread character in six, and no word changed beyond recognition
        limit = len(target) // 6
        if len(target) < _MIN_LABEL or abs(len(target) - len(text)) > limit:
            continue
        distance = edit_distance(text, target, limit)
        if distance > limit:
            continue
        if any(
            edit_distance(k, _single(t), max(1, len(t) // 4)) > max(1, len(t) // 4)
            for k, t in zip(keys, label, strict=True)
        ):
            continue
        best[label] = distance
    if not best:
        return None
    nearest = min(best.values())
    winners = {labels[lab] for lab, d in best.items() if d == nearest}
    if len(winners) != 1 or not winners <= _DATE_KINDS:
        return None
    return min(lab for lab, d in best.items() if d == nearest)


def repair_labels(texts: list[str]) -> list[str]:
    """A line's words with a misread date label spelled as the label it is nearest to.

    ``Mintaveétel idédpontja: 2025-04-04`` loses the collection date of every result of the
    report if the label is not recognised. A run of words is taken for a date label only when
    it ends in a colon or is followed by a number (the date itself), its characters are within
    one in six of exactly one kind of label in the vocabulary (words.json, every laboratory's
    spelling alike) and of no other kind. Only the label's letters change: punctuation is kept,
    and numbers are never touched.
    """
    from ohvault.labs.catalog import normalise_name

    out = list(texts)
    keys = [normalise_name(t) for t in texts]
    longest = max(len(k) for k in _labels())
    end = 0
    while end < len(out):
        nxt = out[end + 1] if end + 1 < len(out) else ""
        bounded = out[end].rstrip().endswith(":") or nxt.startswith(":") or nxt[:1].isdigit()
        if not bounded:
            end += 1
            continue
        for start in range(max(0, end + 1 - longest), end + 1):
            window = keys[start : end + 1]
            if not all(window) or any(any(c.isdigit() for c in k) for k in window):
                continue
            label = _label_near(window)
            if label is None:
                continue
            for i, word in zip(range(start, end + 1), label, strict=True):
                out[i] = _respell(out[i], word)
            break
        end += 1
    return out


@functools.cache
def _header_words() -> dict[str, str]:
    """Single-word column headings (layout.ROLE_PHRASES, normalised) and their role."""
    from ohvault.labs.layout import ROLE_PHRASES

    out: dict[str, str] = {}
    for role, phrases in ROLE_PHRASES.items():
        for phrase in phrases:
            if " " not in phrase:
                out.setdefault(phrase, role)
    return out


def repair_header(texts: list[str]) -> list[str]:
    """A table's header line with its misread column headings spelled as the headings.

    The columns of a table are found from its header ("Vizsgálat | Eredmény | Státusz"); one
    misread heading ("Vizsgadlat") moves every cell of the table into the wrong column. A line
    is a header when it has no digits and at least two words are headings as read; then a word
    of six letters or more within one edit in six of exactly one heading is read as it.
    """
    from ohvault.labs.catalog import normalise_name

    if any(ch.isdigit() for t in texts for ch in t):
        return texts
    headings = _header_words()
    keys = [normalise_name(t) for t in texts]
    if sum(1 for k in keys if k in headings) < 2:
        return texts
    out = list(texts)
    for i, key in enumerate(keys):
        if key in headings or " " in key or len(key) < 6:
            continue
        limit = len(key) // 6
        near = {h for h in headings if len(h) >= 6 and edit_distance(key, h, limit) <= limit}
        if len({headings[h] for h in near}) == 1 and len(near) == 1:
            out[i] = _respell(texts[i], near.pop())
    return out


def page_words(image: Any, scale: float) -> list[Word]:
    """Tesseract's words on one page image, in PDF points (`scale` = points per pixel)."""
    import pytesseract

    image = preprocess(image)
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT, config="--psm 6")
    return words_from_data(data, scale)


def words_from_data(data: dict[str, list[Any]], scale: float) -> list[Word]:
    """Words of Tesseract's `image_to_data` output, boxed as a text PDF boxes them.

    Tesseract boxes the ink of each word: a dash is a sliver at mid-height, a "g" hangs below
    the line. A text PDF boxes every word of a line from ascender to descender, and the row
    extraction groups and spaces words by those boxes; so each word gets the height of the
    line Tesseract read it in. Misread date labels, column headings and units are repaired
    line by line (`repair_labels`, `repair_header`, `repair_unit`).
    """
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, text in enumerate(data["text"]):
        if str(text).strip() and float(data["conf"][i]) >= 0:
            key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            lines.setdefault(key, []).append(i)
    words: list[Word] = []
    for indices in lines.values():
        top = min(float(data["top"][i]) for i in indices) * scale
        bottom = max(float(data["top"][i]) + float(data["height"][i]) for i in indices) * scale
        texts = repair_header(repair_labels([str(data["text"][i]).strip() for i in indices]))
        line: list[Word] = []
        for i, text in zip(indices, texts, strict=True):
            left, width = float(data["left"][i]) * scale, float(data["width"][i]) * scale
            conf = float(data["conf"][i])
            word = OcrWord(text, left, left + width, top, bottom, bottom - top, conf=conf)
            prev = line[-1] if line else None
            if (
                prev is not None
                and _SPLIT_POWER_HEAD.fullmatch(prev.text)
                and _SPLIT_POWER_TAIL.fullmatch(text)
                and word.x0 - prev.x1 < word.size
                and (joined := repair_power(prev.text + text)) is not None
            ):
                # "10% 3/uL": a power unit Tesseract cut in two at a misread caret
                conf = min(conf, prev.conf if isinstance(prev, OcrWord) else conf)
                line[-1] = OcrWord(joined, prev.x0, word.x1, top, bottom, word.size, conf=conf)
                continue
            line.append(word)
        words.extend(replace(w, text=repair_unit(w.text)) for w in line)
    return words


def ocr_pages(
    data: bytes,
    password: str | None,
    on_page: Callable[[int, list[Word], float, float], None],
    should_cancel: Callable[[], bool] | None = None,
) -> ReadNumbers:
    """Render each page with pdfium and hand its recognised words to `on_page`.

    Returns the numbers read on every page with Tesseract's confidence in them (for `settle`).
    """
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(data, password=password)
    except Exception as exc:
        raise CorruptPdf("The scanned PDF cannot be rendered for text recognition.") from exc
    numbers = ReadNumbers()
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
            words = page_words(image, scale)
            numbers.add(index + 1, words)
            on_page(index + 1, words, float(width), float(height))
    finally:
        doc.close()
    return numbers
