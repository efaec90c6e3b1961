"""Patient side: plan what will be shared, then write it as a signed, encrypted bundle.

`plan_export` (fhir/plan.py) gathers the records and returns a summary the user
confirms; `write_bundle` signs the manifest, then streams the archive through age
into a temporary file next to the target and renames it into place, so a cancelled
or failed export leaves nothing behind. Reading, hashing, encrypting and writing run
as overlapping stages (`_stream`, pipeline.py); documents are read from the database in
pieces as the stages take them, so memory stays bounded by the stages' channels, not by the
bundle or its largest document.
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
from typing import Any, BinaryIO

from ohvault import identity as identity_mod
from ohvault.atomic import fsync_dir
from ohvault.bundles import age
from ohvault.bundles.container import OutEntry, archive_size, tar_pieces
from ohvault.bundles.manifest import (
    ATTACHMENT_DIR,
    FHIR_PATH,
    MANIFEST_PATH,
    SIGNATURE_PATH,
    EntryInfo,
    Manifest,
)
from ohvault.bundles.pipeline import (
    CHUNK_BYTES,
    ChannelReader,
    ChannelWriter,
    Pipeline,
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

# Flush the bundle to disk every so often while writing, so the fsync at the end is short.
SYNC_EVERY = 32 << 20

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]


def _doc_chunks(vault: Vault, profile_id: str, doc: Document, read: list[str]) -> Iterator[bytes]:
    """The document's bytes, read from the database piece by piece as the pipeline asks for
    them (a document is never whole in memory); the hash stage checks them against
    doc.sha256. The read is audited by the caller with the others (`read` collects the ids)."""
    read.append(doc.id)
    size = 0
    for piece in vault.repo.document_pieces(profile_id, doc.id, CHUNK_BYTES):
        size += len(piece)
        if size > doc.size:
            raise _corrupt()
        yield piece
    if size != doc.size:
        raise _corrupt()


def _stream(
    pieces: Iterator[tuple[bytes | memoryview, OutEntry | None, bool]],
    encrypt: Callable[[age.Source, age.Sink], None],
    sink: BinaryIO,
    total: int,
    progress: Progress | None,
    should_cancel: ShouldCancel | None,
) -> None:
    """Read → hash → encrypt → write, one thread per stage (see pipeline.py).

    This thread reads the documents out of the database (it owns the connection) and checks
    for cancellation; the hash stage checks each document against its recorded SHA-256 as it
    passes (a mismatch stops the export: the caller deletes the temporary file); the encrypt
    stage runs age; the write stage writes and flushes to disk as it goes, so the final fsync
    has little left to do.
    """
    pipe = Pipeline()
    plain = pipe.channel()
    hashed = pipe.channel()
    cipher = pipe.channel()
    reader = ChannelReader(hashed)
    reported = [0]

    def hash_stage() -> None:
        digest: Any = None
        while (item := plain.get()) is not None:
            piece, entry, end = item
            if entry is not None and entry.sha256 is not None:
                if digest is None:
                    digest = hashlib.sha256()
                if end:
                    if digest.hexdigest() != entry.sha256:
                        raise _corrupt()
                    digest = None
                    continue
                digest.update(piece)
            if len(piece):
                hashed.put(piece, len(piece))
        hashed.put(None, 0)

    def encrypt_stage() -> None:
        writer = ChannelWriter(cipher)
        encrypt(reader, writer)
        writer.close()

    def write_stage() -> None:
        fd = sink.fileno()
        unsynced = 0
        while (chunk := cipher.get()) is not None:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            unsynced += len(chunk)
            if unsynced >= SYNC_EVERY:
                os.fdatasync(fd)
                unsynced = 0

    def tick() -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled("Export cancelled; no file was written.")
        done = reader.consumed
        if progress is not None and done - reported[0] >= 1 << 20 and done < total:
            reported[0] = done
            progress(done, total)

    pipe.stage("bundle-hash", hash_stage)
    pipe.stage("bundle-encrypt", encrypt_stage)
    pipe.stage("bundle-write", write_stage)
    with pipe.driving(tick):
        for item in pieces:
            tick()
            plain.put(item, len(item[0]))
        plain.put(None, 0)


def _corrupt() -> VaultCorrupt:
    return VaultCorrupt("A stored document does not match its recorded hash; export stopped.")


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
    read: list[str] = []  # documents read so far, audited together (see audit_reads)
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
                lambda doc=doc: _doc_chunks(vault, plan.profile.id, doc, read),  # type: ignore[misc]
                sha256=doc.sha256,
            )
        )
    total = archive_size(out_entries)

    def encrypt(source: age.Source, sink: age.Sink) -> None:
        if keys:
            age.encrypt_x25519(source, sink, keys)
        else:
            assert passphrase is not None
            age.encrypt_passphrase(source, sink, passphrase, log_n=scrypt_log_n)

    def audit_reads() -> None:
        # One transaction for every document read, not one commit (and fsync) per document.
        done, read[:] = list(read), []
        vault.repo.audit_document_reads(plan.profile.id, done)

    out = out.expanduser()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb", buffering=0) as sink:
            _stream(
                tar_pieces(out_entries, int(now.timestamp())),
                encrypt,
                sink,
                total,
                progress,
                should_cancel,
            )
            os.fsync(sink.fileno())
        audit_reads()  # before the bundle appears under its name
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        # Reads made before a failure or a cancel are audited too; the first error is reported.
        with contextlib.suppress(Exception):
            audit_reads()
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
