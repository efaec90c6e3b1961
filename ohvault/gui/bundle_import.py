"""Clinician side: show my public key (text + QR), import a patient's bundle.

Importing runs twice on the worker: first a dry run (decrypt, verify the
signature and every entry, store nothing) so the clinician sees the sender's
fingerprint and trust state before anything is stored, then the import itself.
A new sender is trusted only after a yes; a known patient whose key changed
gets a prominent warning with both fingerprints and must accept explicitly, and
so does a new sender whose patient has a known patient's name and birth date
(a look-alike), which can only become a separate patient.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QDialog, QInputDialog, QLabel, QLineEdit, QVBoxLayout, QWidget

from ohvault.changes import Change
from ohvault.errors import Cancelled
from ohvault.gui.tasks import Job, JobContext
from ohvault.gui.widgets import button, label

if TYPE_CHECKING:
    from ohvault.gui.session import Session

BUNDLE_SUFFIX = ".ohvbundle"


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    """A QR code rendered by segno to PNG in memory (never a temp file)."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=3)
    pixmap = QPixmap()
    pixmap.loadFromData(buf.getvalue(), "PNG")
    return pixmap


class MyKeyDialog(QDialog):
    """The vault's age public key as text and QR code, with Copy."""

    def __init__(self, parent: QWidget | None, summary: dict[str, str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("My public key")
        self.setAccessibleName("My public key")
        self.summary = summary
        col = QVBoxLayout(self)
        col.addWidget(label("My public key", "h1"))
        col.addWidget(
            label(
                "Patients encrypt the bundles they share with you to this key. It is public: "
                "give it out freely (scan the code, or copy the text into an e-mail).",
                "muted",
                wrap=True,
            )
        )
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setAccessibleName("Public key QR code")
        self.qr.setPixmap(qr_pixmap(summary["age_public_key"]))
        col.addWidget(self.qr)
        self.key_text = QLineEdit(summary["age_public_key"])
        self.key_text.setReadOnly(True)
        self.key_text.setAccessibleName("Public key")
        self.key_text.setMinimumWidth(520)
        col.addWidget(self.key_text)
        col.addWidget(
            label(
                f"Key fingerprint: {summary['age_fingerprint']}\n"
                f"Signing fingerprint: {summary['signing_fingerprint']}",
                "muted",
            )
        )
        self.copy_button = button("Copy", icon="copy", tip="Copy the public key")
        self.copy_button.clicked.connect(self.copy)
        close = button("Close", primary=True)
        close.clicked.connect(self.accept)
        row = QVBoxLayout()
        row.addWidget(self.copy_button)
        row.addWidget(close)
        col.addLayout(row)

    def copy(self) -> None:
        # Public, so a plain copy (no secret hint, no timed clearing).
        QGuiApplication.clipboard().setText(self.summary["age_public_key"])


def show_my_key(parent: QWidget, session: Session) -> Job:
    def op(ctx: JobContext) -> dict[str, str]:
        from ohvault import identity

        return identity.public_summary(identity.load_or_create(ctx.vault))

    def done(summary: dict[str, str]) -> None:
        MyKeyDialog(parent, summary).open()

    return session.executor.run(op, success=done, label="Reading my public key")


class BundleImporter(QObject):
    """One bundle file at a time: dry run → trust decision → import."""

    finished = Signal(object)  # ImportResult, or None when stopped
    progressed = Signal(int, int)

    def __init__(self, parent: QWidget, session: Session) -> None:
        super().__init__(parent)
        self.session = session
        self.parent_widget = parent
        self.job: Job | None = None
        # Tests (and scripted runs) give the bundle passphrase here instead of a dialog.
        self.passphrase_provider: Callable[[Path], str | None] | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, path: Path) -> None:
        if self.job is not None:
            self.session.notify.emit("A bundle is already being imported.")
            return
        try:
            from ohvault.bundles.age import HEAD_BYTES, recipient_kind

            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)

            kind = recipient_kind(head)
        except OSError as exc:
            self.session.bridge.error("Importing the bundle", exc)
            self.finished.emit(None)
            return
        except Exception as exc:  # BadBundle: not an age file
            self.session.bridge.error("Importing the bundle", exc)
            self.finished.emit(None)
            return
        passphrase: str | None = None
        if kind == "scrypt":
            passphrase = self._ask_passphrase(path)
            if passphrase is None:
                self.finished.emit(None)
                return
        self._run(path, passphrase, dry_run=True, accept=False)

    def _ask_passphrase(self, path: Path) -> str | None:
        if self.passphrase_provider is not None:
            return self.passphrase_provider(path)
        if not self.session.bridge.interactive:
            return None
        text, ok = QInputDialog.getText(
            self.parent_widget,
            "Bundle passphrase",
            "This bundle is protected by a passphrase. The patient gave it to you separately:",
            QLineEdit.EchoMode.Password,
        )
        return text if ok and text else None

    def _run(
        self,
        path: Path,
        passphrase: str | None,
        *,
        dry_run: bool,
        accept: bool,
        lookalike: bool = False,
    ) -> None:
        def op(ctx: JobContext) -> Any:
            from ohvault.bundles.importer import import_bundle

            return import_bundle(
                ctx.vault,
                path,
                passphrase=passphrase,
                accept_key_change=accept,
                accept_lookalike=lookalike,
                dry_run=dry_run,
                progress=lambda done, total: ctx.progress(
                    done, total, "Checking the bundle" if dry_run else "Importing the bundle"
                ),
                should_cancel=ctx.cancelled,
            )

        self.job = self.session.executor.run(
            op,
            success=lambda r: self._checked(path, passphrase, r) if dry_run else self._imported(r),
            failure=lambda exc: self._failed(path, passphrase, exc),
            # A check changes nothing; an import adds the sender's profile and its records.
            writes=()
            if dry_run
            else {Change.PROFILE, Change.OBSERVATION, Change.DOCUMENT, Change.MEDICATION},
            label="Checking the bundle" if dry_run else "Importing the bundle",
        )
        self.job.progressed.connect(lambda d, t, _x: self.progressed.emit(d, t))
        self.job.done.connect(self._job_done)

    def _job_done(self) -> None:
        job, self.job = self.job, None
        if job is not None and job.is_cancelled() and isinstance(job.error, Cancelled):
            self.session.notify.emit("Bundle import cancelled; nothing was imported.")
            self.finished.emit(None)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _checked(self, path: Path, passphrase: str | None, result: Any) -> None:
        counts = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in result.counts.items() if n)
        lookalike = bool(result.lookalikes)
        warnings = "".join(f"\n\n⚠ {w}" for w in result.warnings if not lookalike)
        if lookalike:
            known = "\n".join(
                f"    {m.name}, born {m.birth_date or 'unknown'}: key "
                f"{m.sender_fingerprint or 'none (made in this vault)'}"
                for m in result.lookalikes
            )
            ok = self.session.bridge.confirm(
                "WARNING: a NEW key for a patient you already have",
                # The title is not shown everywhere (macOS): the warning leads the text too.
                "WARNING: a NEW key for a patient you already have.\n\n"
                "This bundle comes from a key you have never seen, but it names a patient with "
                "the SAME name and birth date as a patient you already have:\n\n"
                f"{known}\n\n    this bundle:  key {result.sender_fingerprint}\n\n"
                "Someone may be posing as your patient. Check with the patient in person or by "
                "phone before importing. If you import, it becomes a SEPARATE patient; nothing "
                f"is merged. It holds: {counts or 'no records'}. Nothing has been imported yet.",
                ok="Import as a separate patient",
                danger=True,
            )
            if not ok:
                self.session.notify.emit("Bundle not imported: it looks like a known patient.")
                self.finished.emit(None)
                return
            self._run(path, passphrase, dry_run=False, accept=False, lookalike=True)
            return
        if result.trust == "new":
            ok = self.session.bridge.confirm(
                "Trust this sender?",
                "This is the first bundle from this patient. It is signed by the key with "
                f"fingerprint\n\n    {result.sender_fingerprint}\n\n"
                "If you can, compare it with the patient (they see it when they share). "
                f"Trusting it pins this key for this patient. It holds: {counts or 'no records'}."
                + warnings,
                ok="Trust and import",
            )
        else:
            ok = True
            if result.warnings:
                ok = self.session.bridge.confirm(
                    "Import this bundle?",
                    f"Signed by the known key {result.sender_fingerprint}.{warnings}",
                    ok="Import",
                )
        if not ok:
            self.session.notify.emit("Bundle not imported.")
            self.finished.emit(None)
            return
        self._run(path, passphrase, dry_run=False, accept=False)

    def _failed(self, path: Path, passphrase: str | None, exc: BaseException) -> None:
        from ohvault.bundles.importer import KeyChanged

        if isinstance(exc, KeyChanged):
            accept = self.session.bridge.confirm(
                "WARNING: this patient's key has CHANGED",
                "This bundle names a patient you already have, but it is signed by a DIFFERENT "
                "key than their earlier bundles.\n\n"
                f"    known key:    {exc.old_fingerprint}\n"
                f"    this bundle:  {exc.new_fingerprint}\n\n"
                "Someone else may be sending records in this patient's name. Accept the new key "
                "only after checking it with the patient in person or by phone (for example, "
                "they set up a new computer). Nothing has been imported.",
                ok="Accept the new key and import",
                danger=True,
            )
            if accept:
                self._run(path, passphrase, dry_run=False, accept=True)
                return
            self.session.notify.emit("Bundle refused: the patient's key changed.")
            self.finished.emit(None)
            return
        self.session.bridge.error("Importing the bundle", exc)
        self.finished.emit(None)

    def _imported(self, result: Any) -> None:
        self.session.notify.emit(
            f"Bundle imported: {result.added} new, {result.updated} updated, "
            f"{result.deleted} deleted."
        )
        self.session.reload_profiles(select=result.profile_id)
        self.finished.emit(result)
