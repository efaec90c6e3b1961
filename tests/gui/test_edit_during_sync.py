"""An edit started before a sync keeps what the sync brought (issue 13, silent loss 2).

The edit dialog and undo write only the fields the person changed; a field changed
elsewhere meanwhile stays, and the same field changed on both sides is refused as a
conflict rather than reverted. "Elsewhere" here is a write on the vault's own database
between opening the dialog and pressing Save, which is what a sync on the worker does.
"""

from __future__ import annotations

from typing import Any

from ohvault.model import MedicationStatement
from tests.gui.conftest import run_op, wait_idle


def _meds_table(qtbot: Any, window: Any, med: MedicationStatement) -> Any:
    run_op(qtbot, window, lambda ctx: ctx.vault.repo.add(med), writes=("medication",))
    window.show_view("Medications")
    wait_idle(qtbot, window)
    table = window.view("Medications").tables[0]
    qtbot.waitUntil(lambda: table.model.rowCount() == 1)
    table.table.selectRow(0)
    return table


def _sync_sets(qtbot: Any, window: Any, rid: str, field: str, value: str) -> None:
    def op(ctx: Any) -> None:
        ctx.vault.db.execute(f"UPDATE medications SET {field} = ? WHERE id = ?", (value, rid))  # noqa: S608

    run_op(qtbot, window, op)


def _row(qtbot: Any, window: Any, rid: str) -> tuple[str, str]:
    def op(ctx: Any) -> tuple[str, str]:
        row = ctx.vault.db.execute(
            "SELECT dosage, note FROM medications WHERE id = ?", (rid,)
        ).fetchone()
        return str(row[0]), str(row[1])

    result: tuple[str, str] = run_op(qtbot, window, op)
    return result


def test_edit_and_undo_keep_a_field_sync_changed_meanwhile(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    pid = window.session.profile_id
    med = MedicationStatement(profile_id=pid, name="Metformin", dosage="500 mg", note="old note")
    table = _meds_table(qtbot, window, med)
    dialog = table.edit_selected()
    dialog.inputs["dosage"].setText("1000 mg")
    _sync_sets(qtbot, window, med.id, "note", "note from the phone")
    dialog.accept()
    wait_idle(qtbot, window)
    assert _row(qtbot, window, med.id) == ("1000 mg", "note from the phone")
    window.named_actions["undo"].trigger()
    wait_idle(qtbot, window)
    assert _row(qtbot, window, med.id) == ("500 mg", "note from the phone")


def test_same_field_changed_by_sync_during_the_edit_is_a_conflict(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    pid = window.session.profile_id
    med = MedicationStatement(profile_id=pid, name="Metformin", dosage="500 mg", note="n")
    table = _meds_table(qtbot, window, med)
    dialog = table.edit_selected()
    dialog.inputs["dosage"].setText("1000 mg")
    _sync_sets(qtbot, window, med.id, "dosage", "750 mg")
    dialog.accept()
    wait_idle(qtbot, window)
    assert _row(qtbot, window, med.id) == ("750 mg", "n")
    errors = [m for m in window.session.bridge.history if m.level == "error"]
    assert errors and "Changed on another device while you were editing: dosage" in errors[-1].text
