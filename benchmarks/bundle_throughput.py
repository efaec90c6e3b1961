"""Bundle export/import throughput with 200 MB of documents, next to the `age` tool.

    python -m benchmarks.bundle_throughput [--mb 200] [--doc-mb 10] [--runs 3] [--write-docs]

Prints JSON. The ratio compares ohvault's end-to-end export (read blobs from
SQLCipher, hash, sign, tar, encrypt) and import (decrypt, verify, validate,
store) with `age` encrypting / decrypting the same plaintext archive from a
file; `age_layer_*` isolates our age layer (pyrage streaming, file to file) on the
same bytes, which shows how much of the gap is the encrypted database. Peak RSS is sampled after each phase to show that memory stays bounded by
one document, not the bundle size. Best of --runs for each timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ohvault import identity
from ohvault.bundles import age as age_layer
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import import_bundle
from ohvault.keys.wrap import KdfParams
from ohvault.model import Document
from ohvault.vault import Vault

# Benchmark vaults only: a cheap KDF so setup time does not drown the numbers.
BENCH_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1)
PASSPHRASE = "benchmark passphrase"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vault(home: Path, kind: str) -> Vault:
    vault, _ = Vault.create(
        home, passphrase=PASSPHRASE, kind=kind, profile_name="Bench Person", kdf=BENCH_KDF
    )
    return vault


def best(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


TITLE = "Bundle export / import"


def run(total_mb: int = 200, doc_mb: int = 10, runs: int = 3) -> dict[str, Any]:
    age_bin = shutil.which("age")
    work = Path(tempfile.mkdtemp(prefix="ohv-bench-"))
    try:
        patient = _vault(work / "patient", "patient")
        profile = patient.repo.profiles()[0]
        for i in range(total_mb // doc_mb):
            content = os.urandom(doc_mb << 20)
            patient.repo.add_document(
                Document(
                    profile_id=profile.id,
                    filename=f"scan-{i}.pdf",
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                ),
                content,
            )
            del content
        rss_setup = rss_mb()
        clinician_home = work / "clinician"
        clinician = _vault(clinician_home, "clinician")
        me = identity.load_or_create(clinician)
        plan = plan_export(patient, profile.id)
        out = work / "bench.ohvbundle"
        export_s = best(
            lambda: write_bundle(patient, plan, out, recipients=[me.age_recipient]), runs
        )
        rss_export = rss_mb()

        def fresh_import() -> None:
            # Each run imports into an empty patient list (a re-import would be a no-op merge).
            with clinician.db.transaction():
                for table in ("document_blobs", "documents", "bundle_imports", "trusted_senders"):
                    clinician.db.execute(f"DELETE FROM {table}")  # noqa: S608
                clinician.db.execute("DELETE FROM profiles")
            import_bundle(clinician, out)

        import_s = best(fresh_import, runs)
        rss_import = rss_mb()
        bundle_bytes = out.stat().st_size
        result: dict[str, Any] = {
            "documents_mb": total_mb,
            "document_mb_each": doc_mb,
            "bundle_bytes": bundle_bytes,
            "export_s": round(export_s, 3),
            "export_mb_s": round(bundle_bytes / 1e6 / export_s, 1),
            "import_s": round(import_s, 3),
            "import_mb_s": round(bundle_bytes / 1e6 / import_s, 1),
            "peak_rss_mb_after_setup": round(rss_setup, 1),
            "peak_rss_mb_after_export": round(rss_export, 1),
            "peak_rss_mb_after_import": round(rss_import, 1),
            "cpus": os.cpu_count(),
        }
        if age_bin:
            key_file = work / "id.age"
            identity.export_age_identity(clinician, me, key_file)
            plain = work / "plain.tar"
            subprocess.run(
                [age_bin, "-d", "-i", str(key_file), "-o", str(plain), str(out)], check=True
            )
            enc_s = best(
                lambda: subprocess.run(
                    [age_bin, "-r", me.age_recipient, "-o", str(work / "age.out"), str(plain)],
                    check=True,
                ),
                runs,
            )
            dec_s = best(
                lambda: subprocess.run(
                    [age_bin, "-d", "-i", str(key_file), "-o", str(work / "age.dec"), str(out)],
                    check=True,
                ),
                runs,
            )

            def layer_encrypt() -> None:
                with plain.open("rb") as src, (work / "layer.out").open("wb") as dst:
                    age_layer.encrypt_x25519(src, dst, [me.age_recipient])

            def layer_decrypt() -> None:
                with out.open("rb") as src, (work / "layer.dec").open("wb") as dst:
                    age_layer.decrypt_x25519(src, dst, [me.age_identity])

            layer_enc_s = best(layer_encrypt, runs)
            layer_dec_s = best(layer_decrypt, runs)
            result.update(
                age_layer_encrypt_mb_s=round(bundle_bytes / 1e6 / layer_enc_s, 1),
                age_layer_decrypt_mb_s=round(bundle_bytes / 1e6 / layer_dec_s, 1),
                age_layer_encrypt_vs_age=round(enc_s / layer_enc_s, 2),
                age_layer_decrypt_vs_age=round(dec_s / layer_dec_s, 2),
                age_encrypt_mb_s=round(bundle_bytes / 1e6 / enc_s, 1),
                age_decrypt_mb_s=round(bundle_bytes / 1e6 / dec_s, 1),
                export_vs_age=round(enc_s / export_s, 2),
                import_vs_age=round(dec_s / import_s, 2),
            )
        patient.lock()
        clinician.lock()
        return result
    finally:
        for name in ("patient", "clinician"):
            Vault.destroy(work / name, with_backups=True)
        shutil.rmtree(work, ignore_errors=True)


def markdown(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{r['documents_mb']} MB of documents ({r['document_mb_each']} MB each) in one bundle, "
            "encrypted to an X25519 recipient; best of the runs.",
            "",
            "| step | ohvault | `age` tool on the same bytes | ratio (target ≥ 0.7) |",
            "| --- | --- | --- | --- |",
            f"| export (vault → signed, encrypted bundle) | {r['export_mb_s']} MB/s | {r['age_encrypt_mb_s']} MB/s | {r['export_vs_age']} |",
            f"| import (bundle → verified, stored in a vault) | {r['import_mb_s']} MB/s | {r['age_decrypt_mb_s']} MB/s | {r['import_vs_age']} |",
            f"| age layer alone, encrypt | {r['age_layer_encrypt_mb_s']} MB/s | {r['age_encrypt_mb_s']} MB/s | {r['age_layer_encrypt_vs_age']} |",
            f"| age layer alone, decrypt | {r['age_layer_decrypt_mb_s']} MB/s | {r['age_decrypt_mb_s']} MB/s | {r['age_layer_decrypt_vs_age']} |",
            "",
            f"Peak memory (RSS): {r['peak_rss_mb_after_setup']} MB after setup, "
            f"{r['peak_rss_mb_after_export']} MB after export, {r['peak_rss_mb_after_import']} MB after import "
            "(bounded by the largest document, not the bundle).",
        ]
    )


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("bundle_throughput", TITLE, markdown(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--doc-mb", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    result = run(args.mb, args.doc_mb, args.runs)
    print(json.dumps(result, indent=2))
    if args.write_docs:
        write_docs(result)


if __name__ == "__main__":
    main()
