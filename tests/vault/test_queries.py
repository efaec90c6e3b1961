"""Query semantics the GUI and CLI rely on."""

from __future__ import annotations

from datetime import date

import pytest
import sqlcipher3

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


def test_a_bulk_insert_spanning_batches_stores_every_row_in_order_or_none(
    make_vault: MakeVault,
) -> None:
    from ohvault.storage.repository import INSERT_BATCH

    vault, _ = make_vault()
    me = vault.repo.profiles()[0].id
    n = INSERT_BATCH * 2 + 7
    rows = [
        Observation(
            profile_id=me, analyte="Glucose", value_num=float(i), effective=date(2026, 1, 1)
        )
        for i in range(n)
    ]
    audit_before = len(vault.audit.entries())
    vault.repo.add_many(rows)
    stored = vault.db.execute("SELECT id, value_num FROM observations ORDER BY rowid").fetchall()
    assert [(r.id, r.value_num) for r in rows] == [(i, v) for i, v in stored]
    assert len(vault.audit.entries()) == audit_before + 1, "one audit entry for the whole import"
    # A bad row in the last batch undoes the batches before it: all or nothing.
    again = [
        Observation(profile_id=me, analyte="Sodium", value_num=140.0, effective=date(2026, 1, 2))
        for _ in range(INSERT_BATCH + 1)
    ]
    again[-1].id = rows[0].id  # already stored: the primary key refuses it
    with pytest.raises(sqlcipher3.IntegrityError):
        vault.repo.add_many(again)
    count = vault.db.execute("SELECT count(*) FROM observations").fetchone()[0]
    assert count == n
