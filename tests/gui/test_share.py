"""Patient side of issue 5: the share wizard writes a real bundle; plain export; FHIR review."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pyrage
from PySide6.QtCore import Qt

from ohvault.identity import fingerprint
from tests.bundles.conftest import unpack
from tests.gui.conftest import run_op, wait_idle


def _add_records(qtbot: Any, window: Any) -> None:
    from ohvault.model import MedicationStatement, Observation

    pid = window.session.profile_id

    def op(ctx: Any) -> None:
        repo = ctx.vault.repo
        for d, v in ((date(2023, 2, 1), 5.1), (date(2025, 3, 1), 6.4)):
            repo.add(
                Observation(
                    profile_id=pid, analyte="Glucose", loinc="2345-7", value_num=v,
                    unit="mmol/L", ref_low=3.9, ref_high=5.6, effective=d,
                )
            )  # fmt: skip
        repo.add(MedicationStatement(profile_id=pid, name="Metformin", start=date(2024, 1, 1)))

    run_op(qtbot, window, op, ("observation", "medication"))


def test_share_wizard_validates_summarises_and_writes_an_audited_bundle(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    window = unlocked
    _add_records(qtbot, window)
    identity = pyrage.x25519.Identity.generate()
    key = str(identity.to_public())
    wizard = window.share()
    assert wizard.page == 0
    wizard.type_boxes["medication"].setChecked(False)
    wizard.use_since.setChecked(True)
    wizard.since.setDate(date(2024, 1, 1))
    wizard.next()
    assert wizard.page == 1 and not wizard.next_button.isEnabled()  # no recipient yet
    wizard.keys.setPlainText("age1notakey")
    assert "not an age public key" in wizard.error.text()
    assert not wizard.next_button.isEnabled()
    wizard.keys.setPlainText(f"{key}\n")
    assert wizard.next_button.isEnabled() and wizard.error.text() == ""
    assert fingerprint(key) in wizard.key_prints.text()
    # A passphrase must be repeated; the strength meter follows it.
    wizard.by_pass.setChecked(True)
    wizard.pass1.setText("short")
    assert not wizard.next_button.isEnabled() and wizard.meter.score == 0
    wizard.pass1.setText("copper lantern meadow violin")
    wizard.pass2.setText("copper lantern meadow violin!")
    assert "differ" in wizard.error.text()
    wizard.by_key.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.page == 2, timeout=10_000)
    summary = wizard.summary_text.text()
    # Counts only (no values): one glucose result since 2024, no medications chosen.
    assert "<b>1</b> records" in summary and "2024-01-01" in summary
    assert fingerprint(key) in summary and "6.4" not in summary and "Metformin" not in summary

    out = tmp_path / "share.ohvbundle"
    wizard.out_path = out
    wizard.next()
    qtbot.waitUntil(lambda: wizard.page == 4, timeout=20_000)
    assert out.exists() and wizard.info.counts["observation"] == 1
    entries = unpack(out, str(identity))
    manifest = json.loads(entries["manifest.json"])
    assert manifest["counts"]["observation"] == 1 and "medication" not in manifest["counts"]
    pid = window.session.profile_id
    audited = run_op(qtbot, window, lambda ctx: ctx.vault.audit.entries(action="export.bundle"))
    assert len(audited) == 1 and audited[0].profile_id == pid
    wizard.next()  # Close
    assert not wizard.isVisible()

    # Plain export needs the explicit "write unencrypted" answer.
    asked: list[str] = []
    window.session.bridge.answer = lambda title, text: asked.append(text) is None and False
    assert window.export_plain("csv", tmp_path / "no.csv") is None
    assert not (tmp_path / "no.csv").exists() and "UNENCRYPTED" in asked[0]
    window.session.bridge.answer = lambda title, text: True
    for fmt, name in (("csv", "all.csv"), ("fhir", "all.json")):
        job = window.export_plain(fmt, tmp_path / name)
        qtbot.waitUntil(lambda job=job: job.finished, timeout=10_000)
    with (tmp_path / "all.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["type"] for r in rows) == ["medication", "observation", "observation"]

    # FHIR import review: into a second profile, reject one row, commit the rest.
    window.session.add_profile("Robin Sample")
    wait_idle(qtbot, window)
    view = window.view("Import")
    window.show_view("Import")
    view.add_fhir(tmp_path / "all.json")
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.review, timeout=10_000)
    assert view.table.model() is view.fhir_model and view.right.currentWidget() is view.details
    names = [view.fhir_model.record(r).TYPE.value for r in range(view.fhir_model.rowCount())]
    assert sorted(names) == ["medication", "observation", "observation"]
    assert "Glucose" in view.details.text() or "Metformin" in view.details.text()
    med_row = names.index("medication")
    view.fhir_model.setData(
        view.fhir_model.index(med_row, 0),
        Qt.CheckState.Unchecked.value,
        Qt.ItemDataRole.CheckStateRole,
    )
    assert view.commit_button.text() == "Import 2 records"
    view.commit_button.click()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.idle, timeout=10_000)
    wait_idle(qtbot, window)
    robin = window.session.profile_id
    assert robin != pid
    counts = run_op(qtbot, window, lambda ctx: ctx.vault.repo.counts(robin))
    assert counts["observation"] == 2 and counts.get("medication", 0) == 0
