"""Nothing readable touches disk: a canary written into records appears in no file."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from conftest import MakeVault
from ohvault.logs import setup_logging
from ohvault.model import Document, Note, Observation, Profile
from ohvault.vault.backup import create_backup


def files_touched_since(root: Path, since: float) -> list[Path]:
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                if path.is_file() and path.stat().st_mtime >= since - 1:
                    found.append(path)
            except OSError:
                continue
    return found


def test_canary_never_reaches_disk_in_plaintext(make_vault: MakeVault) -> None:
    started = time.time()
    canary = f"CANARY-{uuid.uuid4().hex}"
    log_file = setup_logging()
    vault, _ = make_vault()
    profile = vault.repo.add_profile(Profile(name=f"{canary} Person", birth_date=date(1980, 5, 6)))
    vault.repo.add(
        Observation(
            profile_id=profile.id,
            analyte=f"{canary}-analyte",
            value_num=1.0,
            unit="mg/dL",
            effective=date(2026, 1, 1),
            note=canary,
        )
    )
    vault.repo.add(Note(profile_id=profile.id, text=f"feeling fine {canary}"))
    content = f"%PDF-1.4 {canary} lab report".encode()
    vault.repo.add_document(
        Document(
            profile_id=profile.id,
            filename=f"{canary}.pdf",
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
        ),
        content,
    )
    # Exercise the logger with PHI on purpose: the redaction layer must strike it.
    from ohvault.logs import register_sensitive

    register_sensitive(canary)
    logging.getLogger("ohvault.test").warning("importing for %s", canary)
    create_backup(vault)
    vault.repo.observations(profile.id)
    vault.lock()
    for handler in logging.getLogger("ohvault").handlers:
        handler.flush()

    needles = [canary.encode(), canary.encode("utf-16-le")]
    roots = [vault.files.home, Path(tempfile.gettempdir()), log_file.parent]
    scanned = 0
    for root in roots:
        for path in files_touched_since(root, started):
            try:
                data = path.read_bytes()
            except OSError:
                continue  # another test's file came and went while we walked
            scanned += 1
            for needle in needles:
                assert needle not in data, f"canary found in {path}"
    assert scanned >= 4  # the database, header, backup and log at least
    assert (vault.files.home / "vault.db").stat().st_size > 0
