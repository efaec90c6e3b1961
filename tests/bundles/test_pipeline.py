"""Export and import run as threads joined by bounded channels: errors, cancels, audit, memory.

The pieces are tested on their own (a full channel blocks its producer, a failing stage
stops the others and its error is the one reported) and through real bundles between two
real vaults: a stored document that no longer matches its hash, a cancel half-way, a
damaged bundle. After each, no stage thread is left running and nothing is left behind.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

from ohvault import identity
from ohvault.bundles.age import BadBundle
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import _CheckedOnly, _StoredAttachment, import_bundle
from ohvault.bundles.manifest import EntryInfo
from ohvault.bundles.pipeline import Aborted, Channel, ChannelReader, ChannelWriter, Pipeline
from ohvault.errors import Cancelled, VaultCorrupt
from ohvault.model import Document
from tests.bundles.conftest import Pair, add_document, fill, pdf_bytes


def stage_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ohvault-bundle")]


@pytest.fixture(autouse=True)
def no_stage_left_running() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 5
    while stage_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stage_threads() == []


# --- the pieces ---------------------------------------------------------------------------


def test_a_full_channel_holds_its_producer_until_the_consumer_takes() -> None:
    channel = Channel(limit=10)
    channel.put(b"x" * 8, 8)
    second = threading.Event()

    def produce() -> None:
        channel.put(b"y" * 8, 8)  # 16 bytes would be over the limit: waits
        second.set()

    thread = threading.Thread(target=produce)
    thread.start()
    assert not second.wait(0.2)
    assert channel.get() == b"x" * 8
    assert second.wait(5)
    assert channel.get() == b"y" * 8
    thread.join()


def test_one_chunk_larger_than_the_limit_still_passes() -> None:
    channel = Channel(limit=4)
    channel.put(b"z" * 100, 100)
    assert channel.get() == b"z" * 100


def test_reader_and_writer_carry_a_stream_unchanged_across_chunk_boundaries() -> None:
    channel = Channel(limit=1 << 20)
    data = bytes(range(256)) * 5000
    writer = ChannelWriter(channel, batch=7000)
    sender = threading.Thread(
        target=lambda: (
            [writer.write(data[i : i + 999]) for i in range(0, len(data), 999)],
            writer.close(),
        )
    )
    sender.start()
    reader = ChannelReader(channel)
    got = bytearray()
    while part := reader.read(8192):
        got += part
    sender.join()
    assert bytes(got) == data and reader.consumed == len(data)
    assert reader.read(10) == b""


def test_a_failing_stage_stops_the_others_and_its_error_is_reported() -> None:
    pipe = Pipeline()
    first = pipe.channel(limit=1)
    second = pipe.channel(limit=1)

    def relay() -> None:
        while (item := first.get()) is not None:
            second.put(item, len(item))

    def fail() -> None:
        second.get()
        raise VaultCorrupt("stage failed")

    pipe.stage("bundle-relay", relay)
    pipe.stage("bundle-fail", fail)
    with pytest.raises(Aborted):
        for _ in range(1000):  # the producer is blocked or refused once the stage fails
            first.put(b"chunk", 5)
    pipe.stop()
    with pytest.raises(VaultCorrupt, match="stage failed"):
        pipe.raise_first()


# --- real bundles ----------------------------------------------------------------------


def big_documents(pair: Pair, count: int = 3, size: int = 6 << 20) -> list[Document]:
    """Documents larger than a pipeline chunk, so each crosses the stages in several pieces."""
    return [
        add_document(pair.patient, pair.profile.id, pdf_bytes(size), f"scan-{i}.pdf")
        for i in range(count)
    ]


def content_reads(pair: Pair) -> list[str | None]:
    return [
        e.record_id
        for e in pair.patient.audit.entries()
        if e.action == "read" and e.detail == "content"
    ]


def test_large_documents_round_trip_byte_for_byte_and_every_read_is_audited(pair: Pair) -> None:
    docs = big_documents(pair)
    key = identity.load_or_create(pair.clinician).age_recipient
    out = pair.tmp / "big.ohvbundle"
    seen: list[tuple[int, int]] = []
    write_bundle(
        pair.patient,
        plan_export(pair.patient, pair.profile.id),
        out,
        recipients=[key],
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert sorted(content_reads(pair)) == sorted(d.id for d in docs)
    result = import_bundle(pair.clinician, out)
    for doc in docs:
        stored = pair.clinician.repo.document_content(result.profile_id, doc.id)
        assert hashlib.sha256(stored).hexdigest() == doc.sha256


def _damaged(content: bytes, damage: str) -> bytes:
    if damage == "flipped":  # same size, as disk rot or tampering would leave it
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :]
    return content[:-1000] if damage == "shorter" else content + b"\0" * 1000


@pytest.mark.parametrize("damage", ["flipped", "shorter", "longer"])
def test_a_stored_document_that_no_longer_matches_its_record_stops_the_export(
    pair: Pair, damage: str
) -> None:
    """Documents are read piece by piece while the archive already declares their size and
    the hash stage checks their bytes: a stored blob changed in place, shorter or longer
    than its record is caught, never written as a broken or lying bundle."""
    bad = big_documents(pair)[1]
    content = pair.patient.repo.document_content(pair.profile.id, bad.id)
    with pair.patient.db.transaction():
        pair.patient.db.execute(
            "UPDATE document_blobs SET content = ? WHERE document_id = ?",
            (_damaged(content, damage), bad.id),
        )
    key = identity.load_or_create(pair.clinician).age_recipient
    before = set(pair.tmp.iterdir())
    with pytest.raises(VaultCorrupt, match="does not match its recorded hash"):
        write_bundle(
            pair.patient,
            plan_export(pair.patient, pair.profile.id),
            pair.tmp / "rotten.ohvbundle",
            recipients=[key],
        )
    assert set(pair.tmp.iterdir()) == before  # no bundle, no temporary file
    assert bad.id in content_reads(pair)  # what was read before the stop is audited


def test_cancelling_half_way_leaves_nothing_and_stops_every_stage(pair: Pair) -> None:
    big_documents(pair)
    key = identity.load_or_create(pair.clinician).age_recipient
    plan = plan_export(pair.patient, pair.profile.id)
    calls = [0]

    def cancel_later() -> bool:
        calls[0] += 1
        return calls[0] > 3

    out = pair.tmp / "half.ohvbundle"
    with pytest.raises(Cancelled):
        write_bundle(pair.patient, plan, out, recipients=[key], should_cancel=cancel_later)
    assert not list(pair.tmp.glob("*half*"))

    write_bundle(pair.patient, plan, out, recipients=[key])
    calls[0] = 0
    with pytest.raises(Cancelled):
        import_bundle(pair.clinician, out, should_cancel=cancel_later)
    assert pair.clinician.repo.profiles() == []


def test_a_bundle_damaged_late_imports_nothing(pair: Pair) -> None:
    fill(pair.patient, pair.profile.id)
    big_documents(pair, count=2)
    key = identity.load_or_create(pair.clinician).age_recipient
    out = pair.tmp / "late.ohvbundle"
    write_bundle(pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[key])
    data = bytearray(out.read_bytes())
    data[-100] ^= 0x01  # in the last age chunk: everything before it decrypts and is stored
    damaged = pair.tmp / "late-damaged.ohvbundle"
    damaged.write_bytes(bytes(data))
    with pytest.raises(BadBundle, match="damaged"):
        import_bundle(pair.clinician, damaged)
    assert pair.clinician.repo.profiles() == []
    assert pair.clinician.db.execute("SELECT count(*) FROM document_blobs").fetchone()[0] == 0


def test_a_bundle_cut_short_imports_nothing(pair: Pair) -> None:
    big_documents(pair, count=2)
    key = identity.load_or_create(pair.clinician).age_recipient
    out = pair.tmp / "cut.ohvbundle"
    write_bundle(pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[key])
    cut = pair.tmp / "cut-short.ohvbundle"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(BadBundle):
        import_bundle(pair.clinician, cut)
    assert pair.clinician.repo.profiles() == []


def test_export_memory_stays_bounded_by_the_channels_not_the_bundle(
    pair: Pair, tmp_path: Path
) -> None:
    """Peak traced allocations while exporting 48 MiB stay under the channels' bound."""
    import tracemalloc

    from ohvault.bundles.pipeline import CHANNEL_BYTES

    size = 1 << 20
    big_documents(pair, count=48, size=size)
    key = identity.load_or_create(pair.clinician).age_recipient
    plan = plan_export(pair.patient, pair.profile.id)
    tracemalloc.start()
    try:
        write_bundle(pair.patient, plan, tmp_path / "mem.ohvbundle", recipients=[key])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Three channels, plus the document being read, the one being encrypted and a batch.
    assert peak < 3 * CHANNEL_BYTES + 4 * size < 48 * size


