"""Migration v7 from the version before it: new columns, import keys, sync carries them."""

from __future__ import annotations

import json
from pathlib import Path

from test_migrations import build_vault_at

from ohvault.keys.keychain import Keychain
from ohvault.model import Immunization, Observation
from ohvault.storage import capture
from ohvault.storage.migrations import MIGRATIONS
from ohvault.vault import Vault

MINE = next(i for i, m in enumerate(MIGRATIONS) if m.version == 7)


def test_v7_from_the_migration_before(vault_home: Path, keychain: Keychain) -> None:
    build_vault_at(MIGRATIONS[MINE - 1].version, vault_home, keychain)
    try:
        with Vault.open(vault_home) as vault:
            assert 7 in vault.unlock_report.migrated
            [old] = vault.repo.records(Observation, "p1")
            assert old.codings == [] and old.components == [] and old.effective_at is None
            cols = {r[1] for r in vault.db.execute("PRAGMA table_info(immunizations)").fetchall()}
            assert {"status", "status_reason", "codings"} <= cols
            imm = vault.repo.add(
                Immunization(
                    profile_id="p1", vaccine="Influenza", occurrence=old.effective,
                    status="not-done", status_reason="Patient objection",
                    codings=[{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}],
                )
            )  # fmt: skip
            back = vault.repo.get(Immunization, "p1", imm.id)
            assert (back.status, back.status_reason, back.codings) == (
                "not-done", "Patient objection", imm.codings,
            )  # fmt: skip
            # Sync's update trigger keeps a shadow with the new columns too.
            vault.db.execute("UPDATE sync_clock SET enabled = 1, node = 'n' WHERE id = 1")
            capture.install(vault.db)  # what turning sync on does
            back.status_reason = "Changed"
            vault.repo.update(back)
            shadow = vault.db.execute(
                "SELECT data FROM sync_shadow WHERE tbl = 'immunizations' AND record_id = ?",
                (imm.id,),
            ).fetchone()
            assert shadow is not None
            assert json.loads(shadow[0])["status_reason"] == "Patient objection"
            assert vault.db.execute("SELECT count(*) FROM fhir_import_keys").fetchone()[0] == 0
    finally:
        Vault.destroy(vault_home, keychain=keychain, with_backups=True)
