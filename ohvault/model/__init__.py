"""The domain model: plain dataclasses aligned with FHIR R4 resources."""

from ohvault.model.records import (
    RECORD_CLASSES,
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Note,
    Observation,
    Profile,
    Provenance,
    Record,
    RecordType,
    is_out_of_range,
    new_id,
    utcnow,
)

__all__ = [
    "RECORD_CLASSES",
    "AllergyIntolerance",
    "Condition",
    "DiagnosticReport",
    "Document",
    "Immunization",
    "MedicationStatement",
    "Note",
    "Observation",
    "Profile",
    "Provenance",
    "Record",
    "RecordType",
    "is_out_of_range",
    "new_id",
    "utcnow",
]
