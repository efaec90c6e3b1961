"""Lab report PDFs -> biomarker results (no GUI, no vault dependencies)."""

from ohvault.labs.catalog import Analyte, Catalog, load_catalog
from ohvault.labs.errors import (
    CorruptPdf,
    LabParseError,
    NoTextLayer,
    NotAPdf,
    ParseCancelled,
    PdfPasswordIncorrect,
    PdfPasswordRequired,
    ReportTooLarge,
)

__all__ = [
    "Analyte",
    "Catalog",
    "CorruptPdf",
    "LabParseError",
    "NoTextLayer",
    "NotAPdf",
    "ParseCancelled",
    "PdfPasswordIncorrect",
    "PdfPasswordRequired",
    "ReportTooLarge",
    "load_catalog",
]
