"""Write the seed corpora under tests/hardening/fuzz/seeds/<target>/ (committed).

Run under the keyring wrapper from the repository root after a format change:
    bash tests/run-with-keyring.sh .venv/bin/python -m tests.hardening.fuzz.make_seeds
Everything is synthetic: a made-up person, made-up results.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from datetime import date
from pathlib import Path

from fpdf import FPDF

from ohvault.bundles import age
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.keys.wrap import KdfParams
from ohvault.model import Observation
from ohvault.vault import Vault
from tests.hardening import hostile_pdfs
from tests.hardening.fuzz.sync_harness import script, sealed_changes
from tests.hardening.fuzz.targets import BUNDLE_PASSPHRASE

SEEDS = Path(__file__).resolve().parent / "seeds"
_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1)  # seeds only


def lab_pdf(
    rows: list[tuple[str, str, str, str]],
    *,
    title: str = "Synthetic Labs",
    patient: str = "Fuzz Person",
) -> bytes:
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(40, 50, title)
    pdf.set_font("Helvetica", size=9)
    pdf.text(40, 70, f"Patient: {patient}    DOB: 1970-01-01    Collected: 2024-03-01")
    for x, head in ((40, "Test"), (220, "Result"), (300, "Units"), (380, "Reference range")):
        pdf.text(x, 100, head)
    for i, (name, value, unit, ref) in enumerate(rows):
        y = 116 + 14 * i
        for x, cell in ((40, name), (220, value), (300, unit), (380, ref)):
            pdf.text(x, y, cell)
    return bytes(pdf.output())


def write(target: str, name: str, data: bytes) -> None:
    out = SEEDS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(data)


def pdf_seeds() -> None:
    write("pdf", "cbc.pdf", lab_pdf([
        ("Hemoglobin", "13.9", "g/dL", "12.0 - 15.5"),
        ("WBC", "6.1", "10^3/uL", "4.0 - 11.0"),
        ("Platelets", "250", "10^3/uL", "150 - 400"),
    ]))  # fmt: skip
    write("pdf", "chem.pdf", lab_pdf([
        ("Glucose", "5.4", "mmol/L", "3.9-5.6"),
        ("Creatinine", "<0.5", "mg/dL", "0.6-1.2"),
        ("TSH", "H 6.20", "mIU/L", "0.4-4.0"),
    ], title="Another Lab GmbH"))  # fmt: skip
    write("pdf", "not-a-pdf.txt", b"Glucose 5.4 mmol/L\n")
    # Hostile structure that the in-process parser survives (it hangs on the ones below).
    write("pdf", "page-tree-loop.pdf", hostile_pdfs.page_tree_loop())


def pdf_sandboxed_seeds() -> None:
    """The files that hang or exhaust the parser in-process: only the sandboxed target reads them."""
    write("pdf_sandboxed", "cbc.pdf", (SEEDS / "pdf" / "cbc.pdf").read_bytes())
    write("pdf_sandboxed", "length-reference-loop.pdf", hostile_pdfs.length_reference_loop())
    write("pdf_sandboxed", "self-reference.pdf", hostile_pdfs.self_reference())
    write("pdf_sandboxed", "page-tree-loop.pdf", hostile_pdfs.page_tree_loop())
    # 512 MiB of content in about 0.5 MB: over the fuzz target's 384 MiB memory cap.
    write("pdf_sandboxed", "decompression-bomb.pdf", hostile_pdfs.decompression_bomb(512))


def vault_seeds(work: Path) -> None:
    vault, _ = Vault.create(work / "v", passphrase="seed passphrase 1", profile_name="Fuzz Person",
                            kdf=_KDF)  # fmt: skip
    with vault:
        pid = vault.repo.profiles()[0].id
        vault.repo.add(Observation(profile_id=pid, analyte="Glucose", loinc="2345-7",
                                   value_num=5.4, unit="mmol/L", effective=date(2024, 3, 1)))  # fmt: skip
        write("header", "header.json", vault.files.header.read_bytes())
        out = work / "seed.ohvbundle"
        write_bundle(vault, plan_export(vault, pid), out, passphrase=BUNDLE_PASSPHRASE,
                     scrypt_log_n=2)  # fmt: skip
    raw = out.read_bytes()
    write("bundle", "age-scrypt", b"\x00" + raw)
    plain = io.BytesIO()
    age.decrypt_passphrase(io.BytesIO(raw), plain, BUNDLE_PASSPHRASE)
    write("bundle", "tar", b"\x01" + plain.getvalue())
    with tarfile.open(fileobj=io.BytesIO(plain.getvalue())) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            assert f is not None
            content = f.read()
            if member.name == "manifest.json":
                write("bundle", "manifest", b"\x02" + content)
            elif member.name.endswith(".json"):
                write("bundle", "fhir", b"\x03" + content)


def sync_seeds() -> None:
    pull = {"bundles": [{"seq": 1, "bundle_id": "b1", "payload": sealed_changes("b1", [])}],
            "head": 1, "more": False}  # fmt: skip
    write("sync", "pull-then-push", script((200, json.dumps(pull).encode()), (201, b'{"seq": 2}')))
    write("sync", "empty-pull", script((200, b'{"bundles": [], "head": 0, "more": false}'),
                                       (201, b'{"seq": 1}')))  # fmt: skip
    write("sync", "stale-push", script((200, b'{"bundles": [], "head": 0, "more": false}'),
                                       (409, b'{"error": {"code": "stale"}}')))  # fmt: skip
    write("sync", "expired-token", script((401, b'{"error": {"code": "token_expired"}}'),
                                          (200, b'{"access_token": "a", "refresh_token": "r", '
                                                b'"device_id": "d", "account_id": "x"}')))  # fmt: skip
    write("sync", "snapshot", script((410, b"{}"), (200, b'{"snapshot_id": "s1", "parts": 1, '
                                                         b'"upto_seq": 3}')))  # fmt: skip
    write("sync", "retry", script((503, b""), (429, b'{"error": {"code": "slow_down"}}')))


def main() -> None:
    pdf_seeds()
    pdf_sandboxed_seeds()
    sync_seeds()
    with tempfile.TemporaryDirectory() as work:
        vault_seeds(Path(work))
    for target in sorted(p.name for p in SEEDS.iterdir()):
        print(target, sorted(p.name for p in (SEEDS / target).iterdir()))


if __name__ == "__main__":
    main()
