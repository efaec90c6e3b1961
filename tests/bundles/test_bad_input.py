"""Damaged, forged, misaddressed or hostile bundles: a clear error, and nothing imported."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ohvault import identity
from ohvault.bundles.age import BadBundle
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import KeyChanged, import_bundle
from ohvault.bundles.manifest import UnsupportedVersion
from ohvault.errors import OhvaultError, WrongKey
from ohvault.fhir.validate import FhirInvalid
from ohvault.vault import Vault

from .conftest import Pair, fill, repack, unpack


def nothing_imported(vault: Vault) -> bool:
    counts = vault.repo.counts()
    imports = vault.db.execute("SELECT count(*) FROM bundle_imports").fetchone()[0]
    return imports == 0 and all(v == 0 for v in counts.values())


@pytest.fixture
def bundle(pair: Pair) -> Path:
    fill(pair.patient, pair.profile.id)
    out = pair.tmp / "good.ohvbundle"
    key = identity.load_or_create(pair.clinician).age_recipient
    write_bundle(pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[key])
    return out


def entries_of(pair: Pair, bundle: Path) -> dict[str, bytes]:
    return unpack(bundle, identity.load_or_create(pair.clinician).age_identity)


def resign(pair: Pair, entries: dict[str, bytes], manifest: dict[str, object]) -> None:
    raw = json.dumps(manifest).encode()
    entries["manifest.json"] = raw
    entries["manifest.sig"] = identity.load_or_create(pair.patient).sign(raw).hex().encode()


def forge(pair: Pair, entries: dict[str, bytes] | list[tuple[str, bytes]], name: str) -> Path:
    items = list(entries.items()) if isinstance(entries, dict) else entries
    key = identity.load_or_create(pair.clinician).age_recipient
    return repack(items, key, pair.tmp / name)


def expect_refused(pair: Pair, path: Path, error: type[OhvaultError], words: str) -> None:
    with pytest.raises(error) as info:
        import_bundle(pair.clinician, path)
    assert words.lower() in info.value.message.lower()
    assert "Alex" not in str(info.value) and "Glucose" not in str(info.value)
    assert nothing_imported(pair.clinician)


def test_forged_repack_of_intact_entries_imports(pair: Pair, bundle: Path) -> None:
    # The forging helpers themselves produce importable bundles, so the refusals below
    # are caused by the one thing each test breaks.
    path = forge(pair, entries_of(pair, bundle), "same.ohvbundle")
    assert import_bundle(pair.clinician, path).added > 0


@pytest.mark.parametrize("where", [30, 200, 0.5, -20, -1])
def test_flipped_byte_anywhere(pair: Pair, bundle: Path, where: float) -> None:
    data = bytearray(bundle.read_bytes())
    pos = int(len(data) * where) if isinstance(where, float) else where % len(data)
    data[pos] ^= 0x01
    bad = pair.tmp / "flipped.ohvbundle"
    bad.write_bytes(bytes(data))
    with pytest.raises((BadBundle, WrongKey)):
        import_bundle(pair.clinician, bad)
    assert nothing_imported(pair.clinician)


@pytest.mark.parametrize("keep", [0.5, -1, 40])
def test_truncated_file(pair: Pair, bundle: Path, keep: float) -> None:
    data = bundle.read_bytes()
    cut = (
        int(len(data) * keep)
        if isinstance(keep, float)
        else (keep if keep > 0 else len(data) + keep)
    )
    bad = pair.tmp / "cut.ohvbundle"
    bad.write_bytes(data[:cut])
    with pytest.raises(BadBundle):
        import_bundle(pair.clinician, bad)
    assert nothing_imported(pair.clinician)


def test_wrong_recipient(pair: Pair, make_vault: object) -> None:
    fill(pair.patient, pair.profile.id)
    import pyrage

    other = str(pyrage.x25519.Identity.generate().to_public())
    out = pair.tmp / "other.ohvbundle"
    write_bundle(pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[other])
    identity.load_or_create(pair.clinician)
    expect_refused(pair, out, WrongKey, "not addressed")


def test_wrong_passphrase(pair: Pair) -> None:
    fill(pair.patient, pair.profile.id)
    out = pair.tmp / "pw.ohvbundle"
    plan = plan_export(pair.patient, pair.profile.id)
    write_bundle(pair.patient, plan, out, passphrase="right passphrase", scrypt_log_n=10)
    with pytest.raises(WrongKey):
        import_bundle(pair.clinician, out, passphrase="wrong passphrase")
    assert nothing_imported(pair.clinician)


def test_missing_signature(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    del entries["manifest.sig"]
    expect_refused(pair, forge(pair, entries, "nosig.ohvbundle"), BadBundle, "not signed")


def test_signature_by_another_key(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    entries["manifest.sig"] = (
        Ed25519PrivateKey.generate().sign(entries["manifest.json"]).hex().encode()
    )
    expect_refused(
        pair, forge(pair, entries, "othersig.ohvbundle"), BadBundle, "signature does not verify"
    )


def test_manifest_changed_after_signing(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    manifest = json.loads(entries["manifest.json"])
    manifest["counts"]["observation"] = 99
    entries["manifest.json"] = json.dumps(manifest).encode()
    expect_refused(
        pair, forge(pair, entries, "edited.ohvbundle"), BadBundle, "signature does not verify"
    )


def test_entry_changed_after_signing(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    doc = next(k for k in entries if k.startswith("attachments/"))
    entries[doc] = bytes([entries[doc][0] ^ 1]) + entries[doc][1:]
    expect_refused(
        pair, forge(pair, entries, "doc.ohvbundle"), BadBundle, "does not match the hash"
    )


def test_entry_changed_in_a_re_import_leaves_the_stored_document_alone(
    pair: Pair, bundle: Path
) -> None:
    """Attachments are stored as they arrive and checked at their end; an unchanged
    document's bytes are checked too, and a failure keeps what the vault already held."""
    first = import_bundle(pair.clinician, bundle)
    entries = entries_of(pair, bundle)
    doc_path = next(k for k in entries if k.startswith("attachments/"))
    doc_id = doc_path.rsplit("/", 1)[1]
    kept = pair.clinician.repo.document_content(first.profile_id, doc_id)
    assert kept == entries[doc_path]
    entries[doc_path] = entries[doc_path][:-1] + bytes([entries[doc_path][-1] ^ 1])
    with pytest.raises(BadBundle, match="does not match the hash"):
        import_bundle(pair.clinician, forge(pair, entries, "again.ohvbundle"))
    assert pair.clinician.repo.document_content(first.profile_id, doc_id) == kept
    imports = pair.clinician.db.execute("SELECT count(*) FROM bundle_imports").fetchone()[0]
    assert imports == 1


