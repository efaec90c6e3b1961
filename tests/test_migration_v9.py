"""v9: documents gain a title, a kind and a date; the sync shadow trigger carries them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ohvault.keys.secret import SecretKey
from ohvault.model import Document
from ohvault.storage import capture
from ohvault.storage import db as dbmod
from ohvault.storage.codec import columns, from_row, quoted
from ohvault.storage.migrations import MIGRATIONS, migrate

V9 = next(i for i, m in enumerate(MIGRATIONS) if m.version == 9)
BEFORE = MIGRATIONS[V9 - 1].version

ROWS = (
    "INSERT INTO profiles (id, name, created_at, updated_at) VALUES "
    "('p1', 'Old Timer', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
    "INSERT INTO documents (id, profile_id, created_at, updated_at, provenance, deleted, "
    "filename, media_type, sha256, size, description) VALUES ('d1', 'p1', "
    "'2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00', 'lab_pdf', 0, 'labs.pdf', "
    "'application/pdf', 'ab', 2, 'Lab report')",
)


@pytest.fixture
def db_before_v9(tmp_path: Path) -> Iterator[dbmod.Database]:
    """A real SQLCipher database at the migration before v9, holding a document."""
    path = tmp_path / "vault.db"
    db = dbmod.Database(dbmod.connect(path, SecretKey.generate(), create=True), path)
    migrate(db, target=BEFORE)
    for sql in ROWS:
        db.execute(sql)
    yield db
    db.close()


def test_v9_adds_document_columns_and_keeps_rows(db_before_v9: dbmod.Database) -> None:
    applied = migrate(db_before_v9)
    assert 9 in applied
    row = db_before_v9.execute(
        f"SELECT {quoted(columns(Document))} FROM documents WHERE id = 'd1'"  # noqa: S608
    ).fetchone()
    doc = from_row(Document, row)
    assert (doc.filename, doc.description, doc.size) == ("labs.pdf", "Lab report", 2)
    assert (doc.title, doc.kind, doc.document_date) == (None, None, None)


def test_v9_sync_shadow_keeps_the_new_columns(db_before_v9: dbmod.Database) -> None:
    db = db_before_v9
    migrate(db)
    db.execute("UPDATE sync_clock SET enabled = 1, node = 'n1' WHERE id = 1")
    capture.install(db)  # what turning sync on does (the triggers exist only then)
    db.execute("UPDATE documents SET title = 'Discharge letter', kind = 'letter' WHERE id = 'd1'")
    db.execute("UPDATE documents SET document_date = '2020-02-03' WHERE id = 'd1'")
    shadow = db.execute(
        "SELECT data FROM sync_shadow WHERE tbl = 'documents' AND record_id = 'd1'"
    ).fetchone()
    base = json.loads(shadow[0])
    # The base of a three-way merge is the row before the first pending change, new columns too.
    assert base["title"] is None and base["kind"] is None and "document_date" in base
    assert base["filename"] == "labs.pdf"
    pending = db.execute(
        "SELECT count(*) FROM sync_changes WHERE tbl = 'documents' AND record_id = 'd1'"
    ).fetchone()[0]
    assert pending == 1
