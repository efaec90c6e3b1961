"""Vital signs: entry rules, BMI, blood pressure as one reading, trends and FHIR export."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from ohvault import vitals
from ohvault.bundles.export import plan_export
from ohvault.errors import BadInput
from ohvault.fhir import plain
from ohvault.fhir.validate import validate_bundle
from ohvault.reports.trends import trend_data
from ohvault.vault import Vault

TZ = timezone(timedelta(hours=2))


def test_entry_rules_bmi_and_listing(vault: Vault) -> None:
    pid = vault.repo.profiles()[0].id
    day = datetime(2024, 3, 1, 8, 30, tzinfo=TZ)
    [height] = vitals.add_vital(vault, pid, "height", value=70, unit="in", when=day)
    assert (height.value_num, height.unit) == (177.8, "cm")
    weight, bmi = vitals.add_vital(vault, pid, "weight", value=80, when=day)
    assert weight.value_num == 80.0 and weight.unit == "kg"
    assert bmi.loinc == "39156-5" and bmi.value_num == vitals.bmi(80, 177.8) == 25.3
    with pytest.raises(BadInput, match="outside what is plausible"):
        vitals.add_vital(vault, pid, "weight", value=8000, when=day)
    with pytest.raises(BadInput, match="diastolic pressure must be lower"):
        vitals.add_vital(vault, pid, "bp", systolic=80, diastolic=120, when=day)
    with pytest.raises(BadInput, match="Unknown vital sign"):
        vitals.add_vital(vault, pid, "mood", value=1, when=day)
    [bp] = vitals.add_vital(vault, pid, "bp", systolic=128, diastolic=84, when=day)
    vitals.add_vital(vault, pid, "bp", systolic=118, diastolic=76, when=day + timedelta(days=7))
    [temp] = vitals.add_vital(vault, pid, "temperature", value=98.6, unit="[degF]", when=day)
    assert temp.value_num == 37.0 and vitals.format_vital(temp) == "37 °C"
    assert vitals.format_vital(bp) == "128/84 mmHg"
    listed = vitals.list_vitals(vault, pid)
    assert len(listed) == 6 and all(o.category_code == "vital-signs" for o in listed)
    bps = vitals.list_vitals(vault, pid, "bp")
    assert [o.display_value() for o in bps] == ["128/84", "118/76"]
    assert bps[0].effective_at is not None and bps[0].effective_at.hour == 8

    # Trends: blood pressure is one entry that charts both series.
    data = trend_data(vault, pid)
    assert ("85354-9", "Blood pressure") in data.analytes
    members = data.members("85354-9")
    assert [s.name for s in members] == ["Systolic blood pressure", "Diastolic blood pressure"]
    assert [v for _, v in members[0].points] == [128.0, 118.0]
    assert [v for _, v in members[1].points] == [84.0, 76.0]

    # FHIR export: vital-signs category, LOINC codes, BP components, UCUM units; validates.
    out = json.loads(plain.fhir_json_bytes(vault, plan_export(vault, pid)))
    validate_bundle(out)
    obs = [e["resource"] for e in out["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert all(o["category"][0]["coding"][0]["code"] == "vital-signs" for o in obs)
    codes = {o["code"]["coding"][0]["code"] for o in obs}
    assert codes == {"8302-2", "29463-7", "39156-5", "85354-9", "8310-5"}
    bp_out = next(o for o in obs if o["code"]["coding"][0]["code"] == "85354-9")
    assert [c["valueQuantity"]["code"] for c in bp_out["component"]] == ["mm[Hg]", "mm[Hg]"]
    assert bp_out["effectiveDateTime"].startswith("2024-03-01T08:30:00")
    temp_out = next(o for o in obs if o["code"]["coding"][0]["code"] == "8310-5")
    assert temp_out["valueQuantity"]["code"] == "Cel"
    assert date.fromisoformat(bp_out["effectiveDateTime"][:10]) == date(2024, 3, 1)
