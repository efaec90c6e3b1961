"""A synthetic person's records, for screenshots, tests and benchmarks. Nobody real."""

from __future__ import annotations

import random
from datetime import date, timedelta

from ohvault import analytes
from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Provenance,
)
from ohvault.vault import Vault

# name, unit, ref_low, ref_high, start, drift per visit, noise
ANALYTES = [
    ("Glucose", "mg/dL", 70.0, 99.0, 104.0, -1.2, 4.0),
    ("Hemoglobin A1c", "%", 4.0, 5.6, 6.1, -0.08, 0.1),
    ("LDL cholesterol", "mg/dL", 0.0, 100.0, 162.0, -9.0, 6.0),
    ("HDL cholesterol", "mg/dL", 40.0, 90.0, 44.0, 0.8, 2.0),
    ("Triglycerides", "mg/dL", 0.0, 150.0, 188.0, -6.0, 12.0),
    ("TSH", "mIU/L", 0.4, 4.0, 2.1, 0.0, 0.3),
    ("Hemoglobin", "g/dL", 13.5, 17.5, 14.6, 0.0, 0.4),
    ("Creatinine", "mg/dL", 0.7, 1.3, 0.95, 0.0, 0.06),
    ("ALT", "U/L", 7.0, 56.0, 38.0, 1.5, 5.0),
    ("Vitamin D (25-OH)", "ng/mL", 30.0, 100.0, 21.0, 2.0, 2.0),
]


def _flag(value: float, low: float, high: float) -> str:
    if value > high:
        return "H"
    if value < low and low > 0:
        return "L"
    return "N"


def _report_pdf(title: str, when: date, rows: list[tuple[str, str, str, str]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Example Laboratory Services", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.cell(0, 6, f"{title} - collected {when.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "Patient: Alex Example", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 10)
    for head, width in (("Test", 70), ("Result", 30), ("Unit", 30), ("Reference", 40)):
        pdf.cell(width, 7, head, border="B")
    pdf.ln()
    pdf.set_font("helvetica", "", 10)
    for name, value, unit, ref in rows:
        for text, width in ((name, 70), (value, 30), (unit, 30), (ref, 40)):
            pdf.cell(width, 7, text)
        pdf.ln()
    return bytes(pdf.output())


def populate(vault: Vault, profile_id: str, *, visits: int = 7, seed: int = 7) -> int:
    """Add two years of results, medications, conditions, allergies and immunizations."""
    import hashlib

    rng = random.Random(seed)  # noqa: S311 - synthetic demo values, not security
    today = date.today()
    first = today - timedelta(days=120 * (visits - 1) + 12)
    observations: list[Observation] = []
    last_rows: list[tuple[str, str, str, str]] = []
    for visit in range(visits):
        when = first + timedelta(days=120 * visit)
        for name, unit, low, high, start, drift, noise in ANALYTES:
            if name == "TSH" and visit % 2:
                continue  # not every test at every visit
            value = round(start + drift * visit + rng.uniform(-noise, noise), 2)
            analyte = analytes.find(name)
            observations.append(
                Observation(
                    profile_id=profile_id,
                    analyte=analyte.preferred_name if analyte else name,
                    loinc=analyte.loinc_for_unit(unit) if analyte else None,
                    category=analyte.category if analyte else None,
                    value_num=value,
                    unit=unit,
                    ref_low=low if low > 0 else None,
                    ref_high=high,
                    flag=_flag(value, low, high),
                    effective=when,
                    performer="Example Laboratory Services",
                    provenance=Provenance.LAB_PDF,
                )
            )
            if visit == visits - 1:
                last_rows.append((name, f"{value:g}", unit, f"{low:g} - {high:g}"))
    last = first + timedelta(days=120 * (visits - 1))
    report = DiagnosticReport(
        profile_id=profile_id,
        title="Annual check-up panel",
        lab="Example Laboratory Services",
        effective=last,
        provenance=Provenance.LAB_PDF,
    )
    for o in observations:
        if o.effective == last:
            o.report_id = report.id
    vault.repo.add_many(observations)
    content = _report_pdf("Annual check-up panel", last, last_rows)
    doc = Document(
        profile_id=profile_id,
        filename=f"lab-report-{last.isoformat()}.pdf",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        description="Annual check-up panel",
        provenance=Provenance.LAB_PDF,
    )
    vault.repo.add_document(doc, content)
    report.document_id = doc.id
    vault.repo.add(report)
    statin_start = first + timedelta(days=130)
    vault.repo.add(
        MedicationStatement(
            profile_id=profile_id,
            name="Atorvastatin",
            dosage="20 mg once daily",
            start=statin_start,
        )
    )
    vault.repo.add(
        MedicationStatement(
            profile_id=profile_id,
            name="Vitamin D3",
            dosage="2000 IU daily",
            start=first + timedelta(days=250),
        )
    )
    vault.repo.add(
        MedicationStatement(
            profile_id=profile_id,
            name="Ibuprofen",
            dosage="400 mg as needed",
            status="stopped",
            start=first + timedelta(days=20),
            end=first + timedelta(days=60),
        )
    )
    vault.repo.add(
        Condition(profile_id=profile_id, name="Hypercholesterolaemia", onset=first, code="E78.0")
    )
    vault.repo.add(
        Condition(
            profile_id=profile_id,
            name="Seasonal allergic rhinitis",
            onset=date(first.year - 10, 4, 1),
            code="J30.2",
        )
    )
    vault.repo.add(
        AllergyIntolerance(
            profile_id=profile_id,
            substance="Penicillin",
            reaction="Hives",
            criticality="high",
            recorded=date(first.year - 8, 6, 12),
        )
    )
    for vaccine, days_ago, lot in (
        ("Influenza (seasonal)", 60, "FL2291"),
        ("Tetanus, diphtheria (Td)", 900, "TD0412"),
        ("COVID-19 mRNA", 400, "CV7781"),
    ):
        vault.repo.add(
            Immunization(
                profile_id=profile_id,
                vaccine=vaccine,
                occurrence=today - timedelta(days=days_ago),
                lot_number=lot,
            )
        )
    return len(observations)
