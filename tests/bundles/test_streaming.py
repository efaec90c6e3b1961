"""The streamed paths: our age layer against pyrage at chunk boundaries, and the export's
background blob reader (bounded, verified, stopped cleanly on failure or cancel)."""

from __future__ import annotations

import io
import os
import threading

import pyrage
import pytest

from ohvault import identity
from ohvault.bundles import age
from ohvault.bundles.blobs import DEPTH, PIECE
from ohvault.bundles.export import Cancelled, plan_export, write_bundle
from ohvault.bundles.importer import import_bundle
from ohvault.errors import VaultCorrupt
from ohvault.model import Document

from .conftest import Pair, add_document, pdf_bytes, unpack

CHUNK = age.CHUNK
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 16 * CHUNK, 16 * CHUNK + 1, 17 * CHUNK]


@pytest.mark.parametrize("size", SIZES)
def test_age_layer_matches_pyrage_at_chunk_boundaries(size: int) -> None:
    me = pyrage.x25519.Identity.generate()
    other = pyrage.x25519.Identity.generate()
    data = os.urandom(size)
    ours = io.BytesIO()
    encryptor = age.x25519_encryptor(ours, [str(other.to_public()), str(me.to_public())])
    # Uneven pushes: pieces that straddle, fill and overrun the held-back chunk.
    pos = 0
    for step in [1, CHUNK - 1, 3, 2 * CHUNK + 5, 100] * 20:
        encryptor.write(data[pos : pos + step])
        pos += step
    encryptor.write(data[pos:])
    encryptor.close()
    assert pyrage.decrypt(ours.getvalue(), [me]) == data
    theirs = pyrage.encrypt(data, [me.to_public()])
    back = io.BytesIO()
    age.decrypt_x25519(io.BytesIO(theirs), back, [str(me)])
    assert back.getvalue() == data


def test_age_layer_refuses_a_stream_cut_at_a_chunk_boundary() -> None:
    me = pyrage.x25519.Identity.generate()
    sealed = pyrage.encrypt(os.urandom(3 * CHUNK), [me.to_public()])
    # Dropping whole final chunks leaves a stream whose last chunk lacks the final flag.
    for cut in (len(sealed) - (CHUNK + 16), len(sealed) - 2 * (CHUNK + 16)):
        with pytest.raises(age.BadBundle):
            age.decrypt_x25519(io.BytesIO(sealed[:cut]), io.BytesIO(), [str(me)])


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bundle-blobs"]


def _big_documents(pair: Pair) -> list[bytes]:
    # More bytes than the reader may queue, so the bounded queue really blocks.
    contents = [pdf_bytes(DEPTH * PIECE // 2 + 12_345) for _ in range(3)]
    for i, content in enumerate(contents):
        add_document(pair.patient, pair.profile.id, content, f"scan-{i}.pdf")
    return contents


def test_export_streams_large_documents_intact(pair: Pair) -> None:
    contents = _big_documents(pair)
    me = identity.load_or_create(pair.clinician)
    out = pair.tmp / "big.ohvbundle"
    write_bundle(
        pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[me.age_recipient]
    )
    entries = unpack(out, me.age_identity)
    assert sorted(v for k, v in entries.items() if k.startswith("attachments/")) == sorted(contents)
    assert _reader_threads() == []
    result = import_bundle(pair.clinician, out)
    stored = [
        pair.clinician.repo.document_content(result.profile_id, d.id)
        for d in pair.clinician.repo.records(Document, result.profile_id)
    ]
    assert sorted(stored) == sorted(contents)


def test_export_stops_on_a_damaged_stored_document(pair: Pair) -> None:
    _big_documents(pair)
    me = identity.load_or_create(pair.clinician)
    plan = plan_export(pair.patient, pair.profile.id)
    victim = plan.documents[1]
    # Damage the stored bytes behind the recorded hash (same size, one byte changed).
    pair.patient.db.execute(
        "UPDATE document_blobs SET content = CAST(? AS BLOB) || substr(content, 2) "
        "WHERE document_id = ?",
        (b"X", victim.id),
    )
    out = pair.tmp / "damaged.ohvbundle"
    with pytest.raises(VaultCorrupt):
        write_bundle(pair.patient, plan, out, recipients=[me.age_recipient])
    assert list(pair.tmp.glob("*damaged*")) == []
    assert _reader_threads() == []
    # The connection is free again: the vault keeps working.
    assert pair.patient.repo.counts()["profiles"] == 1


def test_cancel_midway_stops_the_reader(pair: Pair) -> None:
    _big_documents(pair)
    me = identity.load_or_create(pair.clinician)
    calls = [0]

    def cancel_later() -> bool:
        calls[0] += 1
        return calls[0] > 10  # well inside the first document

    out = pair.tmp / "cancelled.ohvbundle"
    with pytest.raises(Cancelled):
        write_bundle(
            pair.patient,
            plan_export(pair.patient, pair.profile.id),
            out,
            recipients=[me.age_recipient],
            should_cancel=cancel_later,
        )
    assert list(pair.tmp.glob("*cancelled*")) == []
    assert _reader_threads() == []
