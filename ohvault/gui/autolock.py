"""Auto-lock: after idle time, on system sleep and on screen lock.

Idle time is judged by wall-clock time as well as the monotonic clock: while a
machine is suspended the monotonic clock (and every QTimer) stops, so on resume
only the wall clock tells that hours have passed. Sleep and screen lock come
from logind's PrepareForSleep (system bus) and the ScreenSaver ActiveChanged
signal (session bus) where the desktop provides them.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import SLOT, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

_INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleWatcher(QObject):
    """Emits `expired` once the user has been idle for `timeout_s` (0 disables)."""

    expired = Signal()

    def __init__(self, timeout_s: float = 15 * 60, check_ms: int | None = None) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        self._wall = time.time()
        self._mono = time.monotonic()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._check_ms = check_ms
        self.armed = False

    def set_timeout(self, seconds: float) -> None:
        self.timeout_s = seconds
        if self.armed:
            self.start()

    def start(self) -> None:
        """Arm (after unlocking)."""
        self.armed = self.timeout_s > 0
        self.touch()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            app.installEventFilter(self)
        if self.armed:
            # Check often enough to be on time, rarely enough to cost nothing.
            interval = self._check_ms or int(min(15_000, max(50, self.timeout_s * 1000 / 10)))
            self._timer.start(interval)
        else:
            self._timer.stop()

    def stop(self) -> None:
        self.armed = False
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def touch(self) -> None:
        self._wall = time.time()
        self._mono = time.monotonic()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self.touch()
        return False

    def idle_seconds(self) -> float:
        # The larger of the two: a suspend stops the monotonic clock, a clock change the wall one.
        wall = time.time() - self._wall
        mono = time.monotonic() - self._mono
        return max(wall, mono)

    def check(self) -> None:
        if self.armed and self.idle_seconds() >= self.timeout_s:
            self.stop()
            self.expired.emit()


class SystemLockWatcher(QObject):
    """Emits `sleeping` / `screen_locked` from logind and ScreenSaver D-Bus signals."""

    sleeping = Signal()
    screen_locked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.connected: list[str] = []
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:  # not on this platform
            return
        system = QDBusConnection.systemBus()
        if system.isConnected() and system.connect(
            "org.freedesktop.login1",
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            self,
            SLOT("_on_prepare_for_sleep(bool)"),  # type: ignore[call-overload]
        ):
            self.connected.append("logind")
        session = QDBusConnection.sessionBus()
        if session.isConnected():
            for path, iface in (
                ("/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
                ("/ScreenSaver", "org.freedesktop.ScreenSaver"),
                ("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
            ):
                # Any sender: the screensaver service name differs between desktops.
                if session.connect(  # type: ignore[call-overload]
                    "", path, iface, "ActiveChanged", self, SLOT("_on_screensaver(bool)")
                ):
                    self.connected.append(iface + path)
        log.debug("system lock signals: %s", ", ".join(self.connected) or "none")

    @Slot(bool)
    def _on_prepare_for_sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:
            self.sleeping.emit()

    @Slot(bool)
    def _on_screensaver(self, active: bool) -> None:
        if active:
            self.screen_locked.emit()
