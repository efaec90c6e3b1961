"""Where a record came from, and why records from a patient's bundle are read-only.

A clinician's copy of a patient's records must stay what the patient sent: a
newer bundle from them updates it, and an edit here would silently diverge. So
edit and delete are disabled for `provenance: bundle`, with a tooltip saying why,
and the selected record's bundle (which, when, signed by whom) is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QAbstractButton, QLabel

from ohvault.gui.tasks import JobContext

if TYPE_CHECKING:
    from ohvault.gui.session import Session

READ_ONLY_TIP = (
    "Read-only: imported from the patient's signed bundle. A newer bundle from them updates it."
)


def is_read_only(record: Any) -> bool:
    from ohvault.model import Provenance

    return getattr(record, "provenance", None) == Provenance.BUNDLE


def set_editable(buttons: list[QAbstractButton], record: Any, tips: dict[int, str]) -> None:
    """Enable edit/delete buttons for `record`; a bundle record disables them with the reason."""
    locked = record is not None and is_read_only(record)
    for btn in buttons:
        key = id(btn)
        if key not in tips:
            tips[key] = btn.toolTip()
        btn.setEnabled(record is not None and not locked)
        btn.setToolTip(READ_ONLY_TIP if locked else tips[key])


def describe_import(item: Any) -> str:
    """One line for a BundleImport (no PHI: ids, dates, fingerprints)."""
    when = str(item.imported_at)[:16].replace("T", " ")
    made = str(item.bundle_created_at)[:10]
    text = (
        f"From bundle {item.bundle_id[:8]} (made {made}), imported {when}, "
        f"signed by {item.sender_fingerprint}"
    )
    if item.key_changed:
        text += " — signing key changed (accepted)"
    if not item.addressed_to_us:
        text += " — forwarded by someone else"
    return text


class ProvenanceLine(QLabel):
    """Shows the provenance of the selected record (loaded on the worker)."""

    def __init__(self, session: Session) -> None:
        super().__init__("")
        self.session = session
        self.setObjectName("muted")
        self.setWordWrap(True)
        self.setAccessibleName("Provenance")
        # Always in the layout (empty when there is nothing to say) so the buttons beside it
        # keep their place.
        self._wanted: str | None = None

    def show_for(self, record: Any) -> None:
        if record is None or not is_read_only(record):
            self._wanted = None
            self.clear()
            self.setToolTip("")
            return
        pid = self.session.profile_id
        self._wanted = record.id

        def op(ctx: JobContext) -> str:
            from ohvault.bundles.patients import record_provenance
            from ohvault.errors import RecordNotFound

            try:
                return describe_import(record_provenance(ctx.vault, pid, record))  # type: ignore[arg-type]
            except RecordNotFound:
                return "From a patient's bundle (its import record is missing)."

        def done(text: str, rid: str = record.id) -> None:
            if self._wanted == rid:
                self.setText("Read-only. " + text)
                self.setToolTip(READ_ONLY_TIP)

        self.session.executor.run(op, success=done, label="Reading provenance")
