"""FHIR R4 in and out: records ↔ a FHIR `Bundle` (type collection), validated with fhir.resources.

Export: `mapping.to_bundle`. Import: `reading.read_bundle` (files from other systems,
resource by resource, meaning kept) and `reading.from_bundle` (our signed bundles).

fhir.resources 8 ships the R4B (4.3.0) models; R4B changed none of the resources we
write (Patient, Observation, DiagnosticReport, DocumentReference,
MedicationStatement, Condition, AllergyIntolerance, Immunization) in ways that
affect R4 readers, so what validates here is valid R4 for these resources.
"""

from ohvault.fhir.mapping import (
    FhirContent,
    from_bundle,
    read_bundle,
    to_bundle,
)
from ohvault.fhir.validate import FhirInvalid, validate_bundle

__all__ = [
    "FhirContent",
    "FhirInvalid",
    "from_bundle",
    "read_bundle",
    "to_bundle",
    "validate_bundle",
]
