"""What an operation reports it changed is what refreshes the screens (ohvault/changes.py).

A real window over a real vault: the op names no kinds at its call site, the core operation
it runs through `ctx.apply` reports them, and only the screens watching those kinds reload.
"""

from __future__ import annotations

from typing import Any

import pytest

from ohvault import vitals
from ohvault.changes import Change
from ohvault.errors import BadInput
from ohvault.model import MedicationStatement
from tests.gui.conftest import run_op, wait_idle


def test_the_changes_an_operation_reports_refresh_the_view_that_watches_them(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    executor = window.session.executor
    pid = window.session.profile_id
    window.show_view("Results")
    wait_idle(qtbot, window)
    results, medications = window.view("Results"), window.view("Medications")
    assert results.model.rowCount() == 0
    medications.stale = False  # as if it had been shown: it must stay so
    seen: list[frozenset[Change]] = []
    executor.changes.connect(seen.append)

    def op(ctx: Any) -> Any:
        return ctx.apply(vitals.add_vital, ctx.vault, pid, "heart_rate", value=61)

    with qtbot.waitSignal(executor.changes, timeout=15_000):
        job = executor.run(op, label="Saving the vital sign")  # no writes= at the call site
    assert seen == [frozenset({Change.OBSERVATION})]
    assert job.error is None
    # The visible Results screen reloads at once and shows the new reading ...
    qtbot.waitUntil(lambda: results.model.rowCount() == 1, timeout=15_000)
    # ... and a screen that does not watch observations is left alone.
    assert not medications.stale


def test_kinds_named_at_the_call_site_add_to_the_reported_ones(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    pid = window.session.profile_id
    medications = window.view("Medications")
    medications.stale = False
    seen: list[frozenset[Change]] = []
    window.session.executor.changes.connect(seen.append)
    med = MedicationStatement(profile_id=pid, name="Metformin", dosage="500 mg")
    run_op(qtbot, window, lambda ctx: ctx.vault.repo.add(med), writes=(Change.MEDICATION,))
    assert seen == [frozenset({Change.MEDICATION})]
    assert medications.stale


def test_an_undeclared_operation_never_runs_and_announces_nothing(
    qtbot: Any, unlocked: Any
) -> None:
    window = unlocked
    pid = window.session.profile_id
    ran: list[bool] = []
    seen: list[frozenset[Change]] = []
    window.session.executor.changes.connect(seen.append)

    def undeclared(vault: Any) -> None:
        ran.append(True)
        vault.repo.add(MedicationStatement(profile_id=pid, name="Metformin"))

    with pytest.raises(TypeError, match="does not declare what it changes"):
        run_op(qtbot, window, lambda ctx: ctx.apply(undeclared, ctx.vault))
    assert ran == [] and seen == []


def test_a_failed_operation_announces_nothing(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    pid = window.session.profile_id
    seen: list[frozenset[Change]] = []
    window.session.executor.changes.connect(seen.append)
    with pytest.raises(BadInput, match="outside what is plausible"):
        run_op(
            qtbot,
            window,
            lambda ctx: ctx.apply(vitals.add_vital, ctx.vault, pid, "heart_rate", value=9999),
            writes=(Change.NOTE,),
        )
    assert seen == []


def test_a_misspelt_kind_is_refused_when_the_job_is_queued(qtbot: Any, unlocked: Any) -> None:
    executor = unlocked.session.executor
    ran: list[bool] = []
    with pytest.raises(ValueError, match="observaton"):
        executor.run(lambda ctx: ran.append(True), writes={"observaton"})  # type: ignore[arg-type]
    wait_idle(qtbot, unlocked)
    assert ran == []
