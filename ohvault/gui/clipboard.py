"""Copying secrets: marked for password managers, cleared after 30 s and on lock."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QTimer
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 30_000
# KDE Klipper (and other clipboard managers that honour it) do not keep such entries in history.
SECRET_HINT = "x-kde-passwordManagerHint"  # noqa: S105 - a MIME type name


class SecretClipboard(QObject):
    def __init__(self, clear_after_ms: int = CLEAR_AFTER_MS) -> None:
        super().__init__()
        self._copied: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(clear_after_ms)
        self._timer.timeout.connect(self.clear_if_ours)

    def copy(self, text: str) -> None:
        mime = QMimeData()
        mime.setText(text)
        mime.setData(SECRET_HINT, b"secret")
        QGuiApplication.clipboard().setMimeData(mime)
        self._copied = text
        self._timer.start()

    def clear_if_ours(self) -> None:
        """Clear the clipboard only if it still holds what we put there."""
        if self._copied is None:
            return
        clipboard = QGuiApplication.clipboard()
        if clipboard.text() == self._copied:
            clipboard.clear()
        self._copied = None
        self._timer.stop()
