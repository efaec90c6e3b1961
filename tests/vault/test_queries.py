"""Query semantics the GUI and CLI rely on."""

from __future__ import annotations

from datetime import date

from conftest import MakeVault
from ohvault.model import Observation, RecordType, new_id


def test_latest_value_per_analyte_ignores_deleted_and_other_profiles(make_vault: MakeVault) -> None:
    from ohvault.model import Profile

    vault, _ = make_vault()
    me = vault.repo.profiles()[0].id
    other = vault.repo.add_profile(Profile(name="Someone Else")).id

    def add(pid: str, analyte: str, loinc: str | None, value: float, day: int) -> Observation:
        return vault.repo.add(
            Observation(
                profile_id=pid,
                analyte=analyte,
                loinc=loinc,
                value_num=value,
                unit="mg/dL",
                effective=date(2026, 1, day),
            )
        )

    add(me, "Glucose", "2345-7", 90, 1)
    newest = add(me, "Glucose", "2345-7", 95, 3)
    add(me, "Glucose (fasting)", "2345-7", 91, 2)  # same LOINC, another printed name
    add(me, "Sodium", None, 140, 1)
    deleted = add(me, "Sodium", None, 150, 5)
    vault.repo.delete(RecordType.OBSERVATION, me, deleted.id)
    add(other, "Potassium", None, 4.1, 9)
    latest = {o.loinc or o.analyte: o for o in vault.repo.latest_observations(me)}
    assert set(latest) == {"2345-7", "Sodium"}
    assert latest["2345-7"].id == newest.id
    assert latest["Sodium"].value_num == 140
    assert [o.analyte for o in vault.repo.latest_observations(other)] == ["Potassium"]


def test_ids_are_time_ordered_uuid7() -> None:
    import uuid

    ids = [new_id() for _ in range(200)]
    assert len(set(ids)) == 200
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 7 for p in parsed)
    assert [i[:13] for i in ids] == sorted(
        i[:13] for i in ids
    )  # millisecond prefix never goes back
