"""FHIR review in the app: skipped resources listed with their reasons, statuses shown, identity asked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.fhir_interop.test_import import _statuses_bundle
from tests.gui.conftest import run_op, wait_idle


def test_review_lists_skipped_and_asks_about_identity(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    path = tmp_path / "statuses.json"
    path.write_text(json.dumps(_statuses_bundle()))
    view = window.view("Import")
    window.show_view("Import")
    view.add_fhir(path)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=10_000)
    wait_idle(qtbot, window)
    lines = [view.unmatched.item(i).text() for i in range(view.unmatched.count())]
    assert "Observation at entry[1]: entered in error" in lines
    assert "Immunization at entry[12]: entered in error" in lines
    assert view.unmatched_label.text().startswith("Skipped (4)")
    # The file names "Test Person"; the profile is Alex Example's.
    assert view.identity_banner.isVisible()
    shown = {
        view.fhir_model.data(view.fhir_model.index(r, 2)): view.fhir_model.data(
            view.fhir_model.index(r, 3)
        )
        for r in range(view.fhir_model.rowCount())
    }
    assert shown["Penicillin"] == "inactive, refuted"
    assert shown["Influenza"] == "not given: Patient objection"
    assert shown["No known food allergies"] == "statement"
    if os.environ.get("OHVAULT_SCREENSHOTS"):
        from PySide6.QtWidgets import QApplication

        from ohvault.gui import theme

        out = Path(os.environ["OHVAULT_SCREENSHOTS"])
        window.resize(1220, 780)
        qtbot.wait(200)
        window.grab().save(str(out / "fhir-review.png"))
        theme.apply(QApplication.instance(), "dark")  # type: ignore[arg-type]
        qtbot.wait(200)
        window.grab().save(str(out / "fhir-review-dark.png"))
        theme.apply(QApplication.instance(), "light")  # type: ignore[arg-type]
    asked: list[str] = []
    window.session.bridge.answer = lambda title, text: asked.append(text) is None
    view.commit_button.click()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=10_000)
    wait_idle(qtbot, window)
    assert asked and "does not match the profile" in asked[0]
    pid = window.session.profile_id
    counts = run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(pid))
    assert (counts["allergy"], counts["condition"], counts["immunization"]) == (3, 2, 1)
