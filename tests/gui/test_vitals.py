"""Vital signs in the app: quick entry -> stored by the core -> trends (both BP series) -> FHIR."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime

from ohvault.fhir.validate import validate_bundle
from tests.gui.conftest import run_op, wait_idle


def test_vitals_entry_to_trend_to_fhir(qtbot: Any, unlocked: Any, tmp_path: Path) -> None:
    from ohvault.gui.vitals_dialog import VitalsDialog

    window = unlocked
    pid = window.session.profile_id
    for systolic, diastolic, days in (("132", "86", 20), ("124", "81", 10), ("117", "77", 1)):
        dialog = window.add_vital("bp")
        assert isinstance(dialog, VitalsDialog) and dialog.isVisible()
        assert dialog.systolic.isVisible() and not dialog.value.isVisible()
        dialog.systolic.setText(systolic)
        dialog.diastolic.setText("190")  # implausible order: stays open with the reason
        dialog.accept()
        assert dialog.isVisible() and "diastolic" in dialog.error.text()
        dialog.diastolic.setText(diastolic)
        dialog.when.setDateTime(QDateTime.currentDateTime().addDays(-days))
        dialog.accept()
        assert not dialog.isVisible()
        wait_idle(qtbot, window)
    # Weight through the same dialog, in pounds.
    dialog = window.add_vital()
    dialog.kind.setCurrentIndex(dialog.kind.findData("weight"))
    dialog.value.setText("165")
    dialog.unit.setCurrentIndex(dialog.unit.findData("lb"))
    dialog.accept()
    wait_idle(qtbot, window)

    from ohvault import vitals

    stored = run_op(qtbot, window, lambda ctx: vitals.list_vitals(ctx.vault, pid))
    assert [o.display_value() for o in stored if o.loinc == "85354-9"] == [
        "132/86",
        "124/81",
        "117/77",
    ]
    assert [o.value_num for o in stored if o.loinc == "29463-7"] == [74.8]

    window.show_view("Dashboard")
    wait_idle(qtbot, window)
    if os.environ.get("OHVAULT_SCREENSHOTS"):
        window.resize(1220, 780)
        qtbot.wait(200)
        window.grab().save(str(Path(os.environ["OHVAULT_SCREENSHOTS"]) / "vitals-dashboard.png"))
    window.show_view("Results")
    wait_idle(qtbot, window)
    if os.environ.get("OHVAULT_SCREENSHOTS"):
        window.grab().save(str(Path(os.environ["OHVAULT_SCREENSHOTS"]) / "vitals-results.png"))
    window.show_view("Trends")
    wait_idle(qtbot, window)
    trends = window.view("Trends")
    trends.select("Blood pressure")
    assert [p.series.name for p in trends.plotted] == [
        "Systolic blood pressure",
        "Diastolic blood pressure",
    ]
    assert [len(p.dates) for p in trends.plotted] == [3, 3]
    assert trends.plotted[0].series.unit == "mmHg"  # what a person reads, not mm[Hg]

    # The visit summary lists the latest reading of each vital sign.
    import pdfplumber

    from ohvault.reports.summary import build_visit_summary

    pdf_path = tmp_path / "summary.pdf"
    run_op(qtbot, window, lambda ctx: build_visit_summary(ctx.vault, pid, pdf_path))
    with pdfplumber.open(pdf_path) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "Vital signs" in text and "117/77 mmHg" in text and "74.8 kg" in text
    if os.environ.get("OHVAULT_SCREENSHOTS"):
        out = Path(os.environ["OHVAULT_SCREENSHOTS"])
        window.resize(1220, 780)
        qtbot.wait(200)
        window.grab().save(str(out / "vitals-trend.png"))
        d = window.add_vital("bp")
        qtbot.wait(100)
        d.grab().save(str(out / "vitals-dialog.png"))
        d.reject()
        from PySide6.QtWidgets import QApplication

        from ohvault.gui import theme

        theme.apply(QApplication.instance(), "dark")  # type: ignore[arg-type]
        trends.redraw()
        qtbot.wait(200)
        window.grab().save(str(out / "vitals-trend-dark.png"))
        d = window.add_vital("weight")
        qtbot.wait(100)
        d.grab().save(str(out / "vitals-dialog-dark.png"))
        d.reject()
        theme.apply(QApplication.instance(), "light")  # type: ignore[arg-type]

    # FHIR export carries them as vital signs.
    window.session.bridge.answer = lambda title, text: True
    job = window.export_plain("fhir", tmp_path / "vitals.json")
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    data = json.loads((tmp_path / "vitals.json").read_text())
    validate_bundle(data)
    obs = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"]
    bp = [o for o in obs if o["code"]["coding"][0]["code"] == "85354-9"]
    assert len(bp) == 3 and all(o["category"][0]["coding"][0]["code"] == "vital-signs" for o in bp)
    assert {c["code"]["coding"][0]["code"] for o in bp for c in o["component"]} == {
        "8480-6",
        "8462-4",
    }
