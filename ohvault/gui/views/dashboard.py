"""Dashboard: the latest value of each biomarker, out-of-range first, with trend and recent imports."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ohvault.changes import Change
from ohvault.gui import theme
from ohvault.gui.tasks import JobContext
from ohvault.gui.views.base import View
from ohvault.gui.widgets import ElidedLabel, EmptyState, ViewHeader, button, label
from ohvault.model import is_out_of_range
from ohvault.reports import dashboard as dashdata
from ohvault.ucum import display_unit
from ohvault.wording import flag_word, plural


class Sparkline(QWidget):
    def __init__(self, values: list[float], colour: str) -> None:
        super().__init__()
        self.values = values
        self.colour = colour
        self.setMinimumSize(QSize(90, 30))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Trend sparkline")

    def paintEvent(self, event: QPaintEvent) -> None:
        if len(self.values) < 2:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(3, 4, -3, -4)
        lo, hi = min(self.values), max(self.values)
        span = (hi - lo) or 1.0
        step = r.width() / (len(self.values) - 1)
        pts = [
            QPointF(r.left() + i * step, r.bottom() - (v - lo) / span * r.height())
            for i, v in enumerate(self.values)
        ]
        path = QPainterPath(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        pen = QPen(QColor(self.colour), 1.8)
        p.setPen(pen)
        p.drawPath(path)
        p.setBrush(QColor(self.colour))
        p.drawEllipse(pts[-1], 2.6, 2.6)
        p.end()


def _fmt_change(change: float | None) -> str:
    if change is None:
        return "first value"
    if abs(change) < 1e-9:
        return "unchanged"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {abs(change):.3g}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


TILE_MIN_WIDTH = 220


class Tile(QFrame):
    """One biomarker's latest value; clicking it (or Enter/Space on it) opens its trend."""

    opened = Signal(str)  # the analyte key

    def __init__(self, tile: dashdata.Tile) -> None:
        super().__init__()
        self.key = tile.key
        self.setObjectName("card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(f"Open the trend of {tile.name}")
        flagged = is_out_of_range(tile.flag)
        self.setProperty("flagged", flagged)
        self.setMinimumWidth(TILE_MIN_WIDTH)
        self.setAccessibleName(f"{tile.name} tile")
        col = QVBoxLayout(self)
        col.setContentsMargins(16, 12, 16, 12)
        col.setSpacing(4)
        name = ElidedLabel(tile.name)
        name.setObjectName("h2")
        col.addWidget(name)
        colour = theme.flag_colour(tile.flag)
        value_row = QHBoxLayout()
        value_row.setSpacing(0)
        value = QLabel(tile.value)
        # The font comes from the style sheet (the app's sheet would override a QFont); the
        # label may grow past its first size hint so a long number is never clipped.
        value.setStyleSheet(
            f"font-size: 19pt; font-weight: 700; color: {colour if flagged else theme.colours().text};"
        )
        value.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        if tile.exact and tile.exact != tile.value:
            value.setToolTip(f"{tile.exact} {display_unit(tile.unit)}".strip())
        value.setAccessibleName("Latest value")
        self.value_label = value
        value_row.addWidget(value)
        value_row.addSpacing(6)  # keep the unit off the number
        unit = QLabel(display_unit(tile.unit))
        unit.setObjectName("muted")
        self.unit_label = unit
        value_row.addWidget(unit, 0, Qt.AlignmentFlag.AlignBottom)
        value_row.addStretch(1)
        change = QLabel(_fmt_change(tile.change))
        change.setObjectName("muted")
        change.setToolTip("Change since the previous date it was measured")
        value_row.addWidget(change, 0, Qt.AlignmentFlag.AlignBottom)
        col.addLayout(value_row)
        col.addWidget(Sparkline(tile.spark, colour))
        meta = QHBoxLayout()
        when = QLabel(tile.effective.isoformat())
        when.setObjectName("muted")
        meta.addWidget(when)
        meta.addStretch(1)
        if tile.flag:
            pill = QLabel(flag_word(tile.flag))
            pill.setStyleSheet(
                f"color: {colour}; border: 1px solid {colour}; border-radius: 8px; padding: 0px 8px;"
                " font-size: 9pt; font-weight: 600;"
            )
            meta.addWidget(pill)
        col.addLayout(meta)
        self.flag = tile.flag

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.opened.emit(self.key)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit(self.key)
            return
        super().keyPressEvent(event)


class DashboardView(View):
    title = "Dashboard"
    icon_name = "dashboard"
    watches = frozenset({Change.OBSERVATION, Change.DIAGNOSTIC_REPORT, Change.DOCUMENT})
    COLUMNS = 3

    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(session)
        self.header = ViewHeader("Dashboard")
        imp = self.header.add(button("Import lab report", icon="import"))
        imp.clicked.connect(lambda: self.window().import_files())  # type: ignore[attr-defined]
        add = self.header.add(button("Add measurement", primary=True, icon="add"))
        add.clicked.connect(lambda: self.window().add_measurement())  # type: ignore[attr-defined]
        self.root.addWidget(self.header)
        body = QHBoxLayout()
        body.setSpacing(18)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(14)
        self.grid.setContentsMargins(0, 0, 6, 0)
        self.scroller.setWidget(self.grid_host)
        body.addWidget(self.scroller, 1)
        side = QFrame()
        side.setObjectName("panel")
        side.setFixedWidth(270)
        self.side = QVBoxLayout(side)
        self.side.setContentsMargins(16, 14, 16, 14)
        self.side.addWidget(label("Recent imports", "h2"))
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(8)
        self.side.addLayout(self.recent_box)
        self.side.addStretch(1)
        self.counts_label = label("", "muted", wrap=True)
        self.side.addWidget(self.counts_label)
        body.addWidget(side, 0)
        self.root.addLayout(body, 1)
        self.tiles: list[Tile] = []
        self._placed_columns = 0
        self.data: dashdata.Dashboard | None = None

    def load(self) -> None:
        pid = self.session.profile_id

        def op(ctx: JobContext) -> dashdata.Dashboard:
            return dashdata.dashboard(ctx.vault, pid)  # type: ignore[arg-type]

        self.session.executor.run(op, success=self._show, label="Loading the dashboard")

    def _clear_layouts(self) -> None:
        for layout in (self.grid, self.recent_box):
            while layout.count():
                item = layout.takeAt(0)
                if item is not None and item.widget() is not None:
                    item.widget().deleteLater()  # type: ignore[union-attr]
        self.tiles = []

    def _show(self, dash: dashdata.Dashboard) -> None:
        self._clear_layouts()
        self.data = dash
        profile = self.session.profile
        flagged = sum(1 for t in dash.tiles if is_out_of_range(t.flag))
        self.header.title.setText(f"{profile.name}'s health" if profile else "Dashboard")
        if dash.tiles:
            self.header.set_subtitle(
                f"{len(dash.tiles)} tracked biomarkers · "
                + (f"{flagged} out of range" if flagged else "all within range")
            )
        else:
            self.header.set_subtitle("")
            self.grid.addWidget(
                EmptyState(
                    "Nothing here yet.\n\nDrop a lab report PDF onto this window, or add a "
                    "measurement by hand, and your latest values will appear here."
                ),
                0,
                0,
            )
        for tile in dash.tiles:
            widget = Tile(tile)
            widget.opened.connect(self.open_trend)
            self.tiles.append(widget)
        self._place_tiles()
        if dash.recent:
            for item in dash.recent:
                row = QVBoxLayout()
                title = label(item.title, wrap=True)
                title.setStyleSheet("font-weight: 600;")
                row.addWidget(title)
                extra = f" · {plural(item.results, 'result')}" if item.results else ""
                row.addWidget(label(f"{item.when.isoformat()}{extra}", "muted"))
                box = QWidget()
                box.setLayout(row)
                self.recent_box.addWidget(box)
        else:
            self.recent_box.addWidget(label("No imports yet.", "muted"))
        c = dash.counts
        self.counts_label.setText(
            " · ".join(
                _plural(c.get(key, 0), word)
                for key, word in (
                    ("observation", "result"),
                    ("document", "document"),
                    ("medication", "medication"),
                )
            )
        )

    def _columns(self) -> int:
        # As many tiles side by side as fit: never a sideways scroll at the default size.
        width = self.scroller.viewport().width()
        spacing = self.grid.horizontalSpacing()
        return max(1, min(self.COLUMNS, (width + spacing) // (TILE_MIN_WIDTH + spacing)))

    def _place_tiles(self) -> None:
        columns = self._columns()
        self._placed_columns = columns
        for i, widget in enumerate(self.tiles):
            self.grid.removeWidget(widget)
            self.grid.addWidget(widget, i // columns, i % columns)
        for c in range(self.COLUMNS):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        self.grid.setRowStretch(self.grid.rowCount(), 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.tiles and self._columns() != self._placed_columns:
            self._place_tiles()

    def open_trend(self, key: str) -> None:
        self.window().show_trend(key)  # type: ignore[attr-defined]

    def clear(self) -> None:
        super().clear()
        self._clear_layouts()
        self.data = None
        self.header.title.setText("Dashboard")
        self.header.set_subtitle("")
        self.counts_label.clear()
