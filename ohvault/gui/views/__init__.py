"""One module per sidebar screen, in sidebar order.

Screens are built the first time they are shown, so start-up pays only for
the unlock screen (the registry names them without importing them).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ohvault.gui.session import Session
from ohvault.gui.views.base import View


@dataclass(frozen=True)
class ViewSpec:
    module: str
    cls: str
    title: str
    icon: str
    mode: str = "all"  # "all"; "clinician": clinician vaults only; "sync": when sync is on
    after: str = ""  # the sidebar lists it after this screen (VIEWS order keeps Ctrl+1…0)

    def build(self, session: Session) -> View:
        module = importlib.import_module(f"ohvault.gui.views.{self.module}")
        view: View = getattr(module, self.cls)(session)
        return view


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("dashboard", "DashboardView", "Dashboard", "dashboard"),
    ViewSpec("results", "ResultsView", "Results", "results"),
    ViewSpec("importer", "ImportView", "Import", "import"),
    ViewSpec("trends", "TrendsView", "Trends", "trends"),
    ViewSpec("documents", "DocumentsView", "Documents", "documents"),
    ViewSpec("records", "MedicationsView", "Medications", "medications"),
    ViewSpec("records", "ConditionsView", "Conditions & allergies", "conditions"),
    ViewSpec("records", "ImmunizationsView", "Immunizations", "immunizations"),
    ViewSpec("audit", "AuditView", "Audit log", "audit"),
    ViewSpec("settings", "SettingsView", "Settings", "settings"),
    # Appended so that Ctrl+1…0 keep their screens; the sidebar lists Patients first.
    ViewSpec("patients", "PatientsView", "Patients", "patients", mode="clinician"),
    ViewSpec("conflicts", "ConflictsView", "Sync conflicts", "sync", mode="sync"),
    ViewSpec("records", "NotesView", "Notes", "edit", after="Immunizations"),
)


def sidebar_order() -> list[int]:
    """VIEWS indexes in sidebar order: clinician screens first, `after` screens in place."""
    placed = [i for i, v in enumerate(VIEWS) if not v.after]
    order = [i for i in placed if VIEWS[i].mode == "clinician"] + [
        i for i in placed if VIEWS[i].mode != "clinician"
    ]
    for i, spec in enumerate(VIEWS):
        if spec.after:
            anchor = next((n for n, j in enumerate(order) if VIEWS[j].title == spec.after), None)
            order.insert(len(order) if anchor is None else anchor + 1, i)
    return order
