"""Importing a bundle: decrypt, verify, trust on first use, validate, merge per patient.

Order of checks, all inside one database transaction so that any failure
imports nothing:

1. age decrypts and authenticates the stream chunk by chunk (a flipped byte or a
   truncation fails here, at the latest at the final chunk).
2. The first entry is the manifest, the second its Ed25519 signature; nothing
   else is read until the signature verifies and the sender's key passes the
   trust-on-first-use check for that patient.
3. Every further entry must be listed in the signed manifest with the same size
   (checked from the archive header, before its content is read: size bombs are
   refused up front) and must match its SHA-256: the FHIR entry before it is read, an
   attachment when its last byte is in (its bytes go into the uncommitted transaction
   as they arrive, so a document is never whole in memory).
4. The FHIR Bundle must validate, name the manifest's patient and hold the
   manifest's counts; attachments must belong to its DocumentReferences.
5. Only after the last age chunk verifies and every manifest entry was seen is
   the transaction committed.

Each bundle sender's patient becomes one local profile; records keep the
sender's ids so that a newer bundle updates them (newer `meta.lastUpdated`
wins), and the manifest's tombstones delete them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ohvault import identity as identity_mod
from ohvault.bundles import age
from ohvault.bundles.age import BadBundle
from ohvault.bundles.container import EntryConsumer, TarSink, check_path
from ohvault.bundles.export import Progress, ShouldCancel
from ohvault.bundles.manifest import (
    ATTACHMENT_DIR,
    FHIR_PATH,
    MANIFEST_PATH,
    MAX_ATTACHMENT,
    MAX_FHIR,
    MAX_MANIFEST,
    MAX_SIGNATURE,
    SIGNATURE_PATH,
    EntryInfo,
    Manifest,
)
from ohvault.bundles.patients import LookAlike, lookalike_patients
from ohvault.bundles.pipeline import ChannelReader, ChannelWriter, Pipeline
from ohvault.errors import BadInput, Cancelled, ConflictError, WrongKey
from ohvault.fhir.mapping import EXPORTED_CLASSES, PendingDocument, from_bundle
from ohvault.fhir.validate import validate_bundle
from ohvault.filekind import FileKind, expect_kind
from ohvault.model import RECORD_CLASSES, Document, Profile, Provenance, Record, RecordType
from ohvault.storage.codec import columns, from_row, quoted
from ohvault.vault import Vault

# The bundle file is read (and hashed) in blocks this large; age then takes small reads.
READ_BLOCK = 1 << 20


class KeyChanged(ConflictError):
    """A known patient's bundle is signed by a different key than before."""

    def __init__(self, old_fingerprint: str, new_fingerprint: str) -> None:
        super().__init__(
            "WARNING: this patient's signing key has CHANGED since their last bundle.\n"
            f"  known key:    {old_fingerprint}\n"
            f"  this bundle:  {new_fingerprint}\n"
            "Someone else may be sending records in this patient's name. Nothing was imported.",
            hint="Check the new fingerprint with the patient in person or by phone; if it is "
            "theirs (e.g. a new vault), import again with --accept-new-key.",
        )
        self.old_fingerprint = old_fingerprint
        self.new_fingerprint = new_fingerprint


class LookAlikePatient(ConflictError):
    """A new sender's patient has the name and birth date of a patient already in the vault."""

    def __init__(self, matches: list[LookAlike], new_fingerprint: str) -> None:
        known = "\n".join(
            f"  known patient: {m.name} (key {m.sender_fingerprint or 'none: made in this vault'})"
            for m in matches
        )
        super().__init__(
            "WARNING: this bundle comes from a NEW key but names a patient with the SAME name "
            "and birth date as a patient you already have.\n"
            f"{known}\n  this bundle:   key {new_fingerprint}\n"
            "It may be someone else posing as your patient. Nothing was imported.",
            hint="Check with the patient in person or by phone. If this really is a different "
            "person (or the same person's new vault, to keep apart), import again with "
            "--accept-lookalike; it becomes a separate patient.",
        )
        self.matches = matches
        self.new_fingerprint = new_fingerprint