def test_unknown_format_version(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    manifest = json.loads(entries["manifest.json"])
    manifest["version"] = 2
    resign(pair, entries, manifest)
    expect_refused(pair, forge(pair, entries, "v2.ohvbundle"), UnsupportedVersion, "format version")


@pytest.mark.parametrize("evil", ["../../etc/passwd", "/etc/passwd", "attachments/../x", "a\\b"])
def test_unsafe_attachment_path(pair: Pair, bundle: Path, evil: str) -> None:
    entries = entries_of(pair, bundle)
    manifest = json.loads(entries["manifest.json"])
    manifest["entries"].append(
        {"path": evil, "size": 4, "sha256": hashlib.sha256(b"evil").hexdigest()}
    )
    resign(pair, entries, manifest)
    items = [*entries.items(), (evil, b"evil")]
    expect_refused(pair, forge(pair, items, "evil.ohvbundle"), BadBundle, "unsafe path")


def test_size_bomb_is_refused_before_reading(pair: Pair, bundle: Path) -> None:
    """A signed manifest and header claiming 64 GiB: refused at the header, no content read."""
    import tarfile

    import pyrage

    entries = entries_of(pair, bundle)
    manifest = json.loads(entries["manifest.json"])
    huge = 64 << 30
    manifest["entries"].append({"path": "attachments/bomb", "size": huge, "sha256": "0" * 64})
    resign(pair, entries, manifest)
    raw = b""
    for name, data in entries.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        raw += info.tobuf(format=tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512)
    head = tarfile.TarInfo("attachments/bomb")
    head.size = huge
    # Only the header and a little content: the claim alone must be enough to refuse.
    raw += head.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * (1 << 20)
    key = identity.load_or_create(pair.clinician).age_recipient
    bad = pair.tmp / "bomb.ohvbundle"
    bad.write_bytes(pyrage.encrypt(raw, [pyrage.x25519.Recipient.from_str(key)]))
    with pytest.raises(BadBundle) as info:
        import_bundle(pair.clinician, bad)
    assert "malformed" in info.value.message or "larger" in info.value.message
    assert nothing_imported(pair.clinician)


def test_entry_larger_than_manifest_says(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    doc = next(k for k in entries if k.startswith("attachments/"))
    entries[doc] += b"\0" * 10_000_000
    expect_refused(pair, forge(pair, entries, "grown.ohvbundle"), BadBundle, "size differs")


def test_compressed_inner_archive_is_not_a_bundle(pair: Pair, bundle: Path) -> None:
    import gzip

    import pyrage

    key = identity.load_or_create(pair.clinician)
    plain = pyrage.decrypt(bundle.read_bytes(), [pyrage.x25519.Identity.from_str(key.age_identity)])
    bad = pair.tmp / "gz.ohvbundle"
    bad.write_bytes(
        pyrage.encrypt(gzip.compress(plain), [pyrage.x25519.Recipient.from_str(key.age_recipient)])
    )
    expect_refused(pair, bad, BadBundle, "not an ohvault bundle")


def test_fhir_that_does_not_validate(pair: Pair, bundle: Path) -> None:
    entries = entries_of(pair, bundle)
    fhir = json.loads(entries["fhir/bundle.json"])
    obs = next(e for e in fhir["entry"] if e["resource"]["resourceType"] == "Observation")
    obs["resource"]["valueQuantity"]["value"] = "Glucose high"
    entries["fhir/bundle.json"] = json.dumps(fhir).encode()
    manifest = json.loads(entries["manifest.json"])
    for e in manifest["entries"]:
        if e["path"] == "fhir/bundle.json":
            e["size"] = len(entries["fhir/bundle.json"])
            e["sha256"] = hashlib.sha256(entries["fhir/bundle.json"]).hexdigest()
    resign(pair, entries, manifest)
    expect_refused(pair, forge(pair, entries, "fhir.ohvbundle"), FhirInvalid, "does not validate")


def test_key_change_is_refused_until_accepted(pair: Pair, bundle: Path) -> None:
    first = import_bundle(pair.clinician, bundle)
    # The patient's vault gets a new identity (e.g. a reinstall): same patient, new key.
    with pair.patient.db.transaction():
        pair.patient.db.execute("DELETE FROM meta WHERE key LIKE 'identity:%'")
    again = pair.tmp / "newkey.ohvbundle"
    key = identity.load_or_create(pair.clinician).age_recipient
    write_bundle(pair.patient, plan_export(pair.patient, pair.profile.id), again, recipients=[key])
    with pytest.raises(KeyChanged) as info:
        import_bundle(pair.clinician, again)
    assert first.sender_fingerprint in info.value.message and "CHANGED" in info.value.message
    assert pair.clinician.db.execute("SELECT count(*) FROM bundle_imports").fetchone()[0] == 1
    accepted = import_bundle(pair.clinician, again, accept_key_change=True)
    assert accepted.trust == "changed" and accepted.previous_fingerprint == first.sender_fingerprint
    assert accepted.profile_id == first.profile_id
    assert import_bundle(pair.clinician, again).trust == "known"


def test_forwarded_bundle_is_recognised(pair: Pair, bundle: Path, make_vault: object) -> None:
    other, _ = make_vault(home=pair.tmp / "other-clinician", kind="clinician", profile_name=None)  # type: ignore[operator]
    entries = entries_of(pair, bundle)  # decrypted by the intended clinician…
    key = identity.load_or_create(other).age_recipient
    forwarded = repack(list(entries.items()), key, pair.tmp / "fwd.ohvbundle")  # …and passed on
    result = import_bundle(other, forwarded)
    assert not result.addressed_to_us
    assert any("addressed to someone else" in w for w in result.warnings)
    assert import_bundle(pair.clinician, bundle).addressed_to_us


def test_dry_run_verifies_and_stores_nothing(pair: Pair, bundle: Path) -> None:
    result = import_bundle(pair.clinician, bundle, dry_run=True)
    assert result.dry_run and result.added > 0
    assert nothing_imported(pair.clinician)
