"""What every sidebar screen shares: refresh when visible and relevant, clear on lock."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QVBoxLayout, QWidget

from ohvault.changes import Change, OpChanges
from ohvault.gui.session import Session


class View(QWidget):
    """A screen. Subclasses load data in `load()` (via the executor) and wipe it in `clear()`."""

    title: ClassVar[str] = ""
    icon_name: ClassVar[str] = ""
    # The change kinds that make this view stale (besides a profile or the whole vault).
    watches: ClassVar[OpChanges] = frozenset()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setAccessibleName(self.title)
        self.root = QVBoxLayout(self)
        self.root.setContentsMargins(28, 22, 28, 18)
        self.root.setSpacing(12)
        self.stale = True
        self.active = False
        session.executor.changes.connect(self._on_changes)

    def _on_changes(self, kinds: OpChanges) -> None:
        if kinds & (self.watches | {Change.PROFILE, Change.VAULT}):
            self.mark_stale()

    def mark_stale(self) -> None:
        self.stale = True
        if self.active and self.session.is_unlocked:
            self.refresh()

    def activate(self) -> None:
        self.active = True
        if self.stale and self.session.is_unlocked:
            self.refresh()

    def deactivate(self) -> None:
        self.active = False

    def refresh(self) -> None:
        self.stale = False
        if self.session.profile_id is not None:
            self.load()

    def load(self) -> None:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    def clear(self) -> None:
        """Drop every piece of PHI this view shows (lock, profile switch)."""
        self.stale = True
