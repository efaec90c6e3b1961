"""Taught name mappings, unmapped results kept as their own tests, repeats, lab names, re-imports.

Reports with unmapped rows are built as ParsedReport objects directly where the
parser does not (yet) return such rows; the PDFs themselves are real files.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import MakeVault
from ohvault.cli.main import main
from ohvault.errors import BadInput, RecordNotFound
from ohvault.importing import (
    AlreadyImported,
    dedupe_results,
    import_report,
    lab_name_problem,
    prepare_report,
    previous_import,
    teach_mapping,
)
from ohvault.labs import load_catalog
from ohvault.labs.parser import ParsedReport, ParsedResult, parse_pdf
from ohvault.mappings import build_mapping, lookup
from ohvault.model import DiagnosticReport, Observation, Profile
from tests.test_importing import small_report


def result(
    printed: str,
    value: float | str,
    unit: str | None,
    *,
    name: str | None = None,
    loinc: str | None = None,
    confidence: float = 0.5,
    when: date | None = None,
) -> ParsedResult:
    numeric = isinstance(value, float)
    return ParsedResult(
        name=name,
        printed_name=printed,
        loinc=loinc,
        value=value,
        value_num=value if numeric else None,  # type: ignore[arg-type]
        comparator=None,
        unit=unit,
        unit_ucum=unit,
        value_canonical=None,
        unit_canonical=None,
        ref_low=None,
        ref_high=None,
        ref_text=None,
        flag=None,
        date=when,
        page=1,
        bbox=(10.0, 10.0, 100.0, 20.0),
        confidence=confidence,
        category=None,
    )


def report_with(
    results: list[ParsedResult],
    *,
    lab: str | None = "Synthetic Reference Lab",
    collected: date | None = date(2026, 3, 2),
    patient: str | None = "Mira Synthetic",
) -> ParsedReport:
    return ParsedReport(
        collection_date=collected,
        reported_date=None,
        received_date=None,
        lab_name=lab,
        patient_name=patient,
        patient_birth_date=None,
        results=results,
        unmatched=[],
        pages=1,
        sha256="",
    )


UNMAPPED = [
    result("Glucose", 92.0, "mg/dL", name="Glucose", loinc="2345-7", confidence=0.95),
    result("Lp-PLA2 Activity", 180.0, "nmol/min/mL"),
    result("Blood sugar fasting (enzymatic)", 5.1, "mmol/L"),
]


@pytest.fixture
def profile_vault(make_vault: MakeVault):  # type: ignore[no-untyped-def]
    vault, _ = make_vault(profile_name=None)
    profile = vault.repo.add_profile(Profile(name="Mira Synthetic", birth_date=date(1984, 7, 9)))
    return vault, profile


def _pdf(glucose: str) -> bytes:
    return small_report("Mira Synthetic", "1984-07-09", glucose)


def test_unmapped_result_accepted_is_its_own_test_with_its_printed_name(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, profile = profile_vault
    report = report_with(list(UNMAPPED))
    prepared = prepare_report(report, [], profile)
    outcome = import_report(
        vault, profile.id, _pdf("92"), "r.pdf", prepared, accepted=prepared.results[:2]
    )
    stored = {o.analyte: o for o in vault.repo.observations(profile.id)}
    assert len(outcome.imported) == 2
    own = stored["Lp-PLA2 Activity"]
    assert own.loinc is None and own.value_num == 180.0 and own.unit == "nmol/min/mL"
    assert own.printed_name == "Lp-PLA2 Activity" and own.value_canonical is None
    assert stored["Glucose"].printed_name == "Glucose"


def test_taught_mapping_applies_on_the_next_import_with_full_confidence(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, profile = profile_vault
    catalog = load_catalog()
    mapping = teach_mapping(vault, "blood sugar  FASTING (enzymatic)", analyte="2345-7")
    assert mapping.analyte == "Glucose" and mapping.loinc == "2345-7"
    own = teach_mapping(
        vault, "Lp-PLA2 activity", own_test=True, lab="Synthetic Reference Lab", catalog=catalog
    )
    mappings = vault.repo.name_mappings()
    assert {m.id for m in mappings} == {mapping.id, own.id}

    # Without a review (the CLI path) the taught rows are now confident and imported.
    report = report_with(list(UNMAPPED), collected=date(2026, 4, 1))
    import_report(vault, profile.id, _pdf("93"), "r.pdf", report)
    stored = vault.repo.observations(profile.id)
    glucose = [o for o in stored if o.analyte == "Glucose"]
    assert sorted(o.value_num for o in glucose if o.value_num is not None) == [5.1, 92.0]
    taught = next(o for o in glucose if o.printed_name == "Blood sugar fasting (enzymatic)")
    # the code follows the unit: the taught row is in mmol/L (molar glucose code)
    assert taught.loinc == "14749-6"
    assert {o.loinc for o in glucose if o is not taught} == {"2345-7"}
    # Canonical value computed from the mapped analyte's conversions (mmol/L -> mg/dL).
    assert taught.unit_canonical == "mg/dL" and taught.value_canonical == pytest.approx(91.9, 0.01)
    # An own test is named as taught, so every spelling of it shares one trend.
    assert any(o.analyte == "Lp-PLA2 activity" and o.loinc is None for o in stored)

    # The lab-specific mapping does not apply to another laboratory's report.
    other = prepare_report(report_with(list(UNMAPPED), lab="Another Lab"), mappings, profile)
    lp = next(r for r in other.results if r.printed_name == "Lp-PLA2 Activity")
    assert lp.name is None and lp.confidence < 0.8
    assert lookup(mappings, "BLOOD SUGAR fasting (enzymatic)", "Another Lab") is not None


def test_mapping_is_replaced_listed_deleted_and_audited(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, _ = profile_vault
    first = teach_mapping(vault, "Chol. total", analyte="Total cholesterol")
    second = teach_mapping(vault, "chol total", own_test=True)
    assert [m.id for m in vault.repo.name_mappings()] == [second.id]
    assert vault.repo.find_name_mapping("CHOL TOTAL", "any lab") is not None
    vault.repo.delete_name_mapping(second.id)
    assert vault.repo.name_mappings() == []
    with pytest.raises(RecordNotFound):
        vault.repo.delete_name_mapping(first.id)
    actions = [
        (e.action, e.record_type) for e in vault.audit.entries() if e.record_type == "name_mapping"
    ]
    assert ("create", "name_mapping") in actions and ("delete", "name_mapping") in actions


def test_bad_mappings_are_refused_clearly() -> None:
    catalog = load_catalog()
    with pytest.raises(BadInput, match="catalog"):
        build_mapping(catalog, "Frobnitz", analyte="no such test at all")
    with pytest.raises(BadInput):
        build_mapping(catalog, "Frobnitz", analyte="Glucose", own_test=True)
    with pytest.raises(BadInput):
        build_mapping(catalog, "  ", own_test=True)


def test_repeats_in_one_report_come_out_once() -> None:
    rows = [
        result("Glucose", 92.0, "mg/dL", name="Glucose", loinc="2345-7", confidence=0.85),
        result("GLUCOSE", 92.0, "mg/dL", name="Glucose", loinc="2345-7", confidence=0.95),
        result("Glucose", 92.0, "mg/dL", name="Glucose", loinc="2345-7", when=date(2025, 1, 1)),
        result("Lp-PLA2 Activity", 180.0, "nmol/min/mL"),
        result("LP-PLA2 activity", 180.0, "nmol/min/mL"),
    ]
    out = dedupe_results(rows, date(2026, 3, 2))
    assert len(out) == 3  # an earlier date is another result, not a repeat
    assert [r.date for r in out] == [None, date(2025, 1, 1), None]
    assert out[0].confidence == 0.95  # the surest copy is kept


def test_lab_name_is_never_the_patients_name_or_a_heading(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, profile = profile_vault
    assert lab_name_problem("SYNTHETIC, MIRA", "Mira Synthetic")
    assert lab_name_problem("DIAGNOSTIC REPORT")
    assert lab_name_problem("Synthetic Reference Lab", "Mira Synthetic") is None
    prepared = prepare_report(report_with(list(UNMAPPED), lab="MIRA SYNTHETIC"), [], profile)
    assert prepared.lab_name is None
    with pytest.raises(BadInput, match="patient"):
        import_report(
            vault, profile.id, _pdf("90"), "r.pdf", prepared, accepted=[], lab_name="Mira Synthetic"
        )
    outcome = import_report(
        vault,
        profile.id,
        _pdf("90"),
        "r.pdf",
        prepared,
        accepted=prepared.results[:1],
        lab_name="  Synthetic  Clinic ",
        collection_date=date(2026, 1, 5),
    )
    diag = vault.repo.get(DiagnosticReport, profile.id, outcome.report_id)
    assert diag.lab == "Synthetic Clinic" and diag.effective == date(2026, 1, 5)
    assert vault.repo.get(Observation, profile.id, outcome.imported[0]).performer == (
        "Synthetic Clinic"
    )


def test_a_file_imported_before_is_known_from_its_bytes(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, profile = profile_vault
    pdf = _pdf("101")
    assert previous_import(vault.repo, profile.id, pdf) is None
    outcome = import_report(vault, profile.id, pdf, "a.pdf", parse_pdf(pdf))
    found = previous_import(vault.repo, profile.id, pdf)
    assert found is not None and found.id == outcome.document_id
    with pytest.raises(AlreadyImported):
        import_report(vault, profile.id, pdf, "a.pdf", report_with([]))


def test_cli_mappings_round_trip_and_reimport_refused_before_parsing(
    profile_vault,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    vault, _ = profile_vault
    vault.lock()
    assert main(["mappings", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["mappings", "add", "Gluc. (fasting)", "--analyte", "Glucose", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["loinc"] == "2345-7" and not added["own_test"]
    assert main(["mappings", "add", "Lp-PLA2", "--own-test", "--lab", "Synthetic Lab"]) == 0
    assert "its own test" in capsys.readouterr().out
    assert main(["mappings", "add", "Frob", "--analyte", "no such test"]) == 2
    assert "catalog" in capsys.readouterr().err
    assert main(["mappings", "add", "Frob"]) == 2
    capsys.readouterr()
    assert main(["mappings", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Gluc. (fasting) → Glucose" in listing and "Lp-PLA2 at Synthetic Lab" in listing
    assert main(["mappings", "delete", added["id"]]) == 0
    capsys.readouterr()
    assert main(["mappings", "list", "--json"]) == 0
    assert [m["printed_name"] for m in json.loads(capsys.readouterr().out)] == ["Lp-PLA2"]
    assert main(["mappings", "delete", added["id"]]) != 0
    capsys.readouterr()

    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(_pdf("88"))
    assert main(["import-pdf", "--lab", "Mira Synthetic", str(pdf)]) == 2
    assert "patient" in capsys.readouterr().err
    assert main(["import-pdf", "--lab", "Synthetic Reference Lab", str(pdf)]) == 0
    out = capsys.readouterr().out
    assert "imported" in out and "left for review in the app" not in out

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file imported before must not be parsed again")

    monkeypatch.setattr("ohvault.labs.parser.parse_pdf", no_parsing)
    assert main(["import-pdf", "--json", str(pdf)]) == 2
    assert "imported before" in json.loads(capsys.readouterr().out)[0]["error"]


def test_canonical_value_is_stored_and_never_left_stale_by_an_edit(profile_vault) -> None:  # type: ignore[no-untyped-def]
    vault, profile = profile_vault
    pdf = small_report("Mira Synthetic", "1984-07-09", "108")
    import_report(vault, profile.id, pdf, "r.pdf", parse_pdf(pdf))
    glucose = next(o for o in vault.repo.observations(profile.id) if o.analyte == "Glucose")
    assert glucose.printed_name == "Glucose"
    assert glucose.value_canonical == 108.0 and glucose.unit_canonical == "mg/dL"
    glucose.value_num = 110.0
    vault.repo.update(glucose)
    stored = vault.repo.get(Observation, profile.id, glucose.id)
    assert stored.value_num == 110.0 and stored.value_canonical is None
