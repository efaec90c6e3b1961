"""Documents: attach a letter or an image, see it in the app, a list that tells files apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QImage

from tests.gui.conftest import populate, wait_idle
from tests.vault.test_documents import _pdf


def _png(path: Path, colour: str) -> Path:
    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path), "PNG")
    return path


def test_attach_view_and_tell_apart(qtbot: Any, unlocked: Any, tmp_path: Path) -> None:
    window = unlocked
    populate(qtbot, window)
    window.show_view("Documents")
    wait_idle(qtbot, window)
    view = window.view("Documents")
    # Nothing selected: nothing to edit, export or delete.
    assert not view.export_button.isEnabled()
    assert not view.delete_button.isEnabled() and not view.edit_button.isEnabled()
    # The imported lab report reads as one: its lab and report date, not just a file name.
    [lab] = view.model.rows
    assert lab.lab == "Example Laboratory Services" and lab.kind == "Lab report"
    assert view.model.data(view.model.index(0, 0)) == lab.date.isoformat()

    one, two = tmp_path / "a", tmp_path / "b"
    one.mkdir()
    two.mkdir()
    first = _png(one / "scan.png", "#336699")
    second = _png(two / "scan.png", "#993366")
    job = view.attach(first, "Chest X-ray report", "imaging", None)
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    job = view.attach(second, "", "imaging", None)
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    wait_idle(qtbot, window)
    assert view.model.rowCount() == 3
    scans = [e for e in view.model.rows if e.document.filename == "scan.png"]
    assert len(scans) == 2
    # Two files with one name read differently: title and fingerprint differ.
    texts = {view.model.data(view.model.index(view.model.rows.index(e), 1)) for e in scans}
    assert texts == {"Chest X-ray report", "scan"}
    tips = {
        view.model.data(view.model.index(view.model.rows.index(e), 4), 3)  # ToolTipRole
        for e in scans
    }
    assert len(tips) == 2 and all("Fingerprint" in t for t in tips)

    view.select(scans[0].document.id)
    wait_idle(qtbot, window)
    assert view.export_button.isEnabled() and view.delete_button.isEnabled()
    assert view.right.currentWidget() is view.image_scroll
    assert view.image.pixmap() is not None and not view.image.pixmap().isNull()

    # The same file again is recognised, not stored twice.
    job = view.attach(first, "again", "other", None)
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    wait_idle(qtbot, window)
    assert view.model.rowCount() == 3
    assert "already in the vault" in window.statusBar().currentMessage()

    # Something that is neither a PDF nor an image is refused with a clear message.
    errors: list[str] = []
    window.session.bridge.message.connect(lambda m: errors.append(m.text))
    text = tmp_path / "notes.pdf"
    text.write_text("not really a pdf")
    job = view.attach(text, "", "other", None)
    qtbot.waitUntil(lambda: job.finished, timeout=10_000)
    wait_idle(qtbot, window)
    assert view.model.rowCount() == 3 and "not a PDF or an image" in errors[-1]


def test_attach_dialog_and_edit_details(
    qtbot: Any, unlocked: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QFileDialog

    window = unlocked
    window.show_view("Documents")
    wait_idle(qtbot, window)
    view = window.view("Documents")
    letter = tmp_path / "clinic-letter.pdf"
    letter.write_bytes(_pdf("Letter from the clinic"))
    seen: list[str] = []

    def pick(parent: Any, caption: str, folder: str, filters: str) -> tuple[list[str], str]:
        seen.append(folder)
        return [str(letter)], filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", pick)
    dialog = view.attach_dialog()
    assert seen and Path(seen[0]) != Path.cwd()  # the documents folder, not the working dir
    assert dialog.title.text() == "clinic-letter"
    dialog.kind.setCurrentIndex(dialog.kind.findData("letter"))
    dialog.accept()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    wait_idle(qtbot, window)
    [entry] = view.model.rows
    assert entry.kind == "Letter" and entry.title == "clinic-letter"
    assert view.right.currentWidget() is view.placeholder  # nothing selected yet
    view.select(entry.document.id)
    wait_idle(qtbot, window)
    assert view.right.currentWidget() is view.viewer
    edit = view.edit_selected()
    edit.title.setText("Letter from Dr Example")
    edit.accept()
    qtbot.waitUntil(
        lambda: view.model.rowCount() == 1 and view.model.rows[0].title == "Letter from Dr Example",
        timeout=10_000,
    )


def test_dropped_images_are_attached_and_pdfs_on_documents_too(
    qtbot: Any, unlocked: Any, tmp_path: Path
) -> None:
    from tests.gui.test_import_and_dashboard import _drop

    window = unlocked
    image = _png(tmp_path / "rash-photo.png", "#aa5533")
    _drop(window, [image])
    qtbot.waitUntil(lambda: window.current_view.title == "Documents", timeout=5_000)
    view = window.view("Documents")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    assert view.model.rows[0].title == "rash-photo"
    letter = tmp_path / "referral.pdf"
    letter.write_bytes(_pdf("Referral letter"))
    _drop(window, [letter])  # on Documents: attached, not sent to the lab import
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)
    assert window.current_view is view
