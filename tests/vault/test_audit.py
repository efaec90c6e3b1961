"""The audit chain records PHI access and detects edits, deletions, reordering and truncation."""

from __future__ import annotations

from datetime import date

from conftest import MakeVault
from ohvault.model import Observation, RecordType


def _add(vault, value: float = 5.0) -> Observation:  # type: ignore[no-untyped-def]
    profile = vault.repo.profiles()[0]
    return vault.repo.add(
        Observation(
            profile_id=profile.id,
            analyte="Glucose",
            value_num=value,
            unit="mmol/L",
            effective=date(2026, 3, 1),
            note="CANARY-note",
        )
    )


def test_reads_and_writes_are_audited_without_values(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    obs = _add(vault, 7.77)
    vault.repo.observations(obs.profile_id)
    vault.repo.get(Observation, obs.profile_id, obs.id)
    vault.repo.delete(RecordType.OBSERVATION, obs.profile_id, obs.id)
    actions = [(e.action, e.record_type) for e in reversed(vault.audit.entries())]
    assert ("create", "observation") in actions
    assert ("list", "observation") in actions
    assert ("read", "observation") in actions
    assert ("delete", "observation") in actions
    assert actions[0] == ("vault.create", None)
    dump = repr(vault.audit.entries())
    assert "7.77" not in dump and "CANARY" not in dump and "Test Person" not in dump
    assert vault.audit.verify().ok


def test_verify_detects_edit(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    _add(vault)
    vault.db.execute("UPDATE audit_log SET action = 'read' WHERE seq = 2")
    report = vault.audit.verify()
    assert not report.ok and report.first_bad_seq == 2


def test_verify_detects_deleted_entry(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    _add(vault)
    vault.db.execute("DELETE FROM audit_log WHERE seq = 2")
    report = vault.audit.verify()
    assert not report.ok and "missing" in report.reason


def test_verify_detects_reordering(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    _add(vault)
    rows = vault.db.execute("SELECT seq, action FROM audit_log WHERE seq IN (2, 3)").fetchall()
    vault.db.execute("UPDATE audit_log SET action = ? WHERE seq = 2", (rows[1][1],))
    vault.db.execute("UPDATE audit_log SET action = ? WHERE seq = 3", (rows[0][1],))
    assert rows[0][1] != rows[1][1]
    assert not vault.audit.verify().ok


def test_verify_detects_removed_tail(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    _add(vault)
    last = vault.db.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    vault.db.execute("DELETE FROM audit_log WHERE seq = ?", (last,))
    report = vault.audit.verify()
    assert not report.ok and "end" in report.reason


def test_break_survives_key_rotation(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    _add(vault)
    vault.db.execute("UPDATE audit_log SET detail = 'forged' WHERE seq = 2")
    vault.rotate_key()
    report = vault.audit.verify()
    assert not report.ok and report.first_bad_seq == 2
