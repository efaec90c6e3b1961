"""Copying secrets: marked for password managers, cleared after 30 s and on lock."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, QTimer
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 30_000
# KDE Klipper (and other clipboard managers that honour it) do not keep such entries in history.
SECRET_HINT = "x-kde-passwordManagerHint"  # noqa: S105 - a MIME type name
# The same request in the other platforms' conventions, as password managers set them:
# macOS pasteboard managers skip org.nspasteboard.ConcealedType; Windows' clipboard history
# and cloud clipboard skip data marked with these two registered formats (a DWORD 0).
CONCEALMENT_HINTS: dict[str, bytes] = {
    SECRET_HINT: b"secret",
    "org.nspasteboard.ConcealedType": b"",
    'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"': b"\x00\x00\x00\x00",
}


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
        for fmt, value in CONCEALMENT_HINTS.items():
            mime.setData(fmt, value)
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