@dataclass
class ImportResult:
    bundle_id: str
    profile_id: str  # the local profile (patient) the records went to
    sender_fingerprint: str
    trust: str  # "new" (first bundle from this patient), "known", "changed" (accepted)
    previous_fingerprint: str | None
    addressed_to_us: bool  # False: the signed manifest names other recipients (forwarded)
    created_at: str
    counts: dict[str, int]
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    # Known patients with the same name and birth date under another key (a new sender only).
    lookalikes: list[LookAlike] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "lookalikes": [m.to_json() for m in self.lookalikes]}


class _DryRun(Exception):
    pass


class _HashingReader:
    """Reads the bundle file in large blocks, hashing each once (the import's read stage)."""

    def __init__(self, handle: BinaryIO, total: int) -> None:
        self._handle = handle
        self.total = total
        self.done = 0  # bytes read from the file (read by the importing thread for progress)
        self.sha256 = hashlib.sha256()

    def read_block(self) -> bytes:
        """The next block of the file (empty at its end), hashed."""
        data = self._handle.read(READ_BLOCK)
        if data:
            self.sha256.update(data)
            self.done += len(data)
        return data


class _Buffer:
    """Collects one entry, then checks it against its expected hash before handing it on.

    The digest is computed off this thread by the import's hash stage and arrives in
    `digests` (entries finish in stream order) before the entry's last byte does; if none is
    there, the entry is hashed here.
    """

    def __init__(
        self, expected: EntryInfo | None, done: Callable[[bytes], None], digests: deque[str]
    ) -> None:
        self._expected = expected
        self._done = done
        self._digests = digests
        self._parts: list[bytes | memoryview] = []

    def feed(self, data: bytes | memoryview) -> None:
        self._parts.append(data)

    def finish(self) -> None:
        data = bytes(self._parts[0]) if len(self._parts) == 1 else b"".join(self._parts)
        self._parts = []
        digest = self._digests.popleft() if self._digests else hashlib.sha256(data).hexdigest()
        if self._expected is not None and digest != self._expected.sha256:
            raise _mismatch()
        self._done(data)


def _mismatch() -> BadBundle:
    return BadBundle(
        "An entry of the bundle does not match the hash in its signed manifest; "
        "nothing was imported."
    )


class _StoredAttachment:
    """Writes an attachment into its (zero-filled) blob row as it arrives, so a document is
    never whole in memory and storing overlaps decrypting; checks the signed hash when the
    last byte is in. A mismatch raises inside the import's transaction, which then rolls
    the row back with everything else. No blob handle is held between pieces."""

    def __init__(self, vault: Vault, rowid: int, expected: EntryInfo, digests: deque[str]) -> None:
        self._db = vault.db
        self._rowid = rowid
        self._expected = expected
        self._digests = digests
        self._offset = 0

    def _blob(self, readonly: bool = False) -> Any:
        return self._db.conn.open_blob("document_blobs", "content", self._rowid, readonly=readonly)

    def feed(self, data: bytes | memoryview) -> None:
        with self._blob() as blob:
            blob.seek(self._offset)
            blob.write(data)
        self._offset += len(data)

    def finish(self) -> None:
        if self._digests:
            digest = self._digests.popleft()
        else:  # the hash stage gave up on the stream: hash what was stored
            hashed = hashlib.sha256()
            with self._blob(readonly=True) as blob:
                while piece := blob.read(READ_BLOCK):
                    hashed.update(piece)
            digest = hashed.hexdigest()
        if digest != self._expected.sha256:
            raise _mismatch()


