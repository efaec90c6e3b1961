"""Validating FHIR with fhir.resources, with error messages that carry no PHI.

pydantic's messages quote the offending input value (a name, a result), so we
report only the resource type, its position and the field path.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ohvault.errors import BadInput

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,40}$")


class FhirInvalid(BadInput):
    """A FHIR document that does not validate against the R4(B) models."""


def where(err: dict[str, Any]) -> str:
    # Field names and list positions only; anything else could be input text.
    parts = [str(p) for p in err.get("loc", ()) if isinstance(p, int) or _FIELD.match(str(p))]
    return ".".join(parts) or "(root)"


def validate_bundle(data: Any) -> None:
    """Raise FhirInvalid unless `data` is a valid FHIR Bundle (all resources included)."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirInvalid("The file is not a FHIR Bundle (resourceType must be 'Bundle').")
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first: dict[str, Any] = dict(errors[0]) if errors else {}
        where_ = where(first)
        kind = str(first.get("type", "invalid"))
        raise FhirInvalid(
            f"The FHIR Bundle does not validate: {len(errors)} problem(s); first at {where_} ({kind}).",
            hint="Nothing was imported.",
        ) from None
    except (ValueError, TypeError, KeyError):
        raise FhirInvalid(
            "The FHIR Bundle does not validate (malformed structure).",
            hint="Nothing was imported.",
        ) from None
