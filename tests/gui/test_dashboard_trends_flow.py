"""Dashboard tiles open their trend; Trends says it is loading; tooltips stay on the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
from matplotlib.backend_bases import MouseEvent
from PySide6.QtCore import Qt

from ohvault.gui.views.trends import tip_placement
from tests.gui.conftest import populate, wait_idle


def test_clicking_a_tile_opens_that_analytes_trend(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Dashboard")
    wait_idle(qtbot, window)
    dashboard = window.view("Dashboard")
    tile = next(t for t in dashboard.tiles if "LDL" in t.accessibleName())
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert window.current_view.title == "Trends"
    trends = window.view("Trends")
    assert trends.checked_keys() == [tile.key]
    assert [p.series.name for p in trends.plotted] == ["LDL cholesterol"]

    # Back on the dashboard, the keyboard does the same for another tile (Trends is loaded now).
    window.show_view("Dashboard")
    other = next(t for t in dashboard.tiles if t.key != tile.key)
    other.setFocus()
    qtbot.keyClick(other, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert window.current_view is trends and trends.checked_keys() == [other.key]


def test_trends_shows_a_loading_state_until_the_data_arrives(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Trends")
    trends = window.view("Trends")
    # The load is queued on the worker: the chart area says so, the list waits.
    assert trends.chart_host.currentWidget() is trends.loading
    assert not trends.analytes.isEnabled()
    wait_idle(qtbot, window)
    assert trends.chart_host.currentWidget() is trends.canvas
    assert trends.analytes.isEnabled()


def test_tip_placement_points_towards_the_middle() -> None:
    assert tip_placement(0.1, 0.1) == ((12, 12), "left", "bottom")
    assert tip_placement(0.98, 0.2) == ((-12, 12), "right", "bottom")
    assert tip_placement(0.98, 0.95) == ((-12, -12), "right", "top")


def test_the_newest_points_tooltip_stays_inside_the_chart(qtbot: Any, unlocked: Any) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Trends")
    wait_idle(qtbot, window)
    trends = window.view("Trends")
    trends.select("LDL cholesterol")
    trends.canvas.draw()
    p = trends.plotted[0]
    newest = len(p.dates) - 1
    x, y = p.axes.transData.transform((mdates.date2num(p.dates[newest]), p.values[newest]))
    trends.canvas.callbacks.process(
        "motion_notify_event", MouseEvent("motion_notify_event", trends.canvas, x, y)
    )
    assert p.dates[newest].isoformat() in trends.hover_text
    trends.canvas.draw()
    renderer = trends.canvas.get_renderer()
    tip = trends.annotation.get_window_extent(renderer)
    chart = trends.figure.bbox
    assert chart.x0 <= tip.x0 and tip.x1 <= chart.x1 and chart.y0 <= tip.y0 and tip.y1 <= chart.y1


def test_visit_summary_warns_that_the_pdf_is_not_encrypted(
    qtbot: Any, unlocked: Any, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QFileDialog

    window = unlocked
    window.show_view("Trends")
    wait_idle(qtbot, window)
    asked: list[str] = []
    folders: list[str] = []
    window.session.bridge.answer = lambda title, text: asked.append(text) or False
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda parent, caption, name, filters: folders.append(name) or ("", ""),
    )
    window.visit_summary()
    assert asked and "UNENCRYPTED" in asked[0] and folders == []  # declined: no file dialog
    window.session.bridge.answer = lambda title, text: True
    window.visit_summary()
    assert len(folders) == 1 and Path(folders[0]).parent != Path.cwd()


def test_dashboard_tiles_fit_the_default_window_without_sideways_scrolling(
    qtbot: Any, make_window: Any
) -> None:
    from tests.gui.conftest import create_through_wizard

    window = make_window(size=(1220, 780))
    create_through_wizard(qtbot, window)
    populate(qtbot, window)
    window.show_view("Dashboard")
    wait_idle(qtbot, window)
    dashboard = window.view("Dashboard")
    qtbot.waitUntil(lambda: dashboard.tiles and dashboard.tiles[0].isVisible(), timeout=5_000)
    qtbot.wait(50)
    viewport = dashboard.scroller.viewport().width()
    assert all(t.geometry().right() <= viewport for t in dashboard.tiles)
    assert dashboard.grid_host.width() <= viewport
    wide = dashboard._columns()
    window.resize(1700, 900)
    qtbot.waitUntil(lambda: dashboard._placed_columns > wide, timeout=5_000)
