"""Attaching any document: recognised by content, stored encrypted, described with its report."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from fpdf import FPDF

from conftest import MakeVault
from ohvault.documents import (
    AlreadyAttached,
    attach_document,
    document_entries,
    edit_details,
    media_type_of,
)
from ohvault.errors import BadInput, ExitCode
from ohvault.model import DiagnosticReport, Provenance
from tests.vault.test_cli import cli  # noqa: F401 - the in-process CLI fixture

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082"
)


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def test_media_type_comes_from_the_content() -> None:
    assert media_type_of(_pdf("letter")) == "application/pdf"
    assert media_type_of(PNG_1PX) == "image/png"
    assert media_type_of(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert media_type_of(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    with pytest.raises(BadInput, match="not a PDF or an image"):
        media_type_of(b"PK\x03\x04 a zip renamed to .pdf")


def test_attach_stores_encrypted_bytes_and_details(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    letter = _pdf("Discharge letter")
    doc = attach_document(
        vault.repo,
        pid,
        letter,
        "/some/where/discharge.pdf",
        title="Discharge letter",
        kind="discharge-summary",
        document_date=date(2025, 3, 4),
    )
    assert doc.filename == "discharge.pdf" and doc.provenance == Provenance.MANUAL
    assert vault.repo.document_content(pid, doc.id) == letter
    scan = attach_document(vault.repo, pid, PNG_1PX, "discharge.pdf", kind="imaging")
    assert scan.media_type == "image/png" and scan.title == "discharge"

    with pytest.raises(AlreadyAttached) as exc:
        attach_document(vault.repo, pid, letter, "again.pdf")
    assert exc.value.document.id == doc.id
    with pytest.raises(BadInput, match="empty"):
        attach_document(vault.repo, pid, b"", "x.pdf")
    with pytest.raises(BadInput, match="kind"):
        attach_document(vault.repo, pid, _pdf("y"), "y.pdf", kind="memo")
    with pytest.raises(BadInput, match="future"):
        attach_document(
            vault.repo, pid, _pdf("z"), "z.pdf", document_date=date.today() + timedelta(days=1)
        )
    assert vault.repo.counts(pid)["document"] == 2  # the refusals stored nothing


def test_entries_show_report_date_and_lab_and_edits_stick(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    content = _pdf("lab report")
    lab_doc = attach_document(vault.repo, pid, content, "scan0001.pdf", kind="lab-report")
    edit_details(vault.repo, pid, lab_doc.id, title=None, kind=None, document_date=None)
    vault.repo.add(
        DiagnosticReport(
            profile_id=pid,
            provenance=Provenance.LAB_PDF,
            title="Lab report",
            lab="Example Laboratory Services",
            effective=date(2025, 1, 9),
            document_id=lab_doc.id,
        )
    )
    [entry] = document_entries(vault.repo, pid)
    assert (entry.title, entry.kind, entry.date, entry.lab) == (
        "Lab report — Example Laboratory Services",
        "Lab report",
        date(2025, 1, 9),
        "Example Laboratory Services",
    )
    edit_details(
        vault.repo, pid, lab_doc.id, title="January bloods", kind="lab-report", document_date=None
    )
    [entry] = document_entries(vault.repo, pid)
    assert entry.title == "January bloods" and entry.date == date(2025, 1, 9)
    assert vault.repo.document_content(pid, lab_doc.id) == content  # the bytes never change


def test_cli_documents_add_and_list(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cli("init", "--profile", "Parent")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(_pdf("Letter from the clinic"))
    code, out, _ = cli(
        "documents",
        "add",
        str(letter),
        "--kind",
        "letter",
        "--date",
        "2025-02-03",
        "--title",
        "Clinic letter",
    )
    assert code == 0
    doc_id = out.strip()
    rows = json.loads(cli("documents", "list", "--json")[1])
    assert [(r["id"], r["title"], r["kind"], r["date"]) for r in rows] == [
        (doc_id, "Clinic letter", "Letter", "2025-02-03")
    ]
    assert cli("documents", "add", str(letter))[0] == ExitCode.CONFLICT
    junk = tmp_path / "notes.txt"
    junk.write_text("plain text")
    assert cli("documents", "add", str(junk))[0] == ExitCode.BAD_INPUT
    assert cli("documents", "add", str(tmp_path / "missing.pdf"))[0] == ExitCode.BAD_INPUT
    assert len(json.loads(cli("documents", "list", "--json")[1])) == 1
