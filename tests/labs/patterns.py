"""Synthetic reports that reproduce the failure patterns seen on real laboratories' reports.

Each builder returns ``(pdf_bytes, truth)`` where ``truth`` lists the results a reader should
return, as ``(printed name, value, unit)``; nothing else on the page is a result. Every person,
laboratory, value and sentence here is invented; the layouts follow the families described in
/work/shared/labs/LAYOUTS.md and the notes of issue 10:

* ``portal_print``: a patient-portal print of a US national lab (``Test | In Range | Out Of Range |
  Reference Range | Lab``; unit inside the range cell, ``(calc)``, units wrapped over two lines,
  ``> OR =`` ranges, comments and category lines under rows, a test not in the catalog, text
  values with wide gaps or reaching over the column edge, ``SEE NOTE:``), followed by the lab's
  own report as an appendix that repeats every result and by a risk-category summary table;
* ``dashboard``: a wellness dashboard print (name on one line, ``In Range  VALUE UNIT`` on the
  next, a ``NEW`` badge in between, a biomarker listed under two body systems, values with no
  unit, ``< 10`` and ``< Or = 5.0`` comparators);
* ``monospace_classic``: a monospace classic report with percentile scale rows, category lines
  after a note, a prose sentence with numbers and a graphical scale label;
* ``advanced_lipids``: ion-mobility subfractions beside particle counts glued to their letter
  (``VLDL-P``) and a ratio whose unit column says ``N/A``.
"""

from __future__ import annotations

from typing import NamedTuple

from tests.labs.corpus import Doc


class Expected(NamedTuple):
    printed_name: str
    value: float | str
    unit: str | None


def _mono(doc: Doc, x: float, y: float, s: str, size: float = 9, bold: bool = False) -> None:
    doc.pdf.set_font("Courier", "B" if bold else "", size)
    doc.pdf.text(x, y, s)


def _right(doc: Doc, x_right: float, y: float, s: str, size: float = 8) -> None:
    doc.text(x_right, y, s, size, align="R")


# --------------------------------------------------------------------------- portal print
_PORTAL_ROWS: list[tuple[str, str, str, str, list[str], list[str]]] = [
    # name, in-range value, out-of-range value, range cell, range continuation, comment lines
    ("GLUCOSE", "88", "", "65-99 mg/dL", [], ["Fasting target for adults:   <100 mg/dL"]),
    ("IRON BINDING CAPACITY", "320", "", "250-425 mcg/dL", ["(calc)"], []),
    ("% SATURATION", "", "16   L", "20-48 % (calc)", [], []),
    ("EGFR", "94", "", "> OR = 60 mL/min/1.", ["73m2"], []),
    # the name and the unit both wrap onto the next line
    ("WHITE BLOOD CELL\nCOUNT", "6.1", "", "3.8-10.8 Thousand", ["/uL"], []),
    # the range cell holds only the unit; the reference is in the comment, then a risk table
    (
        "INSULIN",
        "3.8",
        "",
        "uIU/mL",
        [],
        ["Reference Range < or = 18.4", "Risk:", "Optimal      < or = 18.4", "High         >18.4"],
    ),
    (
        "HEMOGLOBIN A1c",
        "5.5",
        "",
        "<5.7 % of total Hgb",
        [],
        [
            "For someone without known diabetes, a value",
            "5.7-6.4%   is consistent with an increased risk",
            "Consider retesting in 1 to 2 weeks if unexpected.",
        ],
    ),
    (
        "VITAMIN D,25-OH,TOTAL,IA",
        "30",
        "",
        "30-100 ng/mL",
        [],
        ["Deficiency:          <20 ng/mL", "Insufficiency:    20 - 29 ng/mL"],
    ),
    # a test no catalog knows (an invented name): still a result, for review
    ("QUORVALIN", "45.1", "", "<55 ng/mL", [], []),
    # a long name wrapped under its row after a comma; a method after the name
    ("TESTOSTERONE,\nFREE", "98.9", "", "35.0-155.0 pg/mL", [], []),
    ("TESTOSTERONE, TOTAL, MS", "430", "", "250-1100 ng/dL", [], []),
    ("BACTERIA", "NONE        SEEN", "", "NONE SEEN /HPF", [], []),
    ("RH TYPE", "RH(D) POSITIVE", "", "", [], []),
    ("BUN/CREATININE RATIO", "SEE NOTE:", "", "6-22 (calc)", [], []),
]
PORTAL_TRUTH = [
    Expected("GLUCOSE", 88, "mg/dL"),
    Expected("IRON BINDING CAPACITY", 320, "mcg/dL"),
    Expected("% SATURATION", 16, "%"),
    Expected("EGFR", 94, "mL/min/1.73m2"),
    Expected("WHITE BLOOD CELL COUNT", 6.1, "Thousand/uL"),
    Expected("INSULIN", 3.8, "uIU/mL"),
    Expected("HEMOGLOBIN A1c", 5.5, "% of total Hgb"),
    Expected("VITAMIN D,25-OH,TOTAL,IA", 30, "ng/mL"),
    Expected("QUORVALIN", 45.1, "ng/mL"),
    Expected("TESTOSTERONE, FREE", 98.9, "pg/mL"),
    Expected("TESTOSTERONE, TOTAL, MS", 430, "ng/dL"),
    Expected("BACTERIA", "NONE SEEN", None),
    Expected("RH TYPE", "RH(D) POSITIVE", None),
]


