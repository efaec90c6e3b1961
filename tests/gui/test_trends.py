"""Trends: chart one or several biomarkers, hover, export, date range, visit summary PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import populate, wait_idle


@pytest.fixture
def trends(qtbot: Any, unlocked: Any) -> Any:
    populate(qtbot, unlocked)
    unlocked.show_view("Trends")
    wait_idle(qtbot, unlocked)
    return unlocked.view("Trends")


def test_chart_several_biomarkers_with_bands_and_medication_markers(
    qtbot: Any, trends: Any
) -> None:
    assert trends.plotted, "opens with one biomarker charted"
    trends.select("LDL cholesterol", "Glucose")
    names = [p.series.name for p in trends.plotted]
    assert sorted(names) == ["Glucose", "LDL cholesterol"]
    ldl = next(p for p in trends.plotted if p.series.name == "LDL cholesterol")
    assert len(ldl.dates) == 7 and ldl.series.unit == "mg/dL"
    assert ldl.series.ref_high == 100.0
    ax = ldl.axes
    # The reference band, red out-of-range markers and the statin start line are drawn.
    assert any(type(p).__name__ == "Rectangle" or type(p).__name__ == "Polygon" for p in ax.patches)
    assert any(c.get_label() == "out of range" for c in ax.collections)
    texts = [t.get_text() for t in trends.figure.axes[0].texts]
    assert "Atorvastatin started" in texts and "Ibuprofen stopped" in texts
    # Date range: the last year only.
    trends.range.setCurrentIndex(trends.range.findText("Last year"))
    ldl = next(p for p in trends.plotted if p.series.name == "LDL cholesterol")
    assert 2 <= len(ldl.dates) < 7


def test_hover_shows_the_value_under_the_mouse(qtbot: Any, trends: Any) -> None:
    import matplotlib.dates as mdates
    from matplotlib.backend_bases import MouseEvent

    trends.select("LDL cholesterol")
    trends.canvas.draw()
    p = trends.plotted[0]
    x, y = p.axes.transData.transform((mdates.date2num(p.dates[2]), p.values[2]))
    event = MouseEvent("motion_notify_event", trends.canvas, x, y)
    trends.canvas.callbacks.process("motion_notify_event", event)
    assert p.dates[2].isoformat() in trends.hover_text
    assert f"{p.values[2]:g} mg/dL" in trends.hover_text
    away = MouseEvent("motion_notify_event", trends.canvas, x + 300, y + 300)
    trends.canvas.callbacks.process("motion_notify_event", away)
    assert trends.hover_text == ""


def test_export_chart_as_png_svg_pdf_and_refuse_the_rest(trends: Any, tmp_path: Path) -> None:
    from ohvault.errors import BadInput

    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        out = tmp_path / f"chart{suffix}"
        trends.export_chart(out)
        assert out.read_bytes().startswith(magic)
    with pytest.raises(BadInput):
        trends.export_chart(tmp_path / "chart.bmp")
    trends.select()
    with pytest.raises(BadInput):
        trends.export_chart(tmp_path / "chart.png")


@pytest.mark.slow
def test_visit_summary_pdf(qtbot: Any, trends: Any, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    out = tmp_path / "summary.pdf"
    job = trends.visit_summary(out)
    qtbot.waitUntil(lambda: job.finished, timeout=30_000)
    assert job.error is None
    info = job.result
    assert info.flagged >= 1 and info.charts == 6 and info.results == 10
    doc = pdfium.PdfDocument(out.read_bytes())
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "Visit summary" in text and "Alex Example" in text
    assert "Out of range" in text and "LDL cholesterol" in text
    assert "Atorvastatin" in text  # current medications
    assert len(doc) == info.pages >= 2


def test_visit_summary_can_be_cancelled_and_writes_nothing(
    qtbot: Any, trends: Any, tmp_path: Path
) -> None:
    out = tmp_path / "summary.pdf"
    job = trends.visit_summary(out)
    job.cancel()
    qtbot.waitUntil(lambda: job.finished, timeout=30_000)
    assert type(job.error).__name__ == "Cancelled"
    assert not out.exists()
