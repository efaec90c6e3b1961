"""The one-click visit summary PDF: latest results, flagged values, trend charts.

Built off the GUI thread or by `ohvault summary` (fpdf2 for the pages,
matplotlib/Agg for the charts), from memory; the only file written is the one the
user chose, and the export is audited. The file is not encrypted: both front ends
warn before writing it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ohvault.atomic import atomic_write_bytes
from ohvault.model import Condition, MedicationStatement, Observation, is_out_of_range
from ohvault.reports import charts
from ohvault.reports.trends import build_series, medication_spans, series_key
from ohvault.ucum import display_unit
from ohvault.vault import Vault
from ohvault.wording import flag_word, reference_text

MAX_CHARTS = 6


@dataclass(frozen=True)
class SummaryInfo:
    pages: int
    results: int
    flagged: int
    charts: int


def _font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def build_visit_summary(
    vault: Vault,
    profile_id: str,
    dest: Path,
    *,
    since: date | None = None,
    step: Callable[[int, int, str], None] | None = None,
) -> SummaryInfo:
    """Write the summary to `dest`. `step(done, total, text)` reports progress and may raise
    to cancel (nothing is written before the last step)."""

    def report(done: int, text: str) -> None:
        if step is not None:
            step(done, 4, text)

    report(0, "Reading results…")
    from fpdf import FPDF

    profile = vault.repo.profile(profile_id)
    observations = vault.repo.observations(profile_id)
    latest = vault.repo.latest_observations(profile_id)
    meds = [m for m in vault.repo.records(MedicationStatement, profile_id) if m.status == "active"]
    conditions = [
        c for c in vault.repo.records(Condition, profile_id) if c.clinical_status == "active"
    ]
    flagged = [o for o in latest if is_out_of_range(o.flag)]

    report(1, "Laying out the summary…")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    fonts = _font_path()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Visit summary")
    pdf.set_creator("ohvault")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, "Visit summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    born = f" · born {profile.birth_date.isoformat()}" if profile.birth_date else ""
    pdf.cell(
        0,
        6,
        f"{profile.name}{born} · prepared {date.today().isoformat()}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def results_table(rows: list[Observation]) -> None:
        with pdf.table(
            col_widths=(52, 22, 20, 30, 24, 24), text_align="LEFT", line_height=5.5
        ) as table:
            table.row(["Test", "Result", "Unit", "Reference", "Flag", "Date"])
            for o in rows:
                table.row(
                    [
                        o.analyte,
                        o.display_value(),
                        display_unit(o.unit),
                        reference_text(o),
                        flag_word(o.flag),
                        o.effective.isoformat(),
                    ]
                )

    heading(f"Out of range ({len(flagged)})")
    if flagged:
        results_table(flagged)
    else:
        pdf.cell(
            0, 6, "No latest result is outside its reference range.", new_x="LMARGIN", new_y="NEXT"
        )
    from ohvault.vitals import format_vital, is_vital, split_components

    # Vital signs: the latest reading of each kind, with its time of day when known.
    vital_rows = sorted((o for o in latest if is_vital(o)), key=lambda o: o.analyte.lower())
    if vital_rows:
        heading("Vital signs")
        with pdf.table(col_widths=(60, 50, 60), text_align="LEFT", line_height=5.5) as table:
            table.row(["Vital sign", "Latest", "Measured"])
            for o in vital_rows:
                measured = (
                    o.effective_at.strftime("%Y-%m-%d %H:%M")
                    if o.effective_at is not None
                    else o.effective.isoformat()
                )
                table.row([o.analyte, format_vital(o), measured])
    if meds or conditions:
        heading("Current medications and conditions")
        for m in meds:
            since_txt = f" since {m.start.isoformat()}" if m.start else ""
            pdf.multi_cell(
                0,
                5.5,
                f"• {m.name}{' ' + m.dosage if m.dosage else ''}{since_txt}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        for c in conditions:
            pdf.multi_cell(0, 5.5, f"• {c.name}", new_x="LMARGIN", new_y="NEXT")
    lab_latest = [o for o in latest if not is_vital(o)]
    heading(f"Latest results ({len(lab_latest)})")
    if lab_latest:
        results_table(sorted(lab_latest, key=lambda o: ((o.category or "~"), o.analyte.lower())))
    else:
        pdf.cell(0, 6, "No results recorded.", new_x="LMARGIN", new_y="NEXT")

    # Trend charts: flagged analytes first, then the ones with the longest history.
    by_key: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        for part in split_components(o):  # blood pressure: systolic and diastolic
            by_key[series_key(part)].append(part)
    flagged_keys = [series_key(o) for o in flagged]
    ranked = flagged_keys + sorted(
        (k for k in by_key if k not in flagged_keys), key=lambda k: -len(by_key[k])
    )
    report(2, "Drawing trend charts…")
    spans = medication_spans(vault, profile_id)
    chart_series = []
    for key in ranked:
        series = build_series(by_key[key])
        if series is not None and len(series.points) >= 2:
            chart_series.append(series)
        if len(chart_series) >= MAX_CHARTS:
            break
    if chart_series:
        # One figure, one panel per analyte on a shared time axis: one layout pass, one render.
        pdf.add_page()
        heading("Trends")
        fig = charts.new_figure(7.5, 1.55 * len(chart_series) + 0.4, dpi=120)
        charts.draw_trends(fig, chart_series, spans, since=since)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        pdf.image(buf, w=180)
    drawn = len(chart_series)
    pdf.set_y(-20)
    pdf.set_font("DejaVu", "", 7)
    pdf.cell(
        0,
        5,
        "Prepared with ohvault from records the patient keeps. Not a medical report.",
        align="C",
    )
    report(3, "Saving…")
    data = bytes(pdf.output())
    atomic_write_bytes(dest, data)
    vault.audit.append(
        "export", record_type="observation", profile_id=profile_id, detail="visit summary"
    )
    return SummaryInfo(pages=pdf.page_no(), results=len(latest), flagged=len(flagged), charts=drawn)
