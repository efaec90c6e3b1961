"""Colours, fonts, the style sheet and icons; light and dark, following the system by default."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

from ohvault import paths

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgRenderer


@dataclass(frozen=True)
class Colours:
    dark: bool
    window: str
    surface: str
    sidebar: str
    border: str
    text: str
    muted: str
    accent: str
    accent_text: str
    high: str  # above range
    low: str  # below range
    normal: str
    warn: str
    selection: str


LIGHT = Colours(
    dark=False,
    window="#f5f7f8",
    surface="#ffffff",
    sidebar="#eaf0f1",
    border="#d9e0e3",
    text="#1d2a30",
    muted="#60727a",
    accent="#1f8a7d",
    accent_text="#ffffff",
    high="#c8372d",
    low="#2a6fdb",
    normal="#2e8b57",
    warn="#b7791f",
    selection="#d4ecea",
)
DARK = Colours(
    dark=True,
    window="#16191c",
    surface="#1f2428",
    sidebar="#1a1e21",
    border="#333a40",
    text="#e6eaec",
    muted="#98a6ad",
    accent="#3cb7a6",
    accent_text="#0f1a19",
    high="#ff6b5e",
    low="#6ea8ff",
    normal="#58c08a",
    warn="#e0a84a",
    selection="#27443f",
)

_current: Colours = LIGHT


class AppStyle(QProxyStyle):
    """Fusion with the app's own icons where Qt would draw its stock ones.

    Message boxes and the calendar popup's arrows otherwise show icons from another
    set; ours are drawn in one line weight and tinted for the theme. (Dialog buttons
    go without icons: the style sheet says so.)
    """

    # What a standard pixmap becomes: (icon name, colour attribute of Colours).
    ICONS: ClassVar[dict[QStyle.StandardPixmap, tuple[str, str]]] = {
        QStyle.StandardPixmap.SP_MessageBoxWarning: ("alert", "warn"),
        QStyle.StandardPixmap.SP_MessageBoxCritical: ("alert", "high"),
        QStyle.StandardPixmap.SP_MessageBoxInformation: ("info", "accent"),
        QStyle.StandardPixmap.SP_MessageBoxQuestion: ("help", "accent"),
        QStyle.StandardPixmap.SP_ArrowLeft: ("chevron-left", "text"),
        QStyle.StandardPixmap.SP_ArrowBack: ("chevron-left", "text"),
        QStyle.StandardPixmap.SP_ArrowRight: ("chevron-right", "text"),
        QStyle.StandardPixmap.SP_ArrowForward: ("chevron-right", "text"),
    }

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def standardIcon(
        self,
        standard: QStyle.StandardPixmap,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> QIcon:
        mapped = self.ICONS.get(standard)
        if mapped is not None:
            name, colour = mapped
            return icon(name, getattr(_current, colour))
        return super().standardIcon(standard, option, widget)


_style: AppStyle | None = None  # the app does not own a Python-made style


def colours() -> Colours:
    return _current


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def apply(app: QApplication, mode: str = "system") -> Colours:
    """Apply "system", "light" or "dark" to the whole application."""
    global _current
    dark = system_is_dark() if mode == "system" else mode == "dark"
    _current = DARK if dark else LIGHT
    global _style
    if _style is None or (app.style() is not _style and not isinstance(app.style(), AppStyle)):
        # Made once: replacing a style that a style sheet still wraps would free it under Qt.
        _style = AppStyle()
        app.setStyle(_style)
    c = _current
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(c.window))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Base, QColor(c.surface))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(c.window))
    pal.setColor(QPalette.ColorRole.Text, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Button, QColor(c.surface))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(c.accent))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor(c.accent_text))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(c.surface))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(c.muted))
    pal.setColor(QPalette.ColorRole.Link, QColor(c.accent))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(c.muted))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet(c))
    icon.cache_clear()
    for widget in app.topLevelWidgets():
        retheme = getattr(widget, "retheme", None)
        if callable(retheme):
            retheme()
    return c


def style_sheet(c: Colours) -> str:
    icons = (paths.resources_dir() / "icons").as_posix()
    tone = "dark" if c.dark else "light"
    down = f"{icons}/chevron-down-{tone}.svg"
    up = f"{icons}/chevron-up-{tone}.svg"
    check = f"{icons}/check-{tone}.svg"
    return f"""
    QWidget {{ font-size: 10pt; }}
    QMainWindow, QStackedWidget#pages {{ background: {c.window}; }}
    QFrame#sidebar {{ background: {c.sidebar}; border-right: 1px solid {c.border}; }}
    QListWidget#nav {{ background: transparent; border: none; outline: 0; }}
    QListWidget#nav::item {{ padding: 7px 10px; margin: 1px 8px; border-radius: 6px; color: {c.text}; }}
    QListWidget#nav::item:selected {{ background: {c.selection}; color: {c.text}; font-weight: 600; }}
    QListWidget#nav::item:hover:!selected {{ background: {c.border}; }}
    QLabel#brand {{ font-size: 14pt; font-weight: 700; color: {c.text}; }}
    QLabel#h1 {{ font-size: 17pt; font-weight: 650; color: {c.text}; }}
    QLabel#h2 {{ font-size: 12pt; font-weight: 600; color: {c.text}; }}
    QLabel#muted, QLabel[muted="true"] {{ color: {c.muted}; }}
    QLabel#empty {{ color: {c.muted}; font-size: 11pt; padding: 40px; }}
    QFrame#card {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
    QFrame#card[flagged="true"] {{ border: 1px solid {c.high}; }}
    QFrame#panel {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
    QFrame#banner {{ background: {c.selection}; border-radius: 8px; }}
    QFrame#warning {{ background: {"#3a2f1a" if c.dark else "#fff4e0"}; border: 1px solid {c.warn}; border-radius: 8px; }}
    QPushButton {{ padding: 6px 14px; border: 1px solid {c.border}; border-radius: 6px; background: {c.surface}; }}
    QPushButton:hover {{ border-color: {c.accent}; }}
    QPushButton:disabled {{ color: {c.muted}; }}
    QPushButton[primary="true"] {{ background: {c.accent}; color: {c.accent_text}; border-color: {c.accent}; font-weight: 600; }}
    QPushButton[primary="true"]:disabled {{ background: {c.border}; border-color: {c.border}; color: {c.muted}; }}
    QPushButton[danger="true"] {{ color: {c.high}; }}
    QPushButton[danger="true"]:disabled {{ color: {c.muted}; }}
    QToolButton {{ padding: 4px; border-radius: 6px; }}
    QToolButton:hover {{ background: {c.border}; }}
    QLineEdit, QComboBox, QDateEdit, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTextEdit {{
        padding: 5px 7px; border: 1px solid {c.border}; border-radius: 6px; background: {c.surface};
    }}
    QComboBox::drop-down {{ border: none; width: 22px; }}
    QComboBox::down-arrow {{ image: url({down}); width: 12px; height: 12px; }}
    QDateEdit::drop-down {{ border: none; width: 22px; }}
    QDateEdit::down-arrow {{ image: url({down}); width: 12px; height: 12px; }}
    QSpinBox::up-button, QSpinBox::down-button {{ border: none; width: 18px; }}
    QSpinBox::up-arrow {{ image: url({up}); width: 10px; height: 10px; }}
    QSpinBox::down-arrow {{ image: url({down}); width: 10px; height: 10px; }}
    QComboBox QAbstractItemView {{ background: {c.surface}; border: 1px solid {c.border};
        selection-background-color: {c.selection}; selection-color: {c.text}; }}
    QLineEdit:focus, QComboBox:focus, QDateEdit:focus, QPlainTextEdit:focus {{ border-color: {c.accent}; }}
    QTableView {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 8px;
        gridline-color: transparent; selection-background-color: {c.selection}; selection-color: {c.text}; }}
    QTableView::item {{ padding: 4px; }}
    QHeaderView::section {{ background: {c.surface}; color: {c.muted}; border: none;
        border-bottom: 1px solid {c.border}; padding: 6px; font-weight: 600; }}
    QStatusBar {{ background: {c.sidebar}; color: {c.muted}; border-top: 1px solid {c.border}; }}
    QProgressBar {{ border: 1px solid {c.border}; border-radius: 5px; text-align: center; background: {c.surface}; }}
    QProgressBar::chunk {{ background: {c.accent}; border-radius: 4px; }}
    QGroupBox {{ border: 1px solid {c.border}; border-radius: 8px; margin-top: 14px; padding: 10px; background: {c.surface}; }}
    QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; color: {c.muted}; font-weight: 600; }}
    QScrollArea {{ background: transparent; border: none; }}
    QScrollArea > QWidget > QWidget {{ background: transparent; }}
    QTabWidget::pane {{ border: none; }}
    QTabBar::tab {{ padding: 7px 16px; border: none; color: {c.muted}; }}
    QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; font-weight: 600; }}
    QDialogButtonBox {{ dialogbuttonbox-buttons-have-icons: 0; }}
    QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
    QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
    QScrollBar::handle {{ background: {c.border}; border-radius: 4px; min-height: 28px; min-width: 28px; }}
    QScrollBar::handle:hover {{ background: {c.muted}; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
    QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
    QToolTip {{ color: {c.text}; background: {c.surface}; border: 1px solid {c.border}; padding: 4px; }}
    QCheckBox::indicator, QTableView::indicator, QListView::indicator, QGroupBox::indicator {{
        width: 14px; height: 14px; border: 1px solid {c.muted}; border-radius: 3px; background: {c.surface};
    }}
    QCheckBox::indicator:hover, QTableView::indicator:hover {{ border-color: {c.accent}; }}
    QCheckBox::indicator:checked, QTableView::indicator:checked, QListView::indicator:checked,
    QGroupBox::indicator:checked {{
        background: {c.accent}; border-color: {c.accent}; image: url({check});
    }}
    QCheckBox::indicator:indeterminate, QTableView::indicator:indeterminate {{
        background: {c.selection}; border-color: {c.accent};
    }}
    QCheckBox::indicator:disabled, QTableView::indicator:disabled {{ border-color: {c.border}; }}
    QCheckBox::indicator:checked:disabled {{ background: {c.border}; border-color: {c.border}; }}
    """


def flag_colour(flag: str | None) -> str:
    from ohvault.model import is_out_of_range  # here: the unlock screen needs no model

    c = _current
    if not is_out_of_range(flag):
        return c.normal
    if flag in ("L", "LL"):
        return c.low
    return c.high


class _SvgIconEngine(QIconEngine):
    """Renders the SVG at whatever size and pixel ratio is asked for, when it is asked for."""

    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        # Parsed at the first paint: most icons (menus, the sidebar) are not on the first
        # screen, and the app builds them all before showing it.
        self._renderer: QSvgRenderer | None = None

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        if self._renderer is None:
            from PySide6.QtSvg import QSvgRenderer  # loaded with the first icon drawn

            self._renderer = QSvgRenderer(QByteArray(self._svg))
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pm

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._svg)


@cache
def icon(name: str, colour: str | None = None) -> QIcon:
    """An icon from resources/icons, tinted for the current theme; crisp at any DPI (SVG)."""
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        return QIcon()
    svg = svg.replace("currentColor", colour or _current.text)
    return QIcon(_SvgIconEngine(svg.encode("utf-8")))
