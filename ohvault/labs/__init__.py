"""Lab report PDFs -> biomarker results (no GUI, no vault dependencies)."""

from ohvault.labs.catalog import Analyte, Catalog, load_catalog
from ohvault.labs.errors import (
    CorruptPdf,
    LabParseError,
    NotAPdf,
    NoTextLayer,
    ParseCancelled,
    PdfPasswordIncorrect,
    PdfPasswordRequired,
    ReportTooLarge,
)
from ohvault.labs.parser import ParsedReport, ParsedResult, UnmatchedRow, parse_pdf
from ohvault.labs.units import normalise_unit

__all__ = [
    "Analyte",
    "Catalog",
    "CorruptPdf",
    "LabParseError",
    "NoTextLayer",
    "NotAPdf",
    "ParseCancelled",
    "ParsedReport",
    "ParsedResult",
    "PdfPasswordIncorrect",
    "PdfPasswordRequired",
    "ReportTooLarge",
    "UnmatchedRow",
    "load_catalog",
    "normalise_unit",
    "parse_pdf",
]