@pytest.mark.parametrize("kind", ["stored", "checked"])
@pytest.mark.parametrize("intact", [True, False])
def test_an_attachment_is_checked_even_without_the_hash_stage_digest(
    pair: Pair, kind: str, intact: bool
) -> None:
    """If the hash stage gave up on the stream (its digest never comes), the importing
    thread hashes the entry itself: what it stored, or what passed through."""
    content = pdf_bytes(300_000, seed=3)
    doc = add_document(pair.patient, pair.profile.id, content, "fallback.pdf")
    sha = doc.sha256 if intact else hashlib.sha256(b"something else").hexdigest()
    info = EntryInfo("attachments/" + doc.id, len(content), sha)
    consumer: _StoredAttachment | _CheckedOnly
    if kind == "stored":
        rowid = pair.patient.db.execute(
            "SELECT rowid FROM document_blobs WHERE document_id = ?", (doc.id,)
        ).fetchone()[0]
        pair.patient.db.execute(
            "UPDATE document_blobs SET content = zeroblob(?) WHERE rowid = ?", (len(content), rowid)
        )
        consumer = _StoredAttachment(pair.patient, rowid, info, deque())
    else:
        consumer = _CheckedOnly(info, deque())
    for i in range(0, len(content), 65536):
        consumer.feed(content[i : i + 65536])
    if intact:
        consumer.finish()
    else:
        with pytest.raises(BadBundle, match="does not match the hash"):
            consumer.finish()
    if kind == "stored":
        assert pair.patient.repo.document_content(pair.profile.id, doc.id) == content
