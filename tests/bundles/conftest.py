"""Two real vaults (a patient's and a clinician's) and a synthetic person's records."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ohvault.model import (
    AllergyIntolerance,
    Condition,
    DiagnosticReport,
    Document,
    Immunization,
    MedicationStatement,
    Observation,
    Profile,
)
from ohvault.vault import Vault

# A fast scrypt work factor for tests only (age's default is 18).
TEST_LOG_N = 10


@dataclass
class Pair:
    patient: Vault
    clinician: Vault
    profile: Profile
    tmp: Path


def pdf_bytes(size: int, seed: int = 0) -> bytes:
    """Random bytes behind a PDF magic: documents are opaque to bundles."""
    return b"%PDF-1.4\n" + os.urandom(size - 9) if size > 9 else os.urandom(size)


def add_document(vault: Vault, profile_id: str, content: bytes, name: str) -> Document:
    doc = Document(
        profile_id=profile_id,
        filename=name,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        description="Synthetic lab report",
    )
    return vault.repo.add_document(doc, content)


def fill(vault: Vault, profile_id: str) -> dict[str, object]:
    """One of everything a bundle carries, for a synthetic person."""
    repo = vault.repo
    doc = add_document(vault, profile_id, pdf_bytes(300_000), "report-2024-03.pdf")
    report = repo.add(
        DiagnosticReport(
            profile_id=profile_id,
            title="Basic metabolic panel",
            lab="Synthetic Labs",
            effective=date(2024, 3, 1),
            issued=date(2024, 3, 2),
            document_id=doc.id,
        )
    )
    glucose = repo.add(
        Observation(
            profile_id=profile_id,
            analyte="Glucose",
            loinc="2345-7",
            value_num=5.4,
            unit="mmol/L",
            ref_low=3.9,
            ref_high=5.6,
            flag="N",
            effective=date(2024, 3, 1),
            performer="Synthetic Labs",
            category="chemistry",
            report_id=report.id,
        )
    )
    crp = repo.add(
        Observation(
            profile_id=profile_id,
            analyte="C reactive protein",
            loinc="1988-5",
            value_text="<0.5",
            unit="mg/L",
            ref_text="< 5",
            effective=date(2024, 3, 1),
            report_id=report.id,
            note="fasting",
        )
    )
    old = repo.add(
        Observation(
            profile_id=profile_id,
            analyte="Hemoglobin",
            loinc="718-7",
            value_num=141.0,
            unit="g/L",
            ref_low=120.0,
            ref_high=160.0,
            flag="N",
            effective=date(2021, 6, 15),
        )
    )
    repo.add(
        MedicationStatement(
            profile_id=profile_id,
            name="Metformin",
            dosage="500 mg twice daily",
            start=date(2023, 1, 1),
        )
    )
    repo.add(
        Condition(
            profile_id=profile_id, name="Type 2 diabetes", code="E11.9", onset=date(2022, 5, 1)
        )
    )
    repo.add(
        AllergyIntolerance(
            profile_id=profile_id, substance="Penicillin", reaction="Rash", criticality="low"
        )
    )
    repo.add(
        Immunization(
            profile_id=profile_id,
            vaccine="Influenza",
            occurrence=date(2023, 10, 1),
            lot_number="LOT-1",
        )
    )
    return {"doc": doc, "report": report, "glucose": glucose, "crp": crp, "old": old}


@pytest.fixture
def pair(make_vault: Callable[..., tuple[Vault, str]], tmp_path: Path) -> Pair:
    patient, _ = make_vault(home=tmp_path / "patient", profile_name="Alex Example")
    clinician, _ = make_vault(home=tmp_path / "clinician", kind="clinician", profile_name=None)
    profile = patient.repo.profiles()[0]
    return Pair(patient, clinician, profile, tmp_path)


def unpack(bundle: Path, age_identity: str) -> dict[str, bytes]:
    """The plaintext entries of a bundle, via pyrage and tarfile (an independent reader)."""
    import io
    import tarfile

    import pyrage

    plain = pyrage.decrypt(bundle.read_bytes(), [pyrage.x25519.Identity.from_str(age_identity)])
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name] = handle.read()
        return out


def repack(entries: list[tuple[str, bytes]], recipient: str, out: Path) -> Path:
    """Entries → a raw ustar archive (no path checks: tests forge bad ones) → age."""
    import io
    import tarfile

    import pyrage

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.write_bytes(pyrage.encrypt(buf.getvalue(), [pyrage.x25519.Recipient.from_str(recipient)]))
    return out
