"""Errors raised by the lab report parser.

Every error is a :class:`LabParseError` with a human-readable message that can be shown to the
user as-is. Callers that only want "did it work" can catch :class:`LabParseError`.
"""

from __future__ import annotations

from ohvault.errors import BadInput, Cancelled


class LabParseError(BadInput):
    """Base class: the PDF could not be turned into lab results (bad input, exit code 2)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        return self.message


class NotAPdf(LabParseError):
    """The file is empty or is not a PDF at all (whatever its name says)."""


class CorruptPdf(LabParseError):
    """The file looks like a PDF but is truncated or damaged beyond reading."""


class PdfPasswordRequired(LabParseError):
    """The PDF is encrypted and no password was given."""


class PdfPasswordIncorrect(PdfPasswordRequired):
    """The PDF is encrypted and the given password does not open it."""


class NoTextLayer(LabParseError):
    """The PDF only contains images (a scan); text recognition (OCR) would be needed."""


class ReportTooLarge(LabParseError):
    """The PDF has more pages than the caller allowed (``max_pages``)."""


class ParseCancelled(LabParseError, Cancelled):
    """The caller's ``should_cancel()`` returned True; no partial result is returned."""


class CatalogError(Exception):
    """The biomarker catalog is missing or malformed (a packaging bug, not a user error)."""


class UnitConversionError(ValueError):
    """A value cannot be converted between the given units for this analyte."""