class _CheckedOnly:
    """An entry whose content is not needed (a document already up to date): checked against
    its signed hash all the same, and dropped."""

    def __init__(self, expected: EntryInfo, digests: deque[str]) -> None:
        self._expected = expected
        self._digests = digests
        self._hash = hashlib.sha256()

    def feed(self, data: bytes | memoryview) -> None:
        if not self._digests:  # only needed if the hash stage's digest does not come
            self._hash.update(data)

    def finish(self) -> None:
        digest = self._digests.popleft() if self._digests else self._hash.hexdigest()
        if digest != self._expected.sha256:
            raise _mismatch()


class _Digest:
    """The hash stage's consumer: the SHA-256 of one entry, appended to `out` when complete."""

    def __init__(self, out: list[str]) -> None:
        self._out = out
        self._hash = hashlib.sha256()

    def feed(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def finish(self) -> None:
        self._out.append(self._hash.hexdigest())


@dataclass(frozen=True)
class _EntryDigest:
    """In the stream to the importing thread: the digest of an entry that completes next."""

    sha256: str


class _Import:
    def __init__(
        self,
        vault: Vault,
        *,
        via: str,
        my_recipient: str | None,
        accept: bool,
        accept_lookalike: bool = False,
        dry_run: bool = False,
    ) -> None:
        self.vault = vault
        self.accept_lookalike = accept_lookalike
        self.dry_run = dry_run
        self.repo = vault.repo
        self.via = via  # "x25519" or "scrypt"
        self.my_recipient = my_recipient
        self.accept = accept
        self.index = 0
        self.manifest_raw: bytes | None = None
        self.manifest: Manifest | None = None
        self.expected: dict[str, EntryInfo] = {}
        self.seen: set[str] = set()
        self.documents: dict[str, PendingDocument] = {}
        self.result: ImportResult | None = None
        self.trust_row: tuple[Any, ...] | None = None
        self.digests: deque[str] = deque()  # entry digests from the hash stage, in order

    # --- entries, in order -----------------------------------------------------------

    def open_entry(self, name: str, size: int) -> EntryConsumer:
        index = self.index
        self.index += 1
        if index == 0:
            if name != MANIFEST_PATH or size > MAX_MANIFEST:
                raise BadBundle("The file is not an ohvault bundle (no manifest first).")
            return _Buffer(None, self._on_manifest, self.digests)
        if index == 1:
            if name != SIGNATURE_PATH or size > MAX_SIGNATURE:
                raise BadBundle("The bundle is not signed; nothing was imported.")
            return _Buffer(None, self._on_signature, self.digests)
        info = self.expected.get(name)
        if info is None or name in self.seen:
            raise BadBundle("The bundle holds an entry its signed manifest does not list.")
        if size != info.size:
            raise BadBundle(
                "An entry's size differs from the signed manifest; nothing was imported."
            )
        self.seen.add(name)
        if name == FHIR_PATH:
            if index != 2 or size > MAX_FHIR:
                raise BadBundle("The bundle's FHIR entry is misplaced or too large.")
            return _Buffer(info, self._on_fhir, self.digests)
        if name.startswith(ATTACHMENT_DIR):
            if size > MAX_ATTACHMENT:
                raise BadBundle("A bundle attachment is larger than ohvault accepts.")
            pending = self.documents.get(name)
            if pending is None:
                raise BadBundle("A bundle attachment belongs to no document in its FHIR data.")
            return self._attachment(pending, info)
        raise BadBundle("The bundle holds an entry of an unknown kind.")

    def _on_manifest(self, raw: bytes) -> None:
        self.manifest_raw = raw
        self.manifest = Manifest.from_bytes(raw)

    def _on_signature(self, raw: bytes) -> None:
        assert self.manifest is not None and self.manifest_raw is not None
        m = self.manifest
        try:
            signature = bytes.fromhex(raw.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise BadBundle("The bundle's signature is malformed; nothing was imported.") from None
        if not identity_mod.verify(m.signing_key, signature, self.manifest_raw):
            raise BadBundle(
                "The bundle's signature does not verify: it was altered or not made by "
                "the key it names. Nothing was imported."
            )
        for e in m.entries:
            check_path(e.path)
            if e.path != FHIR_PATH and not e.path.startswith(ATTACHMENT_DIR):
                raise BadBundle("The bundle's manifest lists an entry of an unknown kind.")
        self.expected = {e.path: e for e in m.entries}
        if FHIR_PATH not in self.expected:
            raise BadBundle("The bundle has no FHIR data.")
        fingerprint = identity_mod.fingerprint(m.signing_key)
        trust, previous = self._check_trust(m, fingerprint)
        if self.via == "x25519":
            assert self.my_recipient is not None
            mine = identity_mod.fingerprint(self.my_recipient)
            addressed = any(r.get("fingerprint") == mine for r in m.recipients)
        else:
            addressed = any(r.get("type") == "scrypt" for r in m.recipients)
        self.result = ImportResult(
            bundle_id=m.bundle_id,
            profile_id="",
            sender_fingerprint=fingerprint,
            trust=trust,
            previous_fingerprint=previous,
            addressed_to_us=addressed,
            created_at=m.created_at,
            counts=dict(m.counts),
        )
        if not addressed:
            self.result.warnings.append(
                "This bundle was addressed to someone else and has been forwarded to you."
            )
        if trust == "changed":
            self.result.warnings.append("The patient's signing key changed (accepted).")

    def _check_trust(self, m: Manifest, fingerprint: str) -> tuple[str, str | None]:
        row = self.vault.db.execute(
            "SELECT profile_id, signing_key, fingerprint, previous_keys FROM trusted_senders "
            "WHERE sender_vault_id = ? AND sender_profile_id = ?",
            (m.sender_vault_id, m.sender_profile_id),
        ).fetchone()
        self.trust_row = tuple(row) if row else None
        if row is None:
            return "new", None
        if row[1] == m.signing_key:
            return "known", None
        if not self.accept:
            raise KeyChanged(str(row[2]), fingerprint)
        return "changed", str(row[2])

    def _on_fhir(self, raw: bytes) -> None:
        assert self.manifest is not None and self.result is not None
        m = self.manifest
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise BadBundle("The bundle's FHIR data is not valid JSON.") from None
        validate_bundle(data)
        content = from_bundle(data, keep_ids=True, provenance=Provenance.BUNDLE)
        if content.patient is None or content.patient.id != m.sender_profile_id:
            raise BadBundle("The bundle's FHIR data is about another person than its manifest.")
        counts = content.counts()
        if any(counts.get(k, 0) != v for k, v in m.counts.items()) or any(
            v and k not in m.counts for k, v in counts.items()
        ):
            raise BadBundle("The bundle's FHIR data does not hold what its manifest counts.")
        for doc in content.documents:
            path = ATTACHMENT_DIR + doc.record.id
            info = self.expected.get(path)
            if (
                doc.url != path
                or info is None
                or info.sha256 != doc.record.sha256
                or info.size != doc.record.size
            ):
                raise BadBundle("A document in the bundle does not match its attachment entry.")
            self.documents[path] = doc
        profile_id = self._store_patient(m, content.patient)
        self.result.profile_id = profile_id
        for record in content.records:
            self._merge(record, profile_id)

    def _store_patient(self, m: Manifest, patient: Profile) -> str:
        now = datetime.now(UTC).isoformat()
        fingerprint = identity_mod.fingerprint(m.signing_key)
        if self.trust_row is None:
            self._check_lookalike(patient, fingerprint)
            local = Profile(name=patient.name, birth_date=patient.birth_date, sex=patient.sex)
            self.repo.add_profile(local)
            self.vault.db.execute(
                "INSERT INTO trusted_senders (profile_id, sender_vault_id, sender_profile_id, "
                "signing_key, fingerprint, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    local.id,
                    m.sender_vault_id,
                    m.sender_profile_id,
                    m.signing_key,
                    fingerprint,
                    now,
                    now,
                ),
            )
            return local.id
        local_id = str(self.trust_row[0])
        current = self.repo.profile(local_id)
        if (current.name, current.birth_date, current.sex) != (
            patient.name,
            patient.birth_date,
            patient.sex,
        ):
            current.name, current.birth_date, current.sex = (
                patient.name,
                patient.birth_date,
                patient.sex,
            )
            self.repo.update_profile(current)
        previous = json.loads(str(self.trust_row[3]))
        if self.trust_row[1] != m.signing_key:
            previous.append({"signing_key": self.trust_row[1], "replaced_at": now})
        self.vault.db.execute(
            "UPDATE trusted_senders SET signing_key = ?, fingerprint = ?, last_seen = ?, "
            "previous_keys = ? WHERE profile_id = ?",
            (m.signing_key, fingerprint, now, json.dumps(previous), local_id),
        )
        return local_id

    def _check_lookalike(self, patient: Profile, fingerprint: str) -> None:
        """A new sender naming a known patient (same name and birth date) needs a yes first.

        A dry run reports the look-alikes so the app can ask; a real import refuses them unless
        accepted. The new patient is always stored apart: nothing merges on a name.
        """
        assert self.result is not None
        matches = lookalike_patients(self.vault, patient.name, patient.birth_date)
        if not matches:
            return
        self.result.lookalikes = matches
        if not (self.accept_lookalike or self.dry_run):
            raise LookAlikePatient(matches, fingerprint)
        keys = ", ".join(f"key {m.sender_fingerprint or 'made in this vault'}" for m in matches)
        outcome = (
            "importing it makes a separate patient"
            if self.dry_run
            else "it was imported as a separate patient (accepted)"
        )
        self.result.warnings.append(
            "A NEW key sends this patient, but you already have a patient with the same name "
            f"and birth date ({keys}). It may be someone posing as them; {outcome}."
        )

    def _existing(self, cls: type[Record], record_id: str) -> Record | None:
        # Deliberately not scoped to a profile: a bundle must not reuse another
        # patient's record id, and only an unscoped look-up can see that. The row is
        # compared, never returned to a caller.
        sql = f"SELECT {quoted(columns(cls))} FROM {cls.TABLE} WHERE id = ?"  # noqa: S608
        row = self.vault.db.execute(sql, (record_id,)).fetchone()
        return from_row(cls, row) if row else None

    def _merge(self, record: Record, profile_id: str) -> bool:
        """Insert or update one record; True when its content (or a new blob) is needed."""
        assert self.result is not None
        record.profile_id = profile_id
        record.provenance = Provenance.BUNDLE
        record.source_id = self.result.bundle_id
        existing = self._existing(type(record), record.id)
        if existing is not None:
            if existing.profile_id != profile_id:
                raise BadBundle(
                    "A record in this bundle has the id of another person's record; "
                    "nothing was imported."
                )
            if existing.provenance != Provenance.BUNDLE:
                raise BadBundle(
                    "A record in this bundle has the id of a record made in this vault; "
                    "nothing was imported."
                )
            if existing.updated_at >= record.updated_at:
                self.result.unchanged += 1
                return False
        record.created_at = existing.created_at if existing else datetime.now(UTC)
        self.repo.upsert(record, action="import.bundle")
        if existing is None:
            self.result.added += 1
        else:
            self.result.updated += 1
        return existing is None or existing.deleted

    def _attachment(self, pending: PendingDocument, info: EntryInfo) -> EntryConsumer:
        """Merge the document's record, then store its bytes as they arrive if they are
        needed (new, or a newer version); the transaction undoes both if they do not match."""
        assert self.result is not None
        doc = pending.record
        if not self._merge(doc, self.result.profile_id):
            return _CheckedOnly(info, self.digests)
        # The blob table is keyed by document id; the record row was just merged.
        cursor = self.vault.db.execute(
            "INSERT OR REPLACE INTO document_blobs (document_id, content) VALUES (?, zeroblob(?))",
            (doc.id, info.size),
        )
        return _StoredAttachment(self.vault, int(cursor.lastrowid), info, self.digests)

    def finish(self, sink: TarSink) -> ImportResult:
        sink.close()
        if self.result is None or self.manifest is None:
            raise BadBundle("The bundle is truncated.")
        missing = set(self.expected) - self.seen
        if missing:
            raise BadBundle("The bundle lacks entries its signed manifest lists.")
        self._apply_deletions(self.manifest)
        return self.result

    def _apply_deletions(self, m: Manifest) -> None:
        assert self.result is not None
        allowed = {cls.TYPE.value for cls in EXPORTED_CLASSES}
        for item in m.deleted:
            if item["type"] not in allowed:
                raise BadBundle("The bundle's manifest deletes a record of an unknown type.")
            cls = RECORD_CLASSES[RecordType(item["type"])]
            try:
                deleted_at = datetime.fromisoformat(item["deleted_at"])
            except ValueError:
                raise BadBundle("The bundle's manifest has a malformed deletion.") from None
            existing = self._existing(cls, item["id"])
            if (
                existing is None
                or existing.profile_id != self.result.profile_id
                or existing.provenance != Provenance.BUNDLE
                or existing.deleted
                or existing.updated_at >= deleted_at
            ):
                continue
            existing.deleted = True
            existing.updated_at = deleted_at
            existing.source_id = m.bundle_id
            self.repo.upsert(existing, action="import.bundle.delete")
            if cls is Document:
                self.vault.db.execute(
                    "DELETE FROM document_blobs WHERE document_id = ?", (existing.id,)
                )
            self.result.deleted += 1


def import_bundle(
    vault: Vault,
    path: Path,
    *,
    passphrase: str | None = None,
    accept_key_change: bool = False,
    accept_lookalike: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
) -> ImportResult:
    """Import a bundle into `vault` (all or nothing). `dry_run`: verify everything, store nothing.

    Raises BadBundle (damaged, truncated, forged, unsafe, not a bundle), UnsupportedVersion,
    WrongKey (not addressed to us / wrong passphrase), KeyChanged (known patient, new key),
    LookAlikePatient (a new sender's patient has a known patient's name and birth date; a dry
    run lists them in `result.lookalikes` instead, `accept_lookalike` imports it apart),
    FhirInvalid, Cancelled.
    """
    path = path.expanduser()
    try:
        handle = path.open("rb")
    except OSError:
        raise BadInput("The bundle file cannot be read.") from None
    with handle:
        total = os.fstat(handle.fileno()).st_size
        head = handle.read(age.HEAD_BYTES)
        handle.seek(0)
        expect_kind(path, FileKind.BUNDLE, head=head)
        via = age.recipient_kind(head)
        me = identity_mod.load(vault)
        if via == "scrypt":
            if passphrase is None:
                raise BadInput(
                    "This bundle is protected by a passphrase.",
                    hint="Give it with --bundle-passphrase-stdin.",
                )
        elif me is None:
            raise WrongKey(
                "This vault has no identity key yet, so no bundle can be addressed to it.",
                hint="Show your public key with `ohvault identity` and give it to the sender.",
            )
        state = _Import(
            vault,
            via="scrypt" if via == "scrypt" else "x25519",
            my_recipient=me.age_recipient if me else None,
            accept=accept_key_change,
            accept_lookalike=accept_lookalike,
            dry_run=dry_run,
        )
        sink = TarSink(state.open_entry)
        reader = _HashingReader(handle, total)

        def decrypt(source: age.Source, out: age.Sink) -> None:
            if via == "scrypt":
                assert passphrase is not None
                age.decrypt(source, out, passphrase=passphrase)
            else:
                assert me is not None
                age.decrypt(source, out, identities=[me.age_identity])

        try:
            with vault.db.transaction():
                _decrypt_into(reader, sink, state.digests, decrypt, progress, should_cancel)
                result = state.finish(sink)
                _record_import(vault, result, reader.sha256.hexdigest())
                if dry_run:
                    result.dry_run = True
                    raise _DryRun
        except _DryRun:
            return result
    vault.audit.append(
        "import.bundle",
        profile_id=result.profile_id,
        detail=f"bundle={result.bundle_id} trust={result.trust} added={result.added} "
        f"updated={result.updated} deleted={result.deleted} forwarded={not result.addressed_to_us}",
    )
    return result


@dataclass(frozen=True)
class _Failed:
    """The decrypt stage's error, queued after the chunks it authenticated before failing."""

    error: Exception


def _decrypt_into(
    reader: _HashingReader,
    sink: TarSink,
    digests: deque[str],
    decrypt: Callable[[age.Source, age.Sink], None],
    progress: Progress | None,
    should_cancel: ShouldCancel | None,
) -> None:
    """Read → decrypt → hash → parse, check and store, one thread per stage (pipeline.py).

    The read stage reads and hashes the file; the decrypt stage runs age, and only chunks
    that age has authenticated go on. The hash stage reads the archive's entry boundaries with a TarSink
    of its own and sends each entry's SHA-256 just ahead of the chunk that completes it. This
    thread owns the database: it parses the archive, checks each entry against the signed
    manifest with that digest and stores it. A stage's failure travels in the stream, after
    the chunks before it, so this thread reports the first problem in stream order as a
    single thread would; an error here stops the stages, and nothing is committed (the
    caller's transaction rolls back).
    """
    pipe = Pipeline()
    raw = pipe.channel()
    plain = pipe.channel()
    checked = pipe.channel()
    reported = [0]

    def read_stage() -> None:
        # The whole file, so its hash covers bytes age leaves unread too.
        try:
            while block := reader.read_block():
                raw.put(block, len(block))
        except OSError:
            raise BadInput("The bundle file cannot be read.") from None
        raw.put(None, 0)

    def decrypt_stage() -> None:
        source = ChannelReader(raw)
        writer = ChannelWriter(plain)
        try:
            decrypt(source, writer)
            while source.read(READ_BLOCK):
                pass
        except Exception as exc:
            writer.close(end=_Failed(exc))
            return
        writer.close()

    def hash_stage() -> None:
        completed: list[str] = []
        entries = TarSink(lambda _name, _size: _Digest(completed))
        parsing = True
        while (item := plain.get()) is not None:
            if isinstance(item, _Failed):
                checked.put(item, 0)
                return
            if parsing:
                try:
                    entries.write(item)
                except Exception:
                    # The importing thread's TarSink meets the same bytes and reports them.
                    parsing = False
            for digest in completed:
                checked.put(_EntryDigest(digest), 0)
            completed.clear()
            checked.put(item, len(item))
        checked.put(None, 0)

    def tick() -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled("Import cancelled; nothing was imported.")
        done = reader.done
        if progress is not None and done - reported[0] >= 1 << 20:
            reported[0] = done
            progress(done, reader.total)

    pipe.stage("bundle-read", read_stage)
    pipe.stage("bundle-decrypt", decrypt_stage)
    pipe.stage("bundle-hash", hash_stage)
    with pipe.driving(tick):
        tick()
        while (item := checked.get()) is not None:
            if isinstance(item, _EntryDigest):
                digests.append(item.sha256)
                continue
            if isinstance(item, _Failed):
                raise item.error
            sink.write(item)
            tick()
    if progress is not None and reader.done != reported[0]:
        progress(reader.done, reader.total)


def _record_import(vault: Vault, result: ImportResult, file_sha256: str) -> None:
    vault.db.execute(
        "INSERT OR REPLACE INTO bundle_imports (bundle_id, profile_id, sender_fingerprint, "
        "bundle_created_at, imported_at, file_sha256, addressed_to_us, key_changed, counts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            result.bundle_id,
            result.profile_id,
            result.sender_fingerprint,
            result.created_at,
            datetime.now(UTC).isoformat(),
            file_sha256,
            int(result.addressed_to_us),
            int(result.trust == "changed"),
            json.dumps(result.counts, sort_keys=True),
        ),
    )
