"""`ohvault doctor`: the vault's health checks, each with a plain verdict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ohvault import logs
from ohvault.errors import OhvaultError
from ohvault.keys.header import VaultHeader
from ohvault.keys.keychain import Keychain, KeyStore
from ohvault.storage.migrations import LATEST_VERSION
from ohvault.vault import Credentials, Vault, VaultFiles
from ohvault.vault.backup import backup_age_seconds
from ohvault.vault.defaults import DEFAULT_INTERVAL_HOURS


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def run_checks(
    home: Path, credentials: Credentials, *, keychain: KeyStore | None = None
) -> list[Check]:
    keychain = keychain or Keychain()
    files = VaultFiles(home)
    checks: list[Check] = []
    status = keychain.status()
    if status.available:
        detail = f"{status.backend}"
        try:
            header = VaultHeader.load(files.header)
            has_entry = keychain.get(header.vault_id) is not None
            detail += ", holds this vault's key" if has_entry else ", no entry for this vault"
        except OhvaultError as exc:
            detail += f" ({exc.message})"
        checks.append(Check("keychain", True, detail))
    else:
        checks.append(
            Check("keychain", False, f"{status.reason} ({status.backend}); passphrase mode")
        )
    if not files.exists():
        checks.append(Check("vault", False, f"no vault at {home}"))
        return checks
    try:
        vault = Vault.open(home, credentials, keychain=keychain, auto_backup=False)
    except OhvaultError as exc:
        checks.append(Check("database opens", False, exc.message))
        return checks
    with vault:
        checks.append(
            Check("database opens", True, f"unlocked with {vault.unlock_report.method.value}")
        )
        cipher = vault.db.execute("PRAGMA cipher_integrity_check").fetchall()
        checks.append(
            Check(
                "cipher_integrity_check",
                not cipher,
                "clean" if not cipher else f"{len(cipher)} damaged page(s)",
            )
        )
        result = vault.db.execute("PRAGMA integrity_check").fetchall()
        ok = result == [("ok",)]
        checks.append(Check("integrity_check", ok, "ok" if ok else f"{len(result)} problem(s)"))
        version = vault.schema_version()
        checks.append(
            Check("schema", version == LATEST_VERSION, f"version {version} of {LATEST_VERSION}")
        )
        report = vault.audit.verify()
        checks.append(
            Check("audit chain", report.ok, f"{report.reason} ({report.entries} entries)")
        )
        age = backup_age_seconds(vault)
        interval_h = float(
            vault.get_setting("backup_interval_hours", str(DEFAULT_INTERVAL_HOURS)) or 0
        )
        limit_h = max(48.0, 2 * interval_h)
        if age is None:
            checks.append(Check("last backup", False, "no backup yet: run ohvault backup"))
        else:
            hours = age / 3600
            checks.append(
                Check(
                    "last backup",
                    hours <= limit_h,
                    f"{hours:.1f} hours ago (limit {limit_h:.0f} h)",
                )
            )
        if vault.header.recovery_unconfirmed:
            checks.append(
                Check(
                    "recovery key",
                    False,
                    "a key rotation finished after a crash: run ohvault key new-recovery-key",
                )
            )
        else:
            checks.append(Check("recovery key", True, "set"))
    checks.append(Check("log file", True, str(logs.setup_logging())))
    return checks
