"""One module per sidebar screen; `build_views` gives them in sidebar order."""

from __future__ import annotations

from ohvault.gui.session import Session
from ohvault.gui.views.base import View


def build_views(session: Session) -> list[View]:
    from ohvault.gui.views.audit import AuditView
    from ohvault.gui.views.dashboard import DashboardView
    from ohvault.gui.views.documents import DocumentsView
    from ohvault.gui.views.importer import ImportView
    from ohvault.gui.views.records import ConditionsView, ImmunizationsView, MedicationsView
    from ohvault.gui.views.results import ResultsView
    from ohvault.gui.views.settings import SettingsView
    from ohvault.gui.views.trends import TrendsView

    classes: list[type[View]] = [
        DashboardView,
        ResultsView,
        ImportView,
        TrendsView,
        DocumentsView,
        MedicationsView,
        ConditionsView,
        ImmunizationsView,
        AuditView,
        SettingsView,
    ]
    return [cls(session) for cls in classes]
