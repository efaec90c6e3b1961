"""Undoable edits: each command does its work on the executor and announces the change."""

from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from ohvault.gui.tasks import Executor, JobContext
from ohvault.model import Record


class DeleteRecord(QUndoCommand):
    def __init__(self, executor: Executor, record: Record, what: str) -> None:
        super().__init__(f"Delete {what}")
        self.executor = executor
        self.record = record

    def redo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.delete(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(op, writes={rec.TYPE.value}, label=self.text())

    def undo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.restore_deleted(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(op, writes={rec.TYPE.value}, label=f"Undo {self.text().lower()}")


class EditRecord(QUndoCommand):
    def __init__(self, executor: Executor, before: Record, after: Record, what: str) -> None:
        super().__init__(f"Edit {what}")
        self.executor = executor
        self.before = copy.copy(before)
        self.after = copy.copy(after)

    def _save(self, record: Record, label: str) -> None:
        rec = copy.copy(record)

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.update(rec)

        self.executor.run(op, writes={rec.TYPE.value}, label=label)

    def redo(self) -> None:
        self._save(self.after, self.text())

    def undo(self) -> None:
        self._save(self.before, f"Undo {self.text().lower()}")


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

        self.executor.run(op, writes={rec.TYPE.value}, label=self.text())

    def undo(self) -> None:
        rec = self.record

        def op(ctx: JobContext) -> None:
            ctx.vault.repo.delete(rec.TYPE, rec.profile_id, rec.id)

        self.executor.run(op, writes={rec.TYPE.value}, label=f"Undo {self.text().lower()}")
