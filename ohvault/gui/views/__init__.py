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
)
