"""Clinician mode (issue 5): patients, my key (QR), bundle import with trust and key change."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication

from ohvault.bundles.export import plan_export, write_bundle
from ohvault.gui.bundle_import import MyKeyDialog
from ohvault.gui.provenance import READ_ONLY_TIP
from ohvault.model import Observation
from ohvault.vault import Vault
from tests.gui.conftest import PASSPHRASE, wait_idle


def test_clinician_imports_bundles_trusts_first_key_and_warns_when_it_changes(
    qtbot: Any,
    make_window: Any,
    make_vault: Any,
    vault_home: Path,
    fast_kdf: Any,
    keychain: Any,
    tmp_path: Path,
) -> None:
    clinic, _ = Vault.create(
        vault_home, passphrase=PASSPHRASE, kind="clinician", kdf=fast_kdf, keychain=keychain
    )
    clinic.lock()
    patient, _ = make_vault(home=tmp_path / "patient", profile_name="Alex Example")
    pid = patient.repo.profiles()[0].id
    patient.repo.add(
        Observation(
            profile_id=pid, analyte="Glucose", value_num=6.4, unit="mmol/L",
            ref_high=5.6, flag="H", effective=date(2025, 3, 1),
        )
    )  # fmt: skip

    window = make_window()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    # The sidebar lists patients instead of the personal profile switcher.
    assert window.session.is_clinician and window.current_view.title == "Patients"
    assert not window.profile_box.isVisible() and window.patient_label.isVisible()
    assert not window.nav.isRowHidden(0) and window.nav.item(0).text() == "Patients"
    view = window.view("Patients")
    assert view.stack.currentWidget() is view.empty

    window.show_my_key()
    qtbot.waitUntil(lambda: bool(window.findChildren(MyKeyDialog)), timeout=10_000)
    dialog = window.findChildren(MyKeyDialog)[-1]
    key = dialog.key_text.text()
    assert key.startswith("age1") and not dialog.qr.pixmap().isNull()
    assert dialog.qr.pixmap().width() > 150  # a scannable code, rendered from memory
    dialog.copy()
    assert QGuiApplication.clipboard().text() == key
    dialog.accept()

    first = tmp_path / "first.ohvbundle"
    sent = write_bundle(patient, plan_export(patient, pid), first, recipients=[key])
    questions: list[tuple[str, str]] = []
    answers = [True]
    window.session.bridge.answer = lambda t, x: questions.append((t, x)) is None and answers[-1]
    window.import_bundle([first])
    qtbot.waitUntil(lambda: len(view.patients) == 1, timeout=15_000)
    wait_idle(qtbot, window)
    assert questions[0][0] == "Trust this sender?"
    assert sent.sender_fingerprint in questions[0][1]
    row = view.patients[0]
    assert row.sender_fingerprint == sent.sender_fingerprint and row.last_import
    assert window.session.profile.name == "Alex Example"
    assert window.patient_label.text() == "Viewing: Alex Example"

    # Imported records are read-only and say where they came from.
    results = window.view("Results")
    window.show_view("Results")
    wait_idle(qtbot, window)
    results.table.selectRow(0)
    wait_idle(qtbot, window)
    assert not results.edit_button.isEnabled() and not results.delete_button.isEnabled()
    assert results.edit_button.toolTip() == READ_ONLY_TIP
    assert results.edit_selected() is None
    assert sent.bundle_id[:8] in results.provenance.text()
    assert sent.sender_fingerprint in results.provenance.text()

    # The patient's vault gets a new signing key: refused first, accepted after checking.
    with patient.db.transaction():
        patient.db.execute("DELETE FROM meta WHERE key LIKE 'identity:%'")
    second = tmp_path / "second.ohvbundle"
    again = write_bundle(patient, plan_export(patient, pid), second, recipients=[key])
    questions.clear()
    answers.append(False)
    window.import_bundle([second])
    qtbot.waitUntil(lambda: bool(questions), timeout=15_000)
    wait_idle(qtbot, window)
    title, text = questions[0]
    assert "CHANGED" in title
    assert sent.sender_fingerprint in text and again.sender_fingerprint in text
    assert view.last_result is None and view.patients[0].key_changes == 0
    questions.clear()
    answers.append(True)
    window.import_bundle([second])
    qtbot.waitUntil(lambda: view.last_result is not None, timeout=15_000)
    wait_idle(qtbot, window)
    assert "CHANGED" in questions[0][0] and view.last_result.trust == "changed"
    window.show_view("Patients")
    wait_idle(qtbot, window)
    assert view.patients[0].sender_fingerprint == again.sender_fingerprint
    assert view.patients[0].key_changes == 1
    view.table.selectRow(0)
    wait_idle(qtbot, window)
    assert "signing key changed (accepted)" in view.history.text()
