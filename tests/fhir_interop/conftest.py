"""FHIR files from other systems (synthetic people only) and a real vault to import them into."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import MakeVault
from ohvault.model import Profile
from ohvault.vault import Vault

DATA = Path(__file__).parent / "data"
SYNTHEA = sorted(DATA.glob("synthea_*.json"))
US_CORE = sorted((DATA / "us-core").glob("*.json"))


def us_core_bundle() -> dict[str, Any]:
    """The US Core example resources wrapped in a collection Bundle, as the README says."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": json.loads(p.read_text())} for p in US_CORE],
    }


def patient_of(path: Path) -> Profile:
    data = json.loads(path.read_text())
    p = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
    name = p["name"][0]
    return Profile(
        name=" ".join([*name.get("given", []), name["family"]]).strip(),
        birth_date=date.fromisoformat(p["birthDate"]),
    )


def write(tmp: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def vault(make_vault: MakeVault) -> Iterator[Vault]:
    v, _ = make_vault()
    yield v
