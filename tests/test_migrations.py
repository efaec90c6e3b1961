"""Every earlier schema version migrates to the latest with its data intact."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import FAST_KDF
from ohvault.keys.keychain import KeyStore
from ohvault.keys.secret import SecretKey
from ohvault.storage import capture
from ohvault.storage import db as dbmod
from ohvault.storage.migrations import LATEST_VERSION, MIGRATIONS, current_version, migrate
from ohvault.vault import Vault

# Rows that are valid at schema version 1 and must survive every later migration.
V1_ROWS = [
    "INSERT INTO profiles (id, name, birth_date, sex, created_at, updated_at) VALUES "
    "('p1', 'Old Timer', '1950-01-01', 'female', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
    "INSERT INTO observations (id, profile_id, created_at, updated_at, provenance, deleted, analyte, loinc, "
    "value_num, unit, effective, status) VALUES ('o1', 'p1', '2020-01-01T00:00:00+00:00', "
    "'2020-01-01T00:00:00+00:00', 'manual', 0, 'Glucose', '2345-7', 99.0, 'mg/dL', '2020-01-01', 'final')",
]


def build_vault_at(version: int, home: Path, keychain: KeyStore) -> str:
    """A real vault whose database stops at `version`, holding V1_ROWS."""
    vault, _ = Vault.create(home, kdf=FAST_KDF, keychain=keychain)
    vault_id = vault.vault_id
    key = SecretKey(vault.data_key().raw())
    vault.lock()
    # Rebuild the database from scratch at the requested version, under the same key.
    (home / "vault.db").unlink()
    conn = dbmod.connect(home / "vault.db", key, create=True)
    db = dbmod.Database(conn, home / "vault.db")
    migrate(db, target=version)
    for sql in V1_ROWS:
        db.execute(sql)
    db.execute("INSERT INTO meta(key, value) VALUES ('vault_id', ?)", (vault_id,))
    db.close()
    return vault_id


@pytest.mark.parametrize("version", [m.version for m in MIGRATIONS[:-1]])
def test_migrates_from_each_earlier_version(
    version: int, vault_home: Path, memory_keychain: KeyStore
) -> None:
    build_vault_at(version, vault_home, memory_keychain)
    with Vault.open(vault_home, keychain=memory_keychain) as vault:
        assert vault.schema_version() == LATEST_VERSION
        assert vault.unlock_report.migrated == [
            m.version for m in MIGRATIONS if m.version > version
        ]
        observations = vault.repo.observations("p1")
        assert [(o.analyte, o.value_num, o.unit, o.effective) for o in observations] == [
            ("Glucose", 99.0, "mg/dL", date(2020, 1, 1))
        ]
        assert vault.repo.profile("p1").birth_date == date(1950, 1, 1)
        backups = list((vault_home / "backups").glob(f"pre-migration-v{version}-*.ohvbackup"))
        assert len(backups) == 1, "an automatic backup is taken before migrating"
    Vault.destroy(vault_home, keychain=memory_keychain, with_backups=True)


def test_failed_migration_rolls_back_completely(
    vault_home: Path, memory_keychain: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_vault_at(1, vault_home, memory_keychain)
    from ohvault.storage import migrations

    def explode(db: dbmod.Database) -> None:
        db.execute("ALTER TABLE observations ADD COLUMN category TEXT")
        raise RuntimeError("simulated failure halfway through a migration")

    broken = tuple(
        migrations.Migration(m.version, m.description, explode) if m.version == 2 else m
        for m in MIGRATIONS
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        Vault.open(vault_home, keychain=memory_keychain)
    monkeypatch.undo()
    # The half-added column was rolled back: the real migration adds it again without error.
    with Vault.open(vault_home, keychain=memory_keychain) as vault:
        assert current_version(vault.db) == LATEST_VERSION
        assert len(vault.repo.observations("p1")) == 1
    Vault.destroy(vault_home, keychain=memory_keychain, with_backups=True)


def test_v6_adds_name_mappings_and_observation_columns_that_sync(
    vault_home: Path, memory_keychain: KeyStore
) -> None:
    index = next(i for i, m in enumerate(MIGRATIONS) if m.version == 6)
    build_vault_at(MIGRATIONS[index - 1].version, vault_home, memory_keychain)
    with Vault.open(vault_home, keychain=memory_keychain) as vault:
        assert 6 in vault.unlock_report.migrated
        cols = {r[1] for r in vault.db.execute("PRAGMA table_info(observations)").fetchall()}
        assert {"printed_name", "value_canonical", "unit_canonical"} <= cols
        old = vault.repo.observations("p1")[0]
        assert old.printed_name is None and old.value_canonical is None  # old rows stay valid
        from ohvault.importing import teach_mapping

        mapping = teach_mapping(vault, "Gluc fasting", analyte="Glucose")
        assert [m.id for m in vault.repo.name_mappings()] == [mapping.id]
        # The sync update trigger keeps the new columns in the merge base (shadow row).
        vault.db.execute("UPDATE sync_clock SET enabled = 1, node = 'n' WHERE id = 1")
        capture.install(vault.db)  # what turning sync on does (the triggers exist only then)
        vault.db.execute(
            "UPDATE observations SET printed_name = 'GLU', value_canonical = 99 WHERE id = 'o1'"
        )
        vault.db.execute("UPDATE observations SET printed_name = 'GLU2' WHERE id = 'o1'")
        shadow = vault.db.execute(
            "SELECT data FROM sync_shadow WHERE tbl = 'observations' AND record_id = 'o1'"
        ).fetchone()
        import json

        base = json.loads(shadow[0])
        assert "printed_name" in base and base["printed_name"] is None
        assert "unit_canonical" in base
    Vault.destroy(vault_home, keychain=memory_keychain, with_backups=True)
