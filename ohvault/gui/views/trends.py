"""Trends: one or several biomarkers over time, with reference bands and medication markers."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
)

from ohvault.changes import Change
from ohvault.gui import theme
from ohvault.gui.dates import DateEdit, qtoday
from ohvault.gui.filedialogs import suggested
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import EmptyState, ViewHeader, button, label
from ohvault.reports.trends import TrendData
from ohvault.ucum import display_unit

RANGES = [
    ("All time", None),
    ("Last 6 months", 183),
    ("Last year", 365),
    ("Last 2 years", 730),
    ("Last 5 years", 1826),
    ("Custom", "custom"),
]
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"


def tip_placement(fx: float, fy: float) -> tuple[tuple[int, int], str, str]:
    """Where a point's tooltip goes, from the point's place in the axes (0..1 each way).

    Beside the point, towards the middle of the chart: the newest point sits at the right
    edge, so its tooltip opens to the left instead of running off the chart.
    """
    right, top = fx > 0.55, fy > 0.6
    return (
        (-12 if right else 12, -12 if top else 12),
        "right" if right else "left",
        ("top" if top else "bottom"),
    )


class TrendsView(View):
    title = "Trends"
    icon_name = "trends"
    watches = frozenset({Change.OBSERVATION, Change.MEDICATION})

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.canvas: Any = None
        self.figure: Any = None
        self.plotted: list[Any] = []
        self.annotation: Any = None
        self.hover_text = ""
        self.data: TrendData | None = None
        self._wanted: tuple[str, ...] | None = None  # to chart once the data is in
        header = ViewHeader(
            "Trends", "Pick one or more tests; the shaded band is the reference range."
        )
        self.export_button = header.add(button("Export chart…", icon="export"))
        self.export_button.clicked.connect(self.export_dialog)
        self.summary_button = header.add(button("Visit summary PDF…", primary=True, icon="summary"))
        self.summary_button.clicked.connect(self.visit_summary_dialog)
        self.root.addWidget(header)
        body = QHBoxLayout()
        body.setSpacing(16)
        side = QFrame()
        side.setObjectName("panel")
        side.setFixedWidth(260)
        scol = QVBoxLayout(side)
        scol.setContentsMargins(12, 12, 12, 12)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Find a test")
        self.filter.setAccessibleName("Find a test to chart")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_list)
        scol.addWidget(self.filter)
        self.analytes = QListWidget()
        self.analytes.setAccessibleName("Tests to chart")
        self.analytes.itemChanged.connect(lambda _: self.redraw())
        self.analytes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.analytes.setTextElideMode(Qt.TextElideMode.ElideRight)
        scol.addWidget(self.analytes, 1)
        scol.addWidget(label("Period", "muted"))
        self.range = QComboBox()
        self.range.setAccessibleName("Period")
        for text, value in RANGES:
            self.range.addItem(text, value)
        self.range.currentIndexChanged.connect(self._range_changed)
        scol.addWidget(self.range)
        self.since = DateEdit()
        self.until = DateEdit()
        for edit, name in ((self.since, "From"), (self.until, "To")):
            edit.setAccessibleName(name)
            edit.setVisible(False)
            edit.dateChanged.connect(lambda _: self.redraw())
            scol.addWidget(edit)
        self.since.setDate(qtoday().addYears(-2))
        self.until.setDate(qtoday())
        body.addWidget(side)
        self.chart_host = QStackedWidget()
        self.empty = EmptyState("Select one or more tests on the left to see how they changed.")
        self.chart_host.addWidget(self.empty)
        self.loading = EmptyState("Loading your results…")
        self.loading.setAccessibleName("Loading")
        self.chart_host.addWidget(self.loading)
        body.addWidget(self.chart_host, 1)
        self.root.addLayout(body, 1)

    # --- data ---------------------------------------------------------------------------

    def load(self) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> TrendData:
            from ohvault.reports.trends import trend_data

            return trend_data(ctx.vault, pid)  # type: ignore[arg-type]

        # Reading every result takes a moment on a large vault: say so instead of an empty chart.
        self.chart_host.setCurrentWidget(self.loading)
        self.analytes.setEnabled(False)
        self.session.executor.run(op, success=self._show, label="Loading trends")

    def open_analyte(self, key: str) -> None:
        """Chart just this analyte, now if the data is here, else as soon as it arrives."""
        if self.data is not None and not self.stale:
            self.select(key)
        else:
            self._wanted = (key,)

    def _show(self, data: TrendData) -> None:
        self.analytes.setEnabled(True)
        checked = set(self.checked_keys()) if self._wanted is None else set(self._wanted)
        self._wanted = None
        self.data = data
        self.analytes.blockSignals(True)
        self.analytes.clear()
        for key, name in data.analytes:
            series = data.members(key)[0]
            item = QListWidgetItem(f"{name}  ·  {len(series.points)}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if key in checked else Qt.CheckState.Unchecked)
            item.setToolTip(
                f"{len(series.points)} values in {display_unit(series.unit) or 'no unit'}"
            )
            self.analytes.addItem(item)
        if not checked and self.analytes.count():
            # Start with something useful: the first analyte with the longest history.
            best = max(
                range(self.analytes.count()),
                key=lambda i: len(data.members(data.analytes[i][0])[0].points),
            )
            self.analytes.item(best).setCheckState(Qt.CheckState.Checked)
        self.analytes.blockSignals(False)
        self._filter_list(self.filter.text())
        self.redraw()

    def checked_keys(self) -> list[str]:
        return [
            str(self.analytes.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.analytes.count())
            if self.analytes.item(i).checkState() == Qt.CheckState.Checked
        ]

    def select(self, *keys_or_names: str) -> None:
        """Check exactly these analytes (by key or display name)."""
        wanted = {k.lower() for k in keys_or_names}
        self.analytes.blockSignals(True)
        for i in range(self.analytes.count()):
            item = self.analytes.item(i)
            key = str(item.data(Qt.ItemDataRole.UserRole)).lower()
            name = item.text().split("  ·  ")[0].lower()
            hit = key in wanted or name in wanted
            item.setCheckState(Qt.CheckState.Checked if hit else Qt.CheckState.Unchecked)
        self.analytes.blockSignals(False)
        self.redraw()

    def _filter_list(self, text: str) -> None:
        text = text.lower().strip()
        for i in range(self.analytes.count()):
            item = self.analytes.item(i)
            item.setHidden(bool(text) and text not in item.text().lower())

    def period(self) -> tuple[date | None, date | None]:
        value = self.range.currentData()
        if value == "custom":
            return self.since.date().toPython(), self.until.date().toPython()  # type: ignore[return-value]
        if value is None:
            return None, None
        return date.today() - timedelta(days=int(value)), None

    def _range_changed(self, _: int) -> None:
        custom = self.range.currentData() == "custom"
        self.since.setVisible(custom)
        self.until.setVisible(custom)
        self.redraw()

    # --- chart ----------------------------------------------------------------------------

    def _ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        from ohvault.reports import charts

        self.figure = charts.new_figure()
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setAccessibleName("Trend chart")
        self.canvas.mpl_connect("motion_notify_event", self._hover)
        self.chart_host.addWidget(self.canvas)

    def redraw(self) -> None:
        if self.data is None:
            return
        keys = self.checked_keys()
        if not keys:
            self.chart_host.setCurrentWidget(self.empty)
            self.plotted = []
            return
        self._ensure_canvas()
        from ohvault.reports import charts

        since, until = self.period()
        palette = charts.DARK if theme.colours().dark else charts.LIGHT
        series = [s for k in keys for s in self.data.members(k)]
        self.plotted = charts.draw_trends(
            self.figure, series, self.data.medications, since=since, until=until, palette=palette
        )
        self.annotation = None
        self.canvas.draw_idle()
        self.chart_host.setCurrentWidget(self.canvas)

    def _hover(self, event: Any) -> None:
        from ohvault.reports import charts

        if event.inaxes is None or not self.plotted:
            self._hide_tip()
            return
        hit = charts.nearest_point(self.plotted, event.inaxes, event.x, event.y)
        if hit is None:
            self._hide_tip()
            return
        plotted, i = hit
        d, v = plotted.dates[i], plotted.values[i]
        unit = f" {display_unit(plotted.series.unit)}".rstrip()
        self.hover_text = f"{plotted.series.name}\n{d.isoformat()}: {v:g}{unit}"
        if self.annotation is not None:
            self.annotation.remove()
        c = theme.colours()
        ax = event.inaxes
        px, py = ax.transData.transform((ax.convert_xunits(d), v))
        fx, fy = ax.transAxes.inverted().transform((px, py))
        offset, ha, va = tip_placement(fx, fy)
        self.annotation = ax.annotate(
            self.hover_text,
            xy=(d, v),
            xytext=offset,
            ha=ha,
            va=va,
            textcoords="offset points",
            fontsize=8,
            color=c.text,
            bbox={"boxstyle": "round,pad=0.4", "fc": c.surface, "ec": c.border},
            zorder=10,
        )
        self.canvas.draw_idle()

    def _hide_tip(self) -> None:
        if self.annotation is not None:
            self.annotation.remove()
            self.annotation = None
            self.hover_text = ""
            self.canvas.draw_idle()

    # --- export ---------------------------------------------------------------------------

    def export_chart(self, path: Path) -> None:
        if self.figure is None or not self.plotted:
            from ohvault.errors import BadInput

            raise BadInput("There is no chart to export: select a test first.")
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("png", "svg", "pdf"):
            from ohvault.errors import BadInput

            raise BadInput("Charts can be exported as PNG, SVG or PDF.")
        self.figure.savefig(
            path,
            format=fmt,
            dpi=200 if fmt == "png" else None,
            facecolor=self.figure.get_facecolor(),
        )

    def export_dialog(self) -> None:
        name, chosen = QFileDialog.getSaveFileName(
            self, "Export chart", suggested("trend.png"), EXPORT_FILTER
        )
        if not name:
            return
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix("." + chosen.split("*.")[1].rstrip(")"))
        try:
            self.export_chart(path)
            self.session.notify.emit(f"Chart exported to {path.name}.")
        except Exception as exc:
            self.session.bridge.error("Exporting the chart", exc)

    def visit_summary(self, path: Path) -> Any:
        pid = self.session.profile_id
        since, _ = self.period()

        def op(ctx: JobContext) -> Any:
            from ohvault.reports.summary import build_visit_summary

            def step(done: int, total: int, text: str) -> None:
                ctx.check_cancel()
                ctx.progress(done, total, text)

            return build_visit_summary(ctx.vault, pid, path, since=since, step=step)  # type: ignore[arg-type]

        return self.session.executor.run(
            op,
            success=lambda info: self.session.notify.emit(
                f"Visit summary saved ({info.pages} pages, {info.flagged} flagged results)."
            ),
            label="Preparing the visit summary",
        )

    def visit_summary_dialog(self) -> None:
        from ohvault.fhir.plain import PLAINTEXT_WARNING

        # The PDF is as readable as a CSV export, so it gets the same warning first.
        if not self.session.bridge.confirm(
            "Write an unencrypted file?",
            PLAINTEXT_WARNING.replace("WARNING: ", "")
            + "\n\nThe visit summary is meant to be printed or handed over; delete the file "
            "when it is no longer needed.",
            ok="Write unencrypted file",
            danger=True,
        ):
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save visit summary",
            suggested(f"visit-summary-{date.today().isoformat()}.pdf"),
            "PDF (*.pdf)",
        )
        if name:
            self.visit_summary(Path(name))

    def clear(self) -> None:
        super().clear()
        self.data = None
        self.analytes.clear()
        self.plotted = []
        self.hover_text = ""
        if self.figure is not None:
            self.figure.clear()
            self.canvas.draw_idle()
        self.chart_host.setCurrentWidget(self.empty)
