"""The standard `age` tool opens our bundles, and what it finds validates as FHIR."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import shutil
import subprocess
import tarfile
import time

import pytest

from ohvault import identity
from ohvault.bundles import age
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import import_bundle
from ohvault.fhir.validate import validate_bundle

from .conftest import TEST_LOG_N, Pair, fill

AGE = shutil.which("age")
pytestmark = pytest.mark.skipif(
    AGE is None and os.environ.get("CI") != "true", reason="the age tool is not installed"
)


def _check_plaintext(plain: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["entries"]:
        assert hashlib.sha256(files[entry["path"]]).hexdigest() == entry["sha256"]
    fhir = json.loads(files["fhir/bundle.json"])
    validate_bundle(fhir)
    kinds = {e["resource"]["resourceType"] for e in fhir["entry"]}
    assert {"Patient", "Observation", "DiagnosticReport", "DocumentReference"} <= kinds
    obs = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "Observation"]
    glucose = next(o for o in obs if o["code"]["coding"][0]["code"] == "2345-7")
    assert glucose["valueQuantity"] == {
        "value": 5.4,
        "unit": "mmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "mmol/L",
    }
    assert glucose["referenceRange"][0]["low"]["value"] == 3.9


def test_age_tool_decrypts_with_exported_identity(pair: Pair) -> None:
    assert AGE is not None
    fill(pair.patient, pair.profile.id)
    me = identity.load_or_create(pair.clinician)
    out = pair.tmp / "to-age.ohvbundle"
    write_bundle(
        pair.patient, plan_export(pair.patient, pair.profile.id), out, recipients=[me.age_recipient]
    )
    key_file = pair.tmp / "clinician.agekey"
    identity.export_age_identity(pair.clinician, me, key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    plain = subprocess.run(
        [AGE, "-d", "-i", str(key_file), str(out)], check=True, capture_output=True
    ).stdout
    _check_plaintext(plain)


def _age_with_passphrase(args: list[str], passphrase: str) -> int:
    """age reads passphrases only from a terminal, so give it one."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child execs age
        os.execv(args[0], args)  # noqa: S606 - a fixed binary and arguments
    deadline = time.monotonic() + 30
    output = b""
    sent = 0
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        # age asks once to decrypt, twice (enter + confirm) to encrypt.
        while output.lower().count(b"passphrase") > sent:
            os.write(fd, passphrase.encode() + b"\n")
            sent += 1
        assert time.monotonic() < deadline, "age did not finish"
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status)


def test_passphrase_bundles_interoperate_with_age_tool(pair: Pair) -> None:
    assert AGE is not None
    fill(pair.patient, pair.profile.id)
    out = pair.tmp / "pw.ohvbundle"
    plan = plan_export(pair.patient, pair.profile.id)
    write_bundle(pair.patient, plan, out, passphrase="interop passphrase", scrypt_log_n=TEST_LOG_N)
    decrypted = pair.tmp / "pw.tar"
    assert (
        _age_with_passphrase([AGE, "-d", "-o", str(decrypted), str(out)], "interop passphrase") == 0
    )
    _check_plaintext(decrypted.read_bytes())
    # And the other way: age encrypts with a passphrase, our streamed scrypt reader opens it.
    again = pair.tmp / "age-made.age"
    assert (
        _age_with_passphrase([AGE, "-p", "-o", str(again), str(decrypted)], "interop passphrase")
        == 0
    )
    back = io.BytesIO()
    with again.open("rb") as handle:
        age.decrypt_passphrase(handle, back, "interop passphrase")
    assert back.getvalue() == decrypted.read_bytes()
    result = import_bundle(pair.clinician, again, passphrase="interop passphrase")
    assert result.counts["observation"] == 3


def test_bundle_armored_by_age_imports(pair: Pair) -> None:
    """`age -a` output (ASCII armor) is a bundle too: the importer decodes it as it reads."""
    assert AGE is not None
    fill(pair.patient, pair.profile.id)
    me = identity.load_or_create(pair.clinician)
    binary = pair.tmp / "binary.ohvbundle"
    write_bundle(
        pair.patient,
        plan_export(pair.patient, pair.profile.id),
        binary,
        recipients=[me.age_recipient],
    )
    key_file = pair.tmp / "clinician.agekey"
    identity.export_age_identity(pair.clinician, me, key_file)
    plain = subprocess.run(
        [AGE, "-d", "-i", str(key_file), str(binary)], check=True, capture_output=True
    ).stdout
    armored = pair.tmp / "armored.ohvbundle"
    subprocess.run([AGE, "-a", "-r", me.age_recipient, "-o", str(armored)], input=plain, check=True)
    assert armored.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    result = import_bundle(pair.clinician, armored)
    assert result.added and result.trust == "new"
