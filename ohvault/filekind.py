"""Telling what a file is from its first bytes, so that an import given the wrong kind of
file says what the file is and which command takes it, instead of "damaged"."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from ohvault.errors import BadInput

HEAD_BYTES = 1024


class FileKind(StrEnum):
    BUNDLE = "an encrypted ohvault bundle (age format)"
    PDF = "a PDF document"
    FHIR_JSON = "a FHIR JSON file"
    BACKUP = "an ohvault backup"
    UNKNOWN = "unknown"


# Which command reads each kind, for the hint.
_COMMAND = {
    FileKind.BUNDLE: "ohvault import-bundle FILE",
    FileKind.PDF: "ohvault import-pdf FILE",
    FileKind.FHIR_JSON: "ohvault import-fhir FILE",
    FileKind.BACKUP: "ohvault restore FILE",
}


def kind_of(head: bytes) -> FileKind:
    from ohvault.bundles.age_format import VERSION_LINE, is_armored

    if head.startswith(VERSION_LINE) or is_armored(head):
        return FileKind.BUNDLE
    if head.startswith(b"%PDF-"):
        return FileKind.PDF
    if head.startswith(b"PK\x03\x04"):
        return FileKind.BACKUP
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{") and b'"resourceType"' in head:
        return FileKind.FHIR_JSON
    return FileKind.UNKNOWN


def read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        raise BadInput(f"{path.name} cannot be read.") from None


def expect_kind(path: Path, expected: FileKind, *, head: bytes | None = None) -> None:
    """Refuse a file that is plainly another kind than `expected`, naming the right command.
    Files of unknown kind pass: the reader for `expected` gives its own precise error."""
    found = kind_of(read_head(path) if head is None else head)
    if found in (expected, FileKind.UNKNOWN):
        return
    raise BadInput(
        f"{path.name} is {found.value}, not {expected.value}.",
        hint=f"Import it with `{_COMMAND[found]}`." if found in _COMMAND else None,
    )
