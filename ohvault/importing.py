"""Importing a parsed lab report into the vault, all or nothing.

One report becomes, in one transaction: the original PDF as an encrypted
Document, a DiagnosticReport, and its Observations. Before anything is written:
the same file (by SHA-256) is refused as already imported (checked from the
bytes alone, before any parsing, by `previous_import`); a patient name or
birth date on the report that does not match the profile stops the import
until the user confirms (importing somebody else's results is a real-world
failure); results that repeat an analyte, date and value already stored from
another file are flagged as duplicates and skipped unless asked for.

`prepare_report` is what every caller runs between parsing and review: taught
name mappings applied, repeats within the report dropped, a laboratory name that
is really the patient's name removed. A result that maps to no analyte is kept
as its own test (analyte = the printed name, no LOINC) when the user accepts it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from ohvault.changes import Change, changes
from ohvault.errors import BadInput, ConflictError
from ohvault.labs.parser import CONFIDENT as CONFIDENT  # one definition of "sure": the parser's
from ohvault.mappings import NameMapping, apply_mappings
from ohvault.model import DiagnosticReport, Document, Observation, Profile, Provenance

if TYPE_CHECKING:
    from ohvault.labs.catalog import Catalog
    from ohvault.labs.parser import ParsedReport, ParsedResult
    from ohvault.storage.repository import Repository
    from ohvault.vault import Vault


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
    reasons = person_mismatches(profile, report.patient_name, report.patient_birth_date)
    ours_sex = PROFILE_SEX_CODES.get(profile.sex or "")
    if report.patient_sex and ours_sex and report.patient_sex != ours_sex:
        reasons.append("the sex on the report differs from the profile's sex")
    return reasons


def person_mismatches(
    profile: Profile, name: str | None, birth_date: date | None, where: str = "on the report"
) -> list[str]:
    """Why a person named in an imported file may not be this profile's, or an empty list.

    One rule for lab reports and FHIR files alike."""
    reasons: list[str] = []
    if name:
        printed, ours = _name_tokens(name), _name_tokens(profile.name)
        # Order ("LAST, First"), case, accents and middle names may differ; the names may not.
        if printed and ours and not (printed <= ours or ours <= printed):
            reasons.append(f"the patient name {where} differs from the profile's name")
    if birth_date and profile.birth_date and birth_date != profile.birth_date:
        reasons.append(f"the birth date {where} differs from the profile's birth date")
    return reasons


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def previous_import(repo: Repository, profile_id: str, content: bytes) -> Document | None:
    """The document this very file was imported as before (by its hash), read before parsing."""
    return repo.find_document_by_hash(profile_id, file_sha256(content))


def check_not_imported(repo: Repository, profile_id: str, content: bytes) -> None:
    existing = previous_import(repo, profile_id, content)
    if existing is not None:
        raise AlreadyImported(existing.id)


# Words that make a page heading, not a laboratory's name ("DIAGNOSTIC REPORT").
_HEADING_WORDS = {
    "diagnostic", "report", "reports", "laboratory", "lab", "test", "tests", "result",
    "results", "final", "patient", "medical", "pathology", "investigation", "summary",
    "of", "the", "and", "cumulative", "page",
}  # fmt: skip


def lab_name_problem(lab: str | None, *person_names: str | None) -> str | None:
    """Why `lab` cannot be a laboratory's name (it is the patient's name or a heading), or None."""
    if not lab:
        return None
    tokens = _name_tokens(lab)
    if not tokens:
        return "the laboratory name has no letters"
    for name in person_names:
        if not name:
            continue
        person = _name_tokens(name)
        # "SMITH, JOHN" read as the lab is the patient whatever the order or case.
        if person and (tokens <= person or (len(person) >= 2 and person <= tokens)):
            return "that is the patient's name, not the laboratory's"
    if tokens <= _HEADING_WORDS:
        return "that is a page heading, not the laboratory's name"
    return None


def usable_lab_name(report: ParsedReport, profile: Profile | None) -> str | None:
    """The report's laboratory name unless it is the patient's name or a heading."""
    lab = report.lab_name
    if lab_name_problem(lab, report.patient_name, profile.name if profile else None):
        return None
    return lab


def _value_key(value: object) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{float(value):g}"
    return " ".join(str(value).split()).casefold()


def result_key(result: ParsedResult, report_date: date | None) -> tuple[str, str, str, str]:
    """One result per (analyte or printed name, value, unit, date) in a report."""
    name = (result.loinc or result.name or result.printed_name).casefold()
    unit = (result.unit_ucum or result.unit or "").casefold()
    when = result.date or report_date
    return name, _value_key(result.value), unit, when.isoformat() if when else ""


def dedupe_results(results: list[ParsedResult], report_date: date | None) -> list[ParsedResult]:
    """Repeats dropped (portal prints, dashboards listing a result per body system); the
    surest copy is kept, in the place the first copy appeared."""
    best: dict[tuple[str, str, str, str], int] = {}
    out: list[ParsedResult] = []
    for r in results:
        key = result_key(r, report_date)
        if key in best:
            i = best[key]
            if r.confidence > out[i].confidence:
                out[i] = r
            continue
        best[key] = len(out)
        out.append(r)
    return out


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


def prepare_report(
    report: ParsedReport,
    mappings: list[NameMapping],
    profile: Profile | None = None,
    catalog: Catalog | None = None,
) -> ParsedReport:
    """What review and import work on: lab name checked, taught names applied, repeats gone."""
    report = dataclasses.replace(report, lab_name=usable_lab_name(report, profile))
    if catalog is None and mappings:
        from ohvault.labs import load_catalog

        catalog = load_catalog()
    report = apply_mappings(report, mappings, catalog)
    return dataclasses.replace(
        report, results=dedupe_results(report.results, report.collection_date)
    )


def derived_flag(value: float | None, low: float | None, high: float | None) -> str | None:
    """H or L from the printed range when the report printed no flag of its own."""
    if value is None:
        return None
    if high is not None and value > high:
        return "H"
    if low is not None and value < low:
        return "L"
    return None


def is_sure(result: ParsedResult) -> bool:
    """Taken without asking: mapped to a test (catalog or taught) and read with confidence.

    The CLI imports exactly these; the review screen starts them ticked and shows every other
    result apart, for the person to decide.
    """
    return result.name is not None and result.confidence >= CONFIDENT


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
        # A result that maps to no analyte is its own test, named as printed.
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
        printed_name=result.printed_name,
        value_canonical=result.value_canonical if numeric and result.name else None,
        unit_canonical=result.unit_canonical if numeric and result.name else None,
    )


@changes(Change.OBSERVATION, Change.DIAGNOSTIC_REPORT, Change.DOCUMENT)
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
    lab_name: str | None = None,
) -> ImportOutcome:
    """Store the PDF, a DiagnosticReport and the accepted results in one transaction.

    `accepted` is what the user kept on the review screen (already prepared with
    `prepare_report`); without it, the report is prepared here (taught mappings
    applied), every confident result is taken and low-confidence ones are
    reported, not stored. `collection_date` fills in a date the report lacks;
    `lab_name` replaces the laboratory read from the report and may not be the
    patient's name.
    """
    repo = vault.repo
    profile = repo.profile(profile_id)
    sha = file_sha256(pdf_bytes)
    check_not_imported(repo, profile_id, pdf_bytes)
    reasons = identity_mismatches(profile, report)
    if reasons and not confirm_identity:
        raise IdentityMismatch(reasons)
    if lab_name is not None:
        lab_name = " ".join(lab_name.split()) or None
        problem = lab_name_problem(lab_name, report.patient_name, profile.name)
        if problem:
            raise BadInput(f"That laboratory name cannot be used: {problem}.")  # no PHI echoed
        report = dataclasses.replace(report, lab_name=lab_name)
    if collection_date is not None:
        report = dataclasses.replace(report, collection_date=collection_date)
    skipped: list[ParsedResult] = []
    if accepted is None:
        report = prepare_report(report, repo.name_mappings(), profile)
        accepted = [r for r in report.results if is_sure(r)]
        skipped = [r for r in report.results if not is_sure(r)]
    accepted = dedupe_results(accepted, report.collection_date)
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


@changes(Change.NAME_MAPPING)
def teach_mapping(
    vault: Vault,
    printed_name: str,
    *,
    analyte: str | None = None,
    own_test: bool = False,
    lab: str | None = None,
    catalog: Catalog | None = None,
) -> NameMapping:
    """Check and remember what a printed name means (CLI `mappings add`, the review's Map to…)."""
    from ohvault.mappings import build_mapping

    if catalog is None:
        from ohvault.labs import load_catalog

        catalog = load_catalog()
    mapping = build_mapping(catalog, printed_name, analyte=analyte, own_test=own_test, lab=lab)
    return vault.repo.add_name_mapping(mapping)