def portal_print() -> tuple[bytes, list[Expected]]:
    doc = Doc("Letter")
    cols = {"name": 42, "in": 264, "out": 352, "ref": 450, "lab": 548}

    def header(d: Doc, labels: list[tuple[str, str]]) -> None:
        d.text(42, 40, "Example Clinical Network", 12, True)
        d.text(42, 56, "Patient: Casey Sample     DOB: 02/14/1979     Sex: F", 8)
        d.text(42, 68, "Collected: 03/04/2025 08:10 AM    Received: 03/04/2025 09:00 AM", 8)
        # a labelled field right above the column headings (not part of them)
        d.text(206, 83, "Lab Ref #:", 8.5)
        d.text(299, 83, "1234567", 8.5)
        for key, label in labels:
            d.text(cols[key], 92, label, 8.5, True)
        d.y = 108

    portal_labels = [
        ("name", "Test"),
        ("in", "In Range"),
        ("out", "Out Of Range"),
        ("ref", "Reference Range"),
        ("lab", "Lab"),
    ]
    doc.new_page()
    header(doc, portal_labels)
    for full_name, in_v, out_v, ref, more_ref, comments in _PORTAL_ROWS:
        ref_more = list(more_ref)
        name, _, name_rest = full_name.partition("\n")
        doc.text(cols["name"], doc.y, full_name.replace("\n", " "), 8.5, True)
        doc.text(cols["name"] + 190, doc.y, "Collected: 03/04/2025 08:10 AM", 7)
        doc.y += 12
        doc.text(cols["name"] + 4, doc.y, name, 8.5)
        if in_v:
            # values are right-aligned to the end of the In Range heading; text values reach
            # back over the column edge
            _right(doc, 306, doc.y, in_v, 8.5)
        if out_v:
            _right(doc, 415, doc.y, out_v, 8.5)
        doc.text(cols["ref"], doc.y, ref, 8.5)
        doc.text(cols["lab"], doc.y, "EX", 8.5)
        doc.y += 11
        if name_rest:
            doc.text(cols["name"] + 4, doc.y, name_rest, 8.5)
            if ref_more:
                doc.text(cols["ref"], doc.y, ref_more.pop(0), 8.5)
            doc.y += 11
        for more in ref_more:
            doc.text(cols["ref"], doc.y, more, 8.5)
            doc.y += 11
        for line in comments:
            _mono(doc, 80, doc.y, line, 8.5)
            doc.y += 10.5
        doc.y += 4
    doc.text(42, doc.y + 10, "EX  Example Clinical Network, 1234 Sample Road, Suite 1100", 8)
    doc.text(42, doc.y + 22, "Anytown, TX 00000-1100   Director: Robin Sample, MD", 8)

    # the laboratory's own report, appended: same results, no unit column
    appendix_labels = [
        ("name", "Analyte Name"),
        ("in", "In Range"),
        ("out", "Out Range"),
        ("ref", "Reference Range"),
        ("lab", "Lab"),
    ]
    doc.new_page()
    header(doc, appendix_labels)
    for full_name, in_v, out_v, ref, ref_more, _ in _PORTAL_ROWS:
        if in_v.startswith("SEE"):
            continue
        doc.text(cols["name"], doc.y, full_name.replace("\n", " "), 8)
        if in_v:
            _right(doc, 306, doc.y, " ".join(in_v.split()), 8)
        if out_v:
            _right(doc, 415, doc.y, " ".join(out_v.split()), 8)
        doc.text(cols["ref"], doc.y, (ref + "".join(ref_more)).replace("(calc)", ""), 7)
        doc.text(cols["lab"] + 12, doc.y, "EX", 8)
        doc.y += 12

    # a risk-category summary: the values are drawn as pictures, only the categories are text
    doc.new_page()
    doc.text(42, 40, "Cardiometabolic Summary", 12, True)
    doc.text(42, 70, "Test Name", 8, True)
    doc.text(200, 70, "Result & Risk", 8, True)
    doc.text(440, 70, "Units", 8, True)
    y = 90.0
    for name, cells in [
        ("CHOLESTEROL, TOTAL", ["<200", "N/A", ">=200", "mg/dL"]),
        ("TRIGLYCERIDES", ["<150", "150-199", ">=200", "mg/dL"]),
        ("LDL PATTERN", ["A", "N/A", "B", "Pattern"]),
    ]:
        doc.text(42, y, name, 8)
        for x, c in zip((298, 345, 394, 440), cells, strict=True):
            doc.text(x, y, c, 8)
        y += 22
    return doc.output(), PORTAL_TRUTH


