"""Patient side: plan what will be shared, then write it as a signed, encrypted bundle.

`plan_export` gathers the records and returns a summary the user confirms;
`write_bundle` signs the manifest, then streams the archive through age into a
temporary file next to the target and renames it into place, so a cancelled or
failed export leaves nothing behind. Memory stays bounded by one document.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ohvault import identity as identity_mod
from ohvault.atomic import fsync_dir
from ohvault.bundles import age
from ohvault.bundles.container import OutEntry, TarReader, archive_size
from ohvault.bundles.manifest import (
    ATTACHMENT_DIR,
    FHIR_PATH,
    MANIFEST_PATH,
    SIGNATURE_PATH,
    EntryInfo,
    Manifest,
)
from ohvault.errors import BadInput, Cancelled, VaultCorrupt
from ohvault.fhir.mapping import to_bundle
from ohvault.fhir.plan import EXPORTABLE_TYPES, ExportPlan, parse_types, plan_export, record_date
from ohvault.model import Document
from ohvault.vault import Vault

# Planning lives in fhir/plan.py (below bundles: the plain FHIR/CSV export writes plans too);
# its names stay importable from here.
__all__ = [
    "EXPORTABLE_TYPES",
    "BundleInfo",
    "ExportPlan",
    "Progress",
    "ShouldCancel",
    "parse_types",
    "plan_export",
    "record_date",
    "write_bundle",
]

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]


def _doc_chunks(vault: Vault, profile_id: str, doc: Document) -> Iterator[bytes]:
    content = vault.repo.document_content(profile_id, doc.id)
    if len(content) != doc.size or hashlib.sha256(content).hexdigest() != doc.sha256:
        raise VaultCorrupt("A stored document does not match its recorded hash; export stopped.")
    view = memoryview(content)
    for i in range(0, len(view), 1 << 20):
        yield bytes(view[i : i + (1 << 20)])


@dataclass(frozen=True)
class BundleInfo:
    path: Path
    bundle_id: str
    size: int
    counts: dict[str, int]
    sender_fingerprint: str


def write_bundle(
    vault: Vault,
    plan: ExportPlan,
    out: Path,
    *,
    recipients: Sequence[str] = (),
    passphrase: str | None = None,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    scrypt_log_n: int = age.SCRYPT_LOG_N,
) -> BundleInfo:
    """Sign, then encrypt to the age recipients or to a passphrase (age allows one or the other)."""
    if bool(recipients) == bool(passphrase):
        raise BadInput(
            "Encrypt a bundle either to public keys (--to) or to a passphrase, not both.",
            hint="age files with a passphrase cannot have other recipients.",
        )
    if passphrase is not None and len(passphrase) < 8:
        raise BadInput("A bundle passphrase needs at least 8 characters.")
    keys = [r.strip() for r in recipients]
    age.parse_recipients(keys)
    me = identity_mod.load_or_create(vault)
    bundle_id = str(uuid.uuid4())
    now = datetime.now(UTC)

    def attachment(doc: Document) -> dict[str, Any]:
        return {
            "contentType": doc.media_type,
            "url": ATTACHMENT_DIR + doc.id,
            "size": doc.size,
            "title": doc.filename,
        }

    fhir = json.dumps(
        to_bundle(
            plan.profile, plan.records, attachment=attachment, bundle_id=bundle_id, timestamp=now
        ),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    entries = [EntryInfo(FHIR_PATH, len(fhir), hashlib.sha256(fhir).hexdigest())]
    entries += [EntryInfo(ATTACHMENT_DIR + d.id, d.size, d.sha256) for d in plan.documents]
    manifest = Manifest(
        bundle_id=bundle_id,
        created_at=now.isoformat(),
        sender_vault_id=vault.vault_id,
        sender_profile_id=plan.profile.id,
        signing_key=me.signing_public,
        recipients=[{"type": "x25519", "fingerprint": identity_mod.fingerprint(k)} for k in keys]
        or [{"type": "scrypt"}],
        counts=plan.counts(),
        entries=entries,
        deleted=[
            {"type": t.TYPE.value, "id": t.id, "deleted_at": t.updated_at.isoformat()}
            for t in plan.tombstones
        ],
        scope={k: v for k, v in plan.summary().items() if k in ("types", "since", "until")},
    ).to_bytes()
    signature = me.sign(manifest).hex().encode("ascii") + b"\n"
    out_entries = [
        OutEntry(MANIFEST_PATH, len(manifest), lambda: [manifest]),
        OutEntry(SIGNATURE_PATH, len(signature), lambda: [signature]),
        OutEntry(FHIR_PATH, len(fhir), lambda: [fhir]),
    ]
    for doc in plan.documents:
        out_entries.append(
            OutEntry(
                ATTACHMENT_DIR + doc.id,
                doc.size,
                lambda doc=doc: _doc_chunks(vault, plan.profile.id, doc),  # type: ignore[misc]
            )
        )
    total = archive_size(out_entries)
    done = [0, 0]  # bytes so far, bytes at the last progress report

    def on_bytes(n: int) -> None:
        done[0] += n
        if should_cancel is not None and should_cancel():
            raise Cancelled("Export cancelled; no file was written.")
        if progress is not None and (done[0] - done[1] >= 1 << 20 or done[0] == total):
            done[1] = done[0]
            progress(done[0], total)

    source = TarReader(out_entries, int(now.timestamp()), on_bytes)
    out = out.expanduser()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as sink:
            if keys:
                age.encrypt_x25519(source, sink, keys)
            else:
                assert passphrase is not None
                age.encrypt_passphrase(source, sink, passphrase, log_n=scrypt_log_n)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(out.parent)
    if progress is not None:
        progress(total, total)
    vault.audit.append(
        "export.bundle",
        profile_id=plan.profile.id,
        detail=f"bundle={bundle_id} recipients={len(keys) or 'passphrase'} "
        + " ".join(f"{k}={v}" for k, v in plan.counts().items()),
    )
    return BundleInfo(out, bundle_id, out.stat().st_size, plan.counts(), me.signing_fingerprint)
