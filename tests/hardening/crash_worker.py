"""The operation a crash-safety test kills: run as ``python -m tests.hardening.crash_worker``.

    crash_worker OP HOME [ARGS...]

Opens the vault at HOME (keychain), prints ``ready``, then performs OP (once or in a loop),
printing ``done N`` after each complete operation. The test SIGKILLs it at a random moment
and then checks the vault: it opens, and each operation is either fully there or not at all.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from ohvault.model import Observation
from ohvault.vault import Vault


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def import_pdfs(vault: Vault, pdf_dir: str) -> None:
    from ohvault.importing import import_report
    from ohvault.labs import parse_pdf

    pid = vault.repo.profiles()[0].id
    for n, path in enumerate(sorted(Path(pdf_dir).glob("*.pdf")), 1):
        content = path.read_bytes()
        import_report(vault, pid, content, path.name, parse_pdf(content), confirm_identity=True)
        _say(f"done {n}")


def import_bundle(vault: Vault, bundle: str) -> None:
    from ohvault.bundles.importer import import_bundle as run

    run(vault, Path(bundle))
    _say("done 1")


def backups(vault: Vault, directory: str) -> None:
    from ohvault.vault.backup import create_backup

    for n in range(1, 1000):
        create_backup(vault, Path(directory))
        _say(f"done {n}")


def restores(vault: Vault, *files: str) -> None:
    from ohvault.vault import Credentials
    from ohvault.vault.backup import restore_backup

    home = vault.files.home
    vault.lock()  # restore replaces the files; it runs on a closed vault, as the CLI does
    for n in range(1, 1000):
        restore_backup(home, Path(files[n % len(files)]), Credentials())
        _say(f"done {n}")


def rotations(vault: Vault, passphrase: str) -> None:
    for n in range(1, 1000):
        vault.rotate_key(passphrase)
        _say(f"done {n}")


def syncs(vault: Vault, batch: str) -> None:
    from ohvault.sync import SyncClient

    client = SyncClient(vault, max_attempts=3, sleep=lambda _s: None)
    pid = vault.repo.profiles()[0].id
    for n in range(1, 1000):
        rows = [
            Observation(profile_id=pid, analyte="Glucose", value_num=float(n * 1000 + i),
                        unit="mg/dL", effective=date(2024, 1, 1))
            for i in range(int(batch))
        ]  # fmt: skip
        vault.repo.add_many(rows)
        report = client.sync(snapshot=False)
        _say(f"done {n} " + json.dumps({"pushed": report.pushed_records}))


OPS = {
    "import-pdf": import_pdfs,
    "import-bundle": import_bundle,
    "backup": backups,
    "restore": restores,
    "rotate": rotations,
    "sync": syncs,
}


# Imported before "ready" so the kill delay is spent in the operation, not in imports.
PRELOAD = {
    "import-pdf": ["ohvault.importing", "ohvault.labs"],
    "import-bundle": ["ohvault.bundles.importer", "ohvault.fhir.mapping", "ohvault.fhir.validate"],
    "backup": ["ohvault.vault.backup"],
    "restore": ["ohvault.vault.backup"],
    "rotate": [],
    "sync": ["ohvault.sync"],
}


def main(argv: list[str]) -> int:
    import importlib

    op, home, *args = argv
    for module in PRELOAD[op]:
        importlib.import_module(module)
    if op == "import-pdf":
        from ohvault.labs import load_catalog

        load_catalog()
    vault = Vault.open(Path(home), auto_backup=False)
    _say("ready")
    OPS[op](vault, *args)
    vault.lock()
    _say("finished")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
