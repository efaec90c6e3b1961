"""Code systems and code lists that FHIR import and export share (no vault, no records)."""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
SHA256_SYSTEM = "urn:ohvault:sha256"

VITAL_SIGNS = "vital-signs"
LABORATORY = "laboratory"

# Codes that state an absence ("no known allergies") rather than name a substance,
# drug or problem: (system, code) -> what the vault keeps (the statement), by record kind.
NO_KNOWN: dict[tuple[str, str], tuple[str, str]] = {
    (IPS_ABSENT, "no-known-allergies"): ("allergy", "No known allergies"),
    (IPS_ABSENT, "no-known-medication-allergies"): ("allergy", "No known medication allergies"),
    (IPS_ABSENT, "no-known-environmental-allergies"): (
        "allergy",
        "No known environmental allergies",
    ),
    (IPS_ABSENT, "no-known-food-allergies"): ("allergy", "No known food allergies"),
    (IPS_ABSENT, "no-known-medications"): ("medication", "No known medications"),
    (IPS_ABSENT, "no-known-problems"): ("condition", "No known problems"),
    (SNOMED, "716186003"): ("allergy", "No known allergies"),
    (SNOMED, "409137002"): ("allergy", "No known drug allergies"),
    (SNOMED, "429625007"): ("allergy", "No known food allergies"),
    (SNOMED, "428607008"): ("allergy", "No known environmental allergies"),
    (SNOMED, "428197003"): ("allergy", "No known insect allergies"),
    (SNOMED, "160245001"): ("condition", "No known problems"),
}
# Codes that say the information is missing: neither a record nor a "no known" statement.
NO_INFO: set[tuple[str, str]] = {
    (IPS_ABSENT, "no-allergy-info"),
    (IPS_ABSENT, "no-medication-info"),
    (IPS_ABSENT, "no-problem-info"),
    (IPS_ABSENT, "no-immunization-info"),
    (IPS_ABSENT, "no-procedure-info"),
    (IPS_ABSENT, "no-known-immunizations"),
    (IPS_ABSENT, "no-known-procedures"),
}


def codings_of(concept: Any) -> list[dict[str, str]]:
    """Every coding of a CodeableConcept, as plain {system, code, display} dicts."""
    out: list[dict[str, str]] = []
    if not isinstance(concept, dict):
        return out
    for coding in concept.get("coding") or []:
        if not isinstance(coding, dict) or not coding.get("code"):
            continue
        item = {k: str(coding[k]) for k in ("system", "code", "display") if coding.get(k)}
        if item not in out:
            out.append(item)
    return out


def code_in(codings: list[dict[str, str]], *systems: str) -> str | None:
    for c in codings:
        if c.get("system") in systems and c.get("code"):
            return c["code"]
    return None


def no_known(codings: list[dict[str, str]], kind: str) -> str | None:
    """The statement ("No known food allergies") when a coding states an absence for `kind`."""
    for c in codings:
        hit = NO_KNOWN.get((c.get("system", ""), c.get("code", "")))
        if hit and hit[0] == kind:
            return hit[1]
    return None


def no_info(codings: list[dict[str, str]]) -> bool:
    return any((c.get("system", ""), c.get("code", "")) in NO_INFO for c in codings)


def loinc_display(code: str, fallback: str) -> str:
    """The display to export with a LOINC code: LOINC's long name from the shipped subset
    (resources/loinc), else the record's analyte name."""
    from ohvault.labs.loinc import loinc_display as long_name

    return long_name(code) or fallback


def ucum_code(unit: str | None) -> str | None:
    """The UCUM code for a stored unit, or None when it is not one (then export the text only)."""
    if not unit:
        return None
    from ohvault.labs.units import normalise_unit  # the one table of unit spellings

    try:
        return normalise_unit(unit)
    except Exception:
        return None
