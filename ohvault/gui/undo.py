"""Undoable edits: each command does its work on the executor and announces the change."""

from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from ohvault.changes import Change
from ohvault.gui.tasks import Executor, JobContext
from ohvault.model import Record
from ohvault.storage.codec import columns, row_values
from ohvault.storage.repository import FIXED_FIELDS


class DeleteRecord(QUndoCommand):
    def __init__(self, executor: Executor, record: Record, what: str) -> None:
        super().__init__(f"Delete {what}")
        self.executor = executor
        self.record = record

    def redo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.delete(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(op, writes={Change.of_record(rec.TYPE)}, label=self.text())

    def undo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.restore_deleted(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(
            op, writes={Change.of_record(rec.TYPE)}, label=f"Undo {self.text().lower()}"
        )


class EditRecord(QUndoCommand):
    """Writes only the fields the person changed; undo writes back only those.

    A field that sync changed meanwhile is left alone, and a field the person edited that
    sync changed too is refused as a conflict (`ConcurrentEdit`) instead of being reverted.
    """

    def __init__(self, executor: Executor, before: Record, after: Record, what: str) -> None:
        super().__init__(f"Edit {what}")
        self.executor = executor
        self.before = copy.copy(before)
        self.after = copy.copy(after)
        self.changed = edited_fields(before, after)

    def _save(self, record: Record, expected: Record, label: str) -> None:
        rec, was, changed = copy.copy(record), copy.copy(expected), set(self.changed)

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.update_fields(rec, changed, expected=was)

        self.executor.run(op, writes={Change.of_record(rec.TYPE)}, label=label)

    def redo(self) -> None:
        self._save(self.after, self.before, self.text())

    def undo(self) -> None:
        self._save(self.before, self.after, f"Undo {self.text().lower()}")


def edited_fields(before: Record, after: Record) -> set[str]:
    """The fields an edit changed (identity and bookkeeping fields never count)."""
    cols = columns(type(before))
    was = dict(zip(cols, row_values(before), strict=True))
    now = dict(zip(cols, row_values(after), strict=True))
    return {c for c in cols if c not in FIXED_FIELDS and was[c] != now[c]}


class AddRecord(QUndoCommand):
    def __init__(self, executor: Executor, record: Record, what: str) -> None:
        super().__init__(f"Add {what}")
        self.executor = executor
        self.record = record
        self._added = False

    def redo(self) -> None:
        rec = self.record
        first = not self._added
        self._added = True

        def op(ctx: JobContext) -> None:
            if first:
                ctx.vault.repo.add(rec)
            else:
                ctx.vault.repo.restore_deleted(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(op, writes={Change.of_record(rec.TYPE)}, label=self.text())

    def undo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.delete(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(
            op, writes={Change.of_record(rec.TYPE)}, label=f"Undo {self.text().lower()}"
        )