# --------------------------------------------------------------------------- dashboard
DASHBOARD_TRUTH = [
    Expected("Hemoglobin", 14.2, "g/dL"),
    Expected("Rheumatoid Factor (RF)", "<10", "IU/mL"),
    Expected("Biological Age", -3.1, "Years"),
    Expected("Omega 6 / 3 Ratio", 7.6, None),
    Expected("Omega 3 Total", 5.6, "% by wt"),
    Expected("Ferritin", 88, "ng/mL"),
    Expected("pH - Urine", "< Or = 5.0", None),
    Expected("Glucose - Urine", "Negative", None),
]


def dashboard() -> tuple[bytes, list[Expected]]:
    doc = Doc("Letter")
    cards = [
        ("Blood", [("Hemoglobin", "14.2", "g/dL", False), ("Ferritin", "88", "ng/mL", False)]),
        ("Autoimmunity", [("Rheumatoid Factor (RF)", "< 10", "IU/mL", False)]),
        ("Biological Age", [("Biological Age", "-3.1", "Years", False)]),
        (
            "Nutrients",
            [("Omega 6 / 3 Ratio", "7.6", "", True), ("Omega 3 Total", "5.6", "% by wt", True)],
        ),
        # a biomarker belongs to several systems and is listed under each
        ("Iron", [("Ferritin", "88", "ng/mL", False)]),
        (
            "Urine",
            [("pH - Urine", "< Or = 5.0", "", False), ("Glucose - Urine", "Negative", "", False)],
        ),
    ]
    doc.new_page()
    doc.text(53, 60, "Your Health", 28, True)
    doc.text(53, 100, "96 Biomarkers", 16)
    doc.y = 140
    for title, markers in cards:
        if doc.y > 640:
            doc.new_page()
            doc.y = 60
        doc.text(53, doc.y, title, 16, True)
        doc.text(53, doc.y + 20, f"{len(markers)} of {len(markers) + 1} Biomarkers", 11)
        doc.y += 58
        for name, value, unit, new in markers:
            doc.text(64, doc.y, name, 12.8)
            if new:
                doc.text(537, doc.y + 9, "NEW", 7)
            doc.text(64, doc.y + 19.6, "Younger" if "Age" in name else "In Range", 11.2)
            doc.text(123, doc.y + 19.6, value, 11.2)
            if unit:
                doc.text(123 + doc.width_of(value, 11.2) + 6, doc.y + 19.6, unit, 11.2)
            doc.y += 48.8
        doc.y += 20
    return doc.output(), DASHBOARD_TRUTH


# --------------------------------------------------------------------------- monospace classic
MONOSPACE_TRUTH = [
    Expected("Small LDL-P", 531, "nmol/L"),
    Expected("Hemoglobin A1c", 5.5, "%"),
    Expected("Glucose", 91, "mg/dL"),
    Expected("Dihydrotestosterone", 11, "ng/dL"),
]


