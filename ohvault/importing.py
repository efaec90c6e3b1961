"""Importing a parsed lab report into the vault, all or nothing.

One report becomes, in one transaction: the original PDF as an encrypted
Document, a DiagnosticReport, and its Observations. Before anything is written:
the same file (by SHA-256) is refused as already imported; a patient name or
birth date on the report that does not match the profile stops the import
until the user confirms (importing somebody else's results is a real-world
failure); results that repeat an analyte, date and value already stored from
another file are flagged as duplicates and skipped unless asked for.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ohvault.errors import BadInput, ConflictError
from ohvault.model import DiagnosticReport, Document, Observation, Profile, Provenance

if TYPE_CHECKING:
    from ohvault.labs.parser import ParsedReport, ParsedResult
    from ohvault.vault import Vault

CONFIDENT = 0.8


class IdentityMismatch(BadInput):
    """The report names someone other than the profile's person."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            "This report may belong to someone else: " + "; ".join(reasons) + ".",
            hint="Check the report. To import it anyway, confirm (--confirm-identity).",
        )
        self.reasons = reasons


class AlreadyImported(ConflictError):
    def __init__(self, document_id: str) -> None:
        super().__init__("This file was imported before; nothing was changed.")
        self.document_id = document_id


@dataclass
class ImportOutcome:
    report_id: str
    document_id: str
    imported: list[str] = field(default_factory=list)  # observation ids
    duplicates: list[ParsedResult] = field(default_factory=list)
    skipped_low_confidence: list[ParsedResult] = field(default_factory=list)


def _name_tokens(name: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in plain)
    return {t for t in cleaned.split() if len(t) > 1}


def identity_mismatches(profile: Profile, report: ParsedReport) -> list[str]:
    """Why the report may not be this profile's (PHI-free reasons), or an empty list."""
    reasons: list[str] = []
    if report.patient_name:
        printed, ours = _name_tokens(report.patient_name), _name_tokens(profile.name)
        # Order ("LAST, First"), case, accents and middle names may differ; the names may not.
        if printed and ours and not (printed <= ours or ours <= printed):
            reasons.append("the patient name on the report differs from the profile's name")
    if (
        report.patient_birth_date
        and profile.birth_date
        and report.patient_birth_date != profile.birth_date
    ):
        reasons.append("the birth date on the report differs from the profile's birth date")
    ours_sex = PROFILE_SEX_CODES.get(profile.sex or "")
    if report.patient_sex and ours_sex and report.patient_sex != ours_sex:
        reasons.append("the sex on the report differs from the profile's sex")
    return reasons


# A profile's sex (FHIR administrative gender) as the parser codes a printed sex.
PROFILE_SEX_CODES = {"female": "F", "male": "M"}


def _decimal_comma(text: str) -> bool:
    return bool(re.search(r"\d,\d", text)) and not re.search(r"\d\.\d", text)


def with_profile_sex(
    report: ParsedReport, profile: Profile, results: list[ParsedResult] | None = None
) -> list[ParsedResult]:
    """`results` (default: the report's) with sex-specific ranges chosen by the profile's sex.

    A report that prints "M: 13.5-17.5 F: 12.0-15.5" but not the patient's sex leaves
    the parser unable to choose; the profile knows. Ranges the parser already chose
    (from a printed sex or a single range) are kept as they are.
    """
    from dataclasses import replace

    from ohvault.labs.values import parse_range

    chosen = list(report.results if results is None else results)
    sex = report.patient_sex or PROFILE_SEX_CODES.get(profile.sex or "")
    if sex is None:
        return chosen
    out = []
    for r in chosen:
        if r.ref_text and r.ref_low is None and r.ref_high is None:
            ref = parse_range(r.ref_text, _decimal_comma(r.ref_text), sex)
            if ref is not None and (ref.low is not None or ref.high is not None):
                r = replace(r, ref_low=ref.low, ref_high=ref.high)
        out.append(r)
    return out


def derived_flag(value: float | None, low: float | None, high: float | None) -> str | None:
    """H or L from the printed range when the report printed no flag of its own."""
    if value is None:
        return None
    if high is not None and value > high:
        return "H"
    if low is not None and value < low:
        return "L"
    return None


