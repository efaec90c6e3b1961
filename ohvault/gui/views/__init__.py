"""One module per sidebar screen; `build_views` gives them in sidebar order."""

from __future__ import annotations

from ohvault.gui.session import Session
from ohvault.gui.views.base import View


def build_views(session: Session) -> list[View]:
    from ohvault.gui.views.results import ResultsView

    classes: list[type[View]] = [ResultsView]
    return [cls(session) for cls in classes]