def monospace_classic() -> tuple[bytes, list[Expected]]:
    doc = Doc("Letter")
    doc.new_page()
    doc.text(36, 40, "Sample Reference Laboratories", 12, True)
    doc.text(36, 54, "Patient: SAMPLE, JORDAN   DOB: 06/30/1968   Date collected: 04/22/2025", 8)
    y = 90.0
    for x, label in [(109, "TESTS"), (234, "RESULT"), (307, "FLAG"), (373, "UNITS")]:
        doc.text(x, y, label, 9, True)
    doc.text(419, y, "REFERENCE INTERVAL", 9, True)
    doc.text(551, y, "LAB", 9, True)
    # cells at the columns of the header; monospace type splits every word into its own cell
    rows: list[list[tuple[float, str]]] = [
        [
            (42, "Small LDL-P"),
            (266, "531"),
            (306, "High"),
            (375, "nmol/L"),
            (435, "<=527"),
            (554, "01"),
        ],
        [
            (82, "Small LDL-P"),
            (221, "Low"),
            (280, "25th"),
            (333, "50th"),
            (386, "75th"),
            (432, "High"),
        ],
        [(221, "<117"), (280, "117"), (333, "527"), (386, "839"), (432, ">839")],
        [(42, "Glucose"), (266, "91"), (375, "mg/dL"), (435, "65-99"), (554, "01")],
        [(42, "Hemoglobin A1c"), (266, "5.5"), (391, "%"), (461, "4.8-5.6"), (554, "02")],
        # no range in the row: it is given in the comment under it
        [(42, "Dihydrotestosterone"), (273, "11"), (313, "Low"), (378, "ng/dL"), (554, "03")],
        [(69, "Reference Range:")],
        [(69, "<18y: Not Established")],
        [(69, "Adult Male: 30 - 85")],
        [(42, "Please Note:"), (554, "02")],
        [(128, "Prediabetes: 5.7 - 6.4")],
        [(128, "Diabetes: >6.4")],
        [(42, "The total PSA is between 4.0 and 10.0 ng/mL.")],
        [(82, "LDL Size  <-Large (Pattern A)->  <-Small (Pattern B)->")],
        [(201, "23.0"), (254, "20.6"), (353, "20.5"), (419, "19.0")],
    ]
    y += 16
    for cells in rows:
        for x, text in cells:
            _mono(doc, x, y, text, 9)
        y += 12
    return doc.output(), MONOSPACE_TRUTH


# --------------------------------------------------------------------------- advanced lipids
ADVANCED_LIPIDS_TRUTH = [
    Expected("LDL PARTICLE NUMBER", 1512, "nmol/L"),
    Expected("LDL SMALL", 201, "nmol/L"),
    Expected("LDL MEDIUM", 188, "nmol/L"),
    Expected("HDL LARGE", 7012, "nmol/L"),
    Expected("LDL PEAK SIZE", 224.1, "Angstrom"),
    Expected("LDL PATTERN", "A", None),
    Expected("Large HDL-P", 5.1, "umol/L"),
    Expected("VLDL-P", 41, "nmol/L"),  # not in the catalog: for review, never VLDL cholesterol
    Expected("sdLDL-P", 350, "nmol/L"),  # likewise, never small dense LDL cholesterol
    Expected("CHOL/HDLC RATIO", 3.4, None),  # "N/A" in the unit column is no unit
]


def advanced_lipids() -> tuple[bytes, list[Expected]]:
    """An advanced lipid report: ion-mobility subfractions (``LDL SMALL``, ``HDL LARGE``, a peak
    size in ångström), NMR-style particle counts glued to their letter (``VLDL-P``), and a ratio
    whose unit column says ``N/A``."""
    doc = Doc("Letter")
    doc.new_page()
    doc.text(36, 40, "Sample Cardiometabolic Laboratories", 12, True)
    doc.text(36, 54, "Patient: SAMPLE, JORDAN   DOB: 06/30/1968   Date collected: 04/22/2025", 8)
    cols = (42, 230, 290, 340, 420)
    for x, label in zip(
        cols, ("Test Name", "Result", "Flag", "Units", "Reference Interval"), strict=True
    ):
        doc.text(x, 90, label, 9, True)
    rows = [
        ("LIPOPROTEIN FRACTIONATION, ION MOBILITY", "", "", "", ""),
        ("LDL PARTICLE NUMBER", "1512", "H", "nmol/L", "<1138"),
        ("LDL SMALL", "201", "H", "nmol/L", "<142"),
        ("LDL MEDIUM", "188", "", "nmol/L", "<215"),
        ("HDL LARGE", "7012", "", "nmol/L", ">6729"),
        ("LDL PATTERN", "A", "", "", "A"),
        ("LDL PEAK SIZE", "224.1", "", "Angstrom", ">222.9"),
        ("PARTICLES", "", "", "", ""),
        ("Large HDL-P", "5.1", "", "umol/L", ">=4.8"),
        ("VLDL-P", "41", "", "nmol/L", ""),
        ("sdLDL-P", "350", "", "nmol/L", ""),
        ("CHOL/HDLC RATIO", "3.4", "", "N/A", "<5.0"),
    ]
    y = 108.0
    for cells in rows:
        for x, text in zip(cols, cells, strict=True):
            if text:
                doc.text(x, y, text, 9, bold=not cells[1])
        y += 14
    y += 8
    doc.text(42, y, "Ion mobility values are not comparable with results by other methods.", 8)
    return doc.output(), ADVANCED_LIPIDS_TRUTH


BUILDERS = {
    "portal_print": portal_print,
    "dashboard": dashboard,
    "monospace_classic": monospace_classic,
    "advanced_lipids": advanced_lipids,
}
