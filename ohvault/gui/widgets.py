"""Small shared widgets: headings, cards, empty states, the passphrase strength meter."""

from __future__ import annotations

import math
import string
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ohvault.gui import theme

W = TypeVar("W", bound=QWidget)


def label(text: str, name: str = "", *, wrap: bool = False) -> QLabel:
    lab = QLabel(text)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def button(
    text: str,
    *,
    primary: bool = False,
    danger: bool = False,
    icon: str | None = None,
    tip: str = "",
) -> QPushButton:
    btn = QPushButton(text)
    btn.setAccessibleName(text.replace("&", "").rstrip("…"))
    if primary:
        btn.setProperty("primary", True)
    if danger:
        btn.setProperty("danger", True)
    if icon:
        btn.setProperty("iconName", icon)
        btn.setIcon(theme.icon(icon, theme.colours().accent_text if primary else None))
    if tip:
        btn.setToolTip(tip)
    return btn


def retint_buttons(root: QWidget) -> None:
    """Icons are tinted for a theme: tint the buttons' again after a theme change."""
    for btn in root.findChildren(QPushButton):
        name = btn.property("iconName")
        if name:
            primary = bool(btn.property("primary"))
            btn.setIcon(theme.icon(str(name), theme.colours().accent_text if primary else None))


class ErrorLabel(QLabel):
    """A wrapped error line that makes its window taller when the text needs it.

    A word-wrapped label's height depends on its width, which a layout's minimum size
    does not account for: a dialog already on screen kept its height and the message
    was drawn over the field above it.
    """

    def setText(self, text: str) -> None:
        super().setText(text)
        window = self.window()
        layout = window.layout() if window is not self else None
        if layout is None or not window.isVisible():
            return
        layout.activate()
        width = window.width()
        need = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if need > window.height():
            window.resize(width, need)


# Narrower dialogs clip their own title and squeeze fields (the "Correct" dialog was 220 px).
FORM_DIALOG_MIN_WIDTH = 420


def error_label() -> QLabel:
    """The red line under a form that says what is wrong with the input."""
    from ohvault.gui import theme

    error = ErrorLabel("")
    error.setWordWrap(True)
    error.setStyleSheet(f"color: {theme.colours().high};")
    error.setAccessibleName("Error")
    return error


def lay_out_form_dialog(
    dialog: QDialog,
    form: QFormLayout,
    *below: QWidget,
    ok: QDialogButtonBox.StandardButton = QDialogButtonBox.StandardButton.Save,
) -> None:
    """Form, then any hint/error labels, then OK-or-Save and Cancel wired to the dialog."""
    dialog.setMinimumWidth(max(dialog.minimumWidth(), FORM_DIALOG_MIN_WIDTH))
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    col = QVBoxLayout(dialog)
    col.addLayout(form)
    for widget in below:
        col.addWidget(widget)
    col.addWidget(buttons)


def card() -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    return frame


class ViewHeader(QWidget):
    """The title row of a screen with room for actions on the right."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 6)
        col = QVBoxLayout()
        col.setSpacing(2)
        self.title = label(title, "h1")
        col.addWidget(self.title)
        self.subtitle = label(subtitle, "muted")
        self.subtitle.setVisible(bool(subtitle))
        col.addWidget(self.subtitle)
        row.addLayout(col, 1)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(8)
        row.addLayout(self.action_row)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))

    def add(self, widget: W) -> W:
        self.action_row.addWidget(widget)
        return widget


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when too narrow; the full text is in the tooltip."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setToolTip(text)
        self.setMinimumWidth(10)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(self.alignment()), text)
        painter.end()


class EmptyState(QLabel):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setObjectName("empty")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)


# --- passphrase strength --------------------------------------------------------------------

_COMMON = {
    "password",
    "passwort",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "monkey",
    "dragon",
}


def passphrase_strength(text: str) -> tuple[int, str]:
    """A 0–4 score and a word for it: a rough entropy estimate, penalising the obvious."""
    if not text:
        return 0, ""
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(c in string.punctuation or c.isspace() for c in text):
        pool += 33
    if any(ord(c) > 127 for c in text):
        pool += 50
    bits = len(text) * math.log2(max(pool, 2))
    lowered = text.lower()
    if any(word in lowered for word in _COMMON):
        bits /= 3
    if len(set(text)) <= max(2, len(text) // 4):
        bits /= 2
    words = len(text.split())
    if words >= 4:
        bits = max(bits, 52.0)
    if len(text) < 8:
        return 0, "Too short"
    for limit, score, word in ((36, 1, "Weak"), (50, 2, "Fair"), (64, 3, "Good")):
        if bits < limit:
            return score, word
    return 4, "Strong"


class StrengthMeter(QWidget):
    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 4)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setAccessibleName("Passphrase strength")
        self.word = QLabel("")
        self.word.setMinimumWidth(70)
        row.addWidget(self.bar, 1)
        row.addWidget(self.word)
        self.score = 0

    def update_for(self, text: str) -> None:
        self.score, word = passphrase_strength(text)
        self.bar.setValue(self.score)
        c = theme.colours()
        colour = [c.high, c.high, c.warn, c.normal, c.normal][self.score]
        self.bar.setStyleSheet(
            f"QProgressBar::chunk {{ background: {colour}; border-radius: 3px; }}"
        )
        self.word.setText(word)
        self.bar.setAccessibleDescription(word)
