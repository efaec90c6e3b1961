"""Profiles: edit, rename and delete (typed confirmation, audited); the import uses sex and birth date."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fpdf import FPDF

from conftest import MakeVault
from ohvault.errors import BadInput, ExitCode
from ohvault.importing import IdentityMismatch, import_report, with_profile_sex
from ohvault.labs.parser import parse_pdf
from ohvault.model import Document, Note, Observation, Profile
from tests.vault.test_cli import cli  # noqa: F401 - the in-process CLI fixture


def test_edit_profile_changes_only_what_is_given(make_vault: MakeVault) -> None:
    vault, _ = make_vault(profile_name="Ada Example")
    pid = vault.repo.profiles()[0].id
    vault.repo.edit_profile(pid, birth_date=date(1990, 2, 3), sex="female")
    vault.repo.rename_profile(pid, "  Ada Q. Example ")
    stored = vault.repo.profile(pid)
    assert (stored.name, stored.birth_date, stored.sex) == (
        "Ada Q. Example",
        date(1990, 2, 3),
        "female",
    )
    vault.repo.edit_profile(pid, sex=None)
    assert vault.repo.profile(pid).birth_date == date(1990, 2, 3)
    assert vault.repo.profile(pid).sex is None
    actions = [e.action for e in vault.audit.entries() if e.record_type == "profile"]
    assert actions.count("update") == 3


def test_edit_profile_refuses_bad_values_and_keeps_the_profile(make_vault: MakeVault) -> None:
    vault, _ = make_vault(profile_name="Ada Example")
    other = vault.repo.add_profile(Profile(name="Child Example"))
    pid = vault.repo.profiles()[0].id
    with pytest.raises(BadInput, match="already has that name"):
        vault.repo.rename_profile(pid, "Child Example")
    with pytest.raises(BadInput, match="needs a name"):
        vault.repo.rename_profile(pid, "   ")
    with pytest.raises(BadInput, match="future"):
        vault.repo.edit_profile(pid, birth_date=date(date.today().year + 1, 1, 1))
    with pytest.raises(BadInput, match="Sex must be"):
        vault.repo.edit_profile(pid, sex="F")
    assert vault.repo.profile(pid).name == "Ada Example"
    assert vault.repo.profile(other.id).name == "Child Example"


def test_delete_profile_needs_the_typed_name_and_removes_everything(make_vault: MakeVault) -> None:
    vault, _ = make_vault(profile_name="Keep Me")
    keep = vault.repo.profiles()[0]
    gone = vault.repo.add_profile(Profile(name="Delete Me"))
    for pid in (keep.id, gone.id):
        vault.repo.add(Note(profile_id=pid, text="synthetic note"))
        vault.repo.add(
            Observation(profile_id=pid, analyte="Sodium", value_num=140, effective=date(2026, 1, 2))
        )
        content = b"%PDF-1.4 synthetic " + pid.encode()
        import hashlib

        vault.repo.add_document(
            Document(
                profile_id=pid,
                filename="a.pdf",
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
            ),
            content,
        )
    with pytest.raises(BadInput, match="does not match"):
        vault.repo.delete_profile(gone.id, confirm_name="delete me")
    assert vault.repo.counts(gone.id)["note"] == 1  # nothing deleted on a wrong name

    removed = vault.repo.delete_profile(gone.id, confirm_name="Delete Me")
    assert removed["note"] == 1 and removed["observation"] == 1 and removed["document"] == 1
    assert [p.name for p in vault.repo.profiles()] == ["Keep Me"]
    blobs = vault.db.execute("SELECT count(*) FROM document_blobs").fetchone()[0]
    assert blobs == 1  # only the kept profile's file
    assert vault.repo.counts(keep.id)["observation"] == 1
    entry = [
        e for e in vault.audit.entries() if e.action == "delete" and e.record_type == "profile"
    ]
    assert len(entry) == 1 and entry[0].record_id == gone.id and "note=1" in (entry[0].detail or "")
    assert vault.audit.verify().ok
    with pytest.raises(BadInput, match="only profile"):
        vault.repo.delete_profile(keep.id, confirm_name="Keep Me")


def test_cli_edit_and_delete_profile(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cli("init", "--profile", "Parent")
    cli("profiles", "add", "Child")
    code, out, _ = cli(
        "profiles",
        "edit",
        "Child",
        "--new-name",
        "Kid",
        "--birth-date",
        "2018-04-05",
        "--sex",
        "male",
        "--json",
    )
    assert code == 0 and json.loads(out)["name"] == "Kid"
    listed = {p["name"]: p for p in json.loads(cli("profiles", "list", "--json")[1])}
    assert listed["Kid"]["birth_date"] == "2018-04-05" and listed["Kid"]["sex"] == "male"
    assert cli("profiles", "edit", "Kid", "--birth-date", "none")[0] == 0
    assert json.loads(cli("profiles", "list", "--json")[1])[1]["birth_date"] is None
    assert cli("profiles", "edit", "Kid")[0] == ExitCode.BAD_INPUT  # nothing to change

    cli("notes", "add", "first tooth", "--profile", "Kid")
    assert cli("profiles", "delete", "Kid")[0] == ExitCode.BAD_INPUT  # no terminal, no --confirm
    assert cli("profiles", "delete", "Kid", "--confirm", "Parent")[0] == ExitCode.BAD_INPUT
    assert len(json.loads(cli("profiles", "list", "--json")[1])) == 2
    code, out, _ = cli("profiles", "delete", "Kid", "--confirm", "Kid", "--json")
    assert code == 0 and json.loads(out)["removed"]["note"] == 1
    assert [p["name"] for p in json.loads(cli("profiles", "list", "--json")[1])] == ["Parent"]


def _sexed_report(sex_line: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in (
        "Synthetic General Hospital Laboratory",
        f"Patient: Mira Synthetic    DOB: 1984-07-09    {sex_line}",
        "Collected: 2026-03-02 08:15    Reported: 2026-03-03",
    ):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for row in (
        ("Test", "Result", "Units", "Reference Range"),
        ("Hemoglobin", "13.0", "g/dL", "M: 13.5-17.5 F: 12.0-15.5"),
        ("Sodium", "141", "mmol/L", "135-145"),
    ):
        for width, text in zip((50, 25, 25, 80), row, strict=True):
            pdf.cell(width, 7, text)
        pdf.ln(7)
    return bytes(pdf.output())


def test_profile_sex_chooses_sex_specific_ranges(make_vault: MakeVault) -> None:
    vault, _ = make_vault(profile_name=None)
    profile = vault.repo.add_profile(
        Profile(name="Mira Synthetic", birth_date=date(1984, 7, 9), sex="female")
    )
    pdf = _sexed_report("")
    report = parse_pdf(pdf)
    hb = next(r for r in report.results if r.name == "Hemoglobin")
    assert report.patient_sex is None and (hb.ref_low, hb.ref_high) == (None, None)
    chosen = next(r for r in with_profile_sex(report, profile) if r.name == "Hemoglobin")
    assert (chosen.ref_low, chosen.ref_high) == (12.0, 15.5)

    import_report(vault, profile.id, pdf, "hb.pdf", report)
    stored = next(o for o in vault.repo.observations(profile.id) if o.analyte == "Hemoglobin")
    assert (stored.ref_low, stored.ref_high, stored.flag) == (12.0, 15.5, None)

    vault.repo.edit_profile(profile.id, sex="male")
    male = next(
        r
        for r in with_profile_sex(report, vault.repo.profile(profile.id))
        if r.name == "Hemoglobin"
    )
    assert (male.ref_low, male.ref_high) == (13.5, 17.5)


def test_a_printed_sex_that_differs_from_the_profile_stops_the_import(
    make_vault: MakeVault,
) -> None:
    vault, _ = make_vault(profile_name=None)
    profile = vault.repo.add_profile(
        Profile(name="Mira Synthetic", birth_date=date(1984, 7, 9), sex="female")
    )
    pdf = _sexed_report("Sex: Male")
    report = parse_pdf(pdf)
    assert report.patient_sex == "M"
    with pytest.raises(IdentityMismatch, match="sex on the report"):
        import_report(vault, profile.id, pdf, "hb.pdf", report)
    assert vault.repo.observations(profile.id) == []
    vault.repo.edit_profile(profile.id, sex=None)  # unknown sex: nothing to compare
    import_report(vault, vault.repo.profiles()[0].id, pdf, "hb.pdf", parse_pdf(pdf))
    assert vault.repo.observations(profile.id)
