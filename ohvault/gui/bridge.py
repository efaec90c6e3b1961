"""One message bridge for errors, notices and questions.

Views never build message boxes themselves: they call the bridge, which emits
`message` (tests observe it) and, when interactive, shows a dialog a person
understands, with the technical detail behind "Show Details…". No traceback
ever reaches the user; it goes to the (redacted) log instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ohvault.errors import OhvaultError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    level: str  # "error" | "warning" | "info"
    title: str
    text: str
    details: str = ""


def describe(exc: BaseException) -> tuple[str, str]:
    """The (text, details) to show for an exception; PHI-free by construction for our errors."""
    if isinstance(exc, OhvaultError):
        return exc.message, exc.hint or ""
    if _is_lab_error(exc):
        # The parser's errors carry messages written for people (and free of PHI).
        return str(getattr(exc, "message", "")) or "The lab report could not be read.", ""
    if isinstance(exc, OSError):
        return (
            "The file could not be read or written.",
            f"{type(exc).__name__}: {exc.strerror or 'operating system error'}",
        )
    # Unexpected: the message of a foreign exception may quote data, so it stays in the log.
    return (
        "Something went wrong inside ohvault. Nothing was half-saved; you can try again.",
        f"Internal error ({type(exc).__name__}). The log has the details.",
    )


def _is_lab_error(exc: BaseException) -> bool:
    try:
        from ohvault.labs.errors import LabParseError
    except ImportError:
        return False
    return isinstance(exc, LabParseError)


class MessageBridge(QObject):
    message = Signal(object)  # Message

    def __init__(self, interactive: bool = True) -> None:
        super().__init__()
        self.interactive = interactive
        self.parent_widget: QWidget | None = None
        self.history: list[Message] = []
        # Tests (and scripted runs) answer questions here instead of clicking a dialog.
        self.answer: Callable[[str, str], bool] | None = None

    def error(self, title: str, exc: BaseException) -> None:
        if not isinstance(exc, OhvaultError) and not _is_lab_error(exc):
            log.error("unexpected error in %s", title, exc_info=exc)
        text, details = describe(exc)
        self._emit(Message("error", title, text, details))

    def warn(self, title: str, text: str, details: str = "") -> None:
        self._emit(Message("warning", title, text, details))

    def info(self, title: str, text: str, details: str = "") -> None:
        self._emit(Message("info", title, text, details))

    def confirm(self, title: str, text: str, *, ok: str = "OK", danger: bool = False) -> bool:
        if self.answer is not None:
            return self.answer(title, text)
        if not self.interactive:
            return False
        box = QMessageBox(self.parent_widget)
        box.setIcon(QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        yes = box.addButton(ok, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    def _emit(self, msg: Message) -> None:
        self.history.append(msg)
        del self.history[:-50]
        self.message.emit(msg)
        if self.interactive:
            self._show(msg)

    def _show(self, msg: Message) -> None:
        icon = {
            "error": QMessageBox.Icon.Critical,
            "warning": QMessageBox.Icon.Warning,
        }.get(msg.level, QMessageBox.Icon.Information)
        box = QMessageBox(icon, msg.title, msg.text, QMessageBox.StandardButton.Ok)
        box.setParent(self.parent_widget, box.windowFlags())
        if msg.details:
            box.setDetailedText(msg.details)
        box.setAccessibleName(msg.title)
        box.setModal(True)
        box.open()  # never a nested event loop from a signal handler
