"""Attaching any document (letters, imaging reports, discharge summaries; PDF or image).

The bytes go into the vault's encrypted blob table; the Document row says what the
file is (title, kind, date). One rule for the CLI and the GUI: what may be attached,
how its type is recognised (by content, not by the file name), and how the documents
list describes each file (the lab and report date of an imported lab report).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from ohvault.changes import Change, changes
from ohvault.errors import BadInput, ConflictError
from ohvault.model import Document, Provenance
from ohvault.storage.repository import Repository

# (stored value, what a person reads)
DOCUMENT_KINDS: tuple[tuple[str, str], ...] = (
    ("letter", "Letter"),
    ("imaging", "Imaging report"),
    ("discharge-summary", "Discharge summary"),
    ("lab-report", "Lab report"),
    ("prescription", "Prescription"),
    ("other", "Other"),
)
KIND_LABELS = dict(DOCUMENT_KINDS)
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024

# Recognised by their first bytes: a renamed file is what it is, not what its name says.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class AlreadyAttached(ConflictError):
    def __init__(self, document: Document) -> None:
        super().__init__("This file is already in the vault; nothing was added.")
        self.document = document


def media_type_of(content: bytes) -> str:
    """The media type read from the content; BadInput for anything but a PDF or an image."""
    for magic, media_type in _SIGNATURES:
        if content.startswith(magic):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    raise BadInput(
        "This file is not a PDF or an image (PNG, JPEG, GIF or WebP); nothing was added.",
        hint="Save or scan the document as a PDF, then attach that.",
    )


@changes(Change.DOCUMENT)
def attach_document(
    repo: Repository,
    profile_id: str,
    content: bytes,
    filename: str,
    *,
    title: str | None = None,
    kind: str = "other",
    document_date: date | None = None,
    description: str | None = None,
) -> Document:
    """Store `content` encrypted in the vault as a document of the profile; audited."""
    if not content:
        raise BadInput("The file is empty; nothing was added.")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise BadInput(
            f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; nothing was added.",
            hint="Scan at a lower resolution or split the document.",
        )
    check_details(kind, document_date)
    media_type = media_type_of(content)
    sha = hashlib.sha256(content).hexdigest()
    existing = repo.find_document_by_hash(profile_id, sha)
    if existing is not None:
        raise AlreadyAttached(existing)
    name = PurePath(filename).name or "document"
    doc = Document(
        profile_id=profile_id,
        provenance=Provenance.MANUAL,
        filename=name,
        media_type=media_type,
        sha256=sha,
        size=len(content),
        description=description,
        title=(title or "").strip() or PurePath(name).stem,
        kind=kind,
        document_date=document_date,
    )
    return repo.add_document(doc, content)


def check_details(kind: str | None, document_date: date | None) -> None:
    if kind is not None and kind not in KIND_LABELS:
        raise BadInput(f"The kind of document must be one of: {', '.join(KIND_LABELS)}.")
    if document_date is not None and document_date > date.today():
        raise BadInput("The document's date cannot be in the future.")


@changes(Change.DOCUMENT)
def edit_details(
    repo: Repository,
    profile_id: str,
    document_id: str,
    *,
    title: str | None,
    kind: str | None,
    document_date: date | None,
) -> Document:
    """Change what a document says about itself (title, kind, date); the bytes never change."""
    check_details(kind, document_date)
    doc = repo.get(Document, profile_id, document_id)
    doc.title = (title or "").strip() or None
    doc.kind = kind
    doc.document_date = document_date
    repo.update(doc)
    return doc


@dataclass(frozen=True)
class DocumentEntry:
    """One line of the documents list: the document and what its report says about it."""

    document: Document
    title: str
    kind: str  # what a person reads, e.g. "Lab report"
    date: date | None  # the document's own date, else its report's collection/report date
    lab: str | None


def document_entries(repo: Repository, profile_id: str) -> list[DocumentEntry]:
    """The profile's documents, newest first, each described for a person."""
    docs = repo.records(Document, profile_id, order="created_at DESC")
    reports = repo.document_reports(profile_id)
    out: list[DocumentEntry] = []
    for doc in docs:
        report = reports.get(doc.id)
        lab = report.lab if report else None
        report_date = (report.effective or report.issued) if report else None
        kind = doc.kind or ("lab-report" if report else "other")
        kind_label = KIND_LABELS.get(kind, kind.replace("-", " ").capitalize())
        title = doc.title or (f"{kind_label} — {lab}" if lab else doc.description or doc.filename)
        out.append(DocumentEntry(doc, title, kind_label, doc.document_date or report_date, lab))
    return out