def _numeric(result: ParsedResult) -> bool:
    return isinstance(result.value, float | int) and not isinstance(result.value, bool)


def result_flag(result: ParsedResult) -> str | None:
    """The flag the lab printed, else H/L from the printed range (never for censored values)."""
    value = float(result.value) if _numeric(result) else None
    return result.flag or derived_flag(value, result.ref_low, result.ref_high)


def to_observation(
    result: ParsedResult, profile_id: str, report: ParsedReport, report_id: str
) -> Observation:
    effective = result.date or report.collection_date
    if effective is None:
        raise BadInput(
            "The report does not say when the samples were collected.",
            hint="Give the date explicitly (--date YYYY-MM-DD).",
        )
    numeric = _numeric(result)
    return Observation(
        profile_id=profile_id,
        provenance=Provenance.LAB_PDF,
        analyte=result.name or result.printed_name,
        loinc=result.loinc,
        value_num=float(result.value) if numeric else result.value_num,
        value_text=None if numeric else str(result.value),
        unit=result.unit_ucum or result.unit,
        ref_low=result.ref_low,
        ref_high=result.ref_high,
        ref_text=result.ref_text,
        flag=result_flag(result),
        effective=effective,
        performer=report.lab_name,
        category=result.category,
        report_id=report_id,
    )


def import_report(
    vault: Vault,
    profile_id: str,
    pdf_bytes: bytes,
    filename: str,
    report: ParsedReport,
    *,
    accepted: list[ParsedResult] | None = None,
    confirm_identity: bool = False,
    include_duplicates: bool = False,
    collection_date: date | None = None,
) -> ImportOutcome:
    """Store the PDF, a DiagnosticReport and the accepted results in one transaction.

    `accepted` is what the user kept on the review screen; without it, every
    confident result is taken and low-confidence ones are reported, not stored.
    """
    repo = vault.repo
    profile = repo.profile(profile_id)
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    existing = repo.find_document_by_hash(profile_id, sha)
    if existing is not None:
        raise AlreadyImported(existing.id)
    reasons = identity_mismatches(profile, report)
    if reasons and not confirm_identity:
        raise IdentityMismatch(reasons)
    if collection_date is not None:
        from dataclasses import replace

        report = replace(report, collection_date=collection_date)
    skipped: list[ParsedResult] = []
    if accepted is None:
        accepted = [r for r in report.results if r.confidence >= CONFIDENT]
        skipped = [r for r in report.results if r.confidence < CONFIDENT]
    accepted = with_profile_sex(report, profile, accepted)

    document = Document(
        profile_id=profile_id,
        provenance=Provenance.LAB_PDF,
        filename=filename,
        media_type="application/pdf",
        sha256=sha,
        size=len(pdf_bytes),
        description="Lab report",
    )
    diagnostic = DiagnosticReport(
        profile_id=profile_id,
        provenance=Provenance.LAB_PDF,
        source_id=document.id,
        title=f"Lab report{' — ' + report.lab_name if report.lab_name else ''}",
        lab=report.lab_name,
        effective=report.collection_date,
        issued=report.reported_date,
        document_id=document.id,
    )
    outcome = ImportOutcome(
        report_id=diagnostic.id, document_id=document.id, skipped_low_confidence=skipped
    )
    observations: list[Observation] = []
    for result in accepted:
        obs = to_observation(result, profile_id, report, diagnostic.id)
        obs.source_id = document.id
        if not include_duplicates and repo.find_duplicate_observation(profile_id, obs) is not None:
            outcome.duplicates.append(result)
            continue
        observations.append(obs)
    with vault.db.transaction():
        repo.add_document(document, pdf_bytes)
        repo.add(diagnostic)
        repo.add_many(observations, action="import")
        vault.audit.append(
            "import.lab_pdf",
            record_type="diagnostic_report",
            record_id=diagnostic.id,
            profile_id=profile_id,
            detail=f"observations={len(observations)} duplicates={len(outcome.duplicates)} identity_confirmed={bool(reasons)}",
        )
    outcome.imported = [o.id for o in observations]
    return outcome
