"""Vault benchmarks: unlock, bulk insert, latest-values query, backup.

Run: `make bench` (all benchmarks, rewrites docs/performance.md) or
`bash tests/run-with-keyring.sh .venv/bin/python -m benchmarks.vault_bench`.
Targets (issue 2): keychain unlock < 50 ms, 100k insert < 5 s, latest-values query < 50 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ohvault.keys.wrap import KdfParams
from ohvault.model import Document, Observation
from ohvault.vault import Credentials, Vault
from ohvault.vault.backup import create_backup, restore_backup

TITLE = "Vault: unlock, bulk insert, latest values, backup and restore"
ANALYTES = [f"Analyte {i}" for i in range(120)]


def _observations(profile_id: str, n: int) -> list[Observation]:
    rng = random.Random(7)
    start = date(2015, 1, 1)
    return [
        Observation(
            profile_id=profile_id,
            analyte=ANALYTES[i % len(ANALYTES)],
            loinc=None,
            value_num=round(rng.uniform(1, 200), 2),
            unit="mg/dL",
            effective=start + timedelta(days=i // len(ANALYTES)),
        )
        for i in range(n)
    ]


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def run(n_observations: int = 100_000, backup_mb: int = 100) -> dict[str, Any]:
    results: dict[str, Any] = {"n_observations": n_observations}
    with tempfile.TemporaryDirectory(prefix="ohvault-bench-") as tmp:
        os.environ.setdefault("OHVAULT_CONFIG_DIR", str(Path(tmp) / "config"))
        home = Path(tmp) / "vault"
        vault, _ = Vault.create(
            home, passphrase="benchmark passphrase", profile_name="Bench Person"
        )
        pid = vault.repo.profiles()[0].id

        rows = _observations(pid, n_observations)
        t = time.perf_counter()
        vault.repo.add_many(rows)
        results["insert_100k_s"] = round(time.perf_counter() - t, 3)

        samples = []
        for _ in range(15):
            t = time.perf_counter()
            latest = vault.repo.latest_observations(pid)
            samples.append(time.perf_counter() - t)
        assert len(latest) == len(ANALYTES)
        results["latest_values_ms"] = _median_ms(samples)
        vault.lock()

        samples = []
        for _ in range(15):
            t = time.perf_counter()
            v = Vault.open(home, auto_backup=False)
            v.repo.profiles()
            samples.append(time.perf_counter() - t)
            v.lock()
        results["keychain_unlock_to_first_query_ms"] = _median_ms(samples)

        samples = []
        for _ in range(3):
            t = time.perf_counter()
            v = Vault.open(
                home,
                Credentials(passphrase="benchmark passphrase", use_keychain=False),
                auto_backup=False,
            )
            v.repo.profiles()
            samples.append(time.perf_counter() - t)
            v.lock()
        params = KdfParams()
        results["passphrase_unlock_ms"] = _median_ms(samples)
        results["kdf"] = (
            f"Argon2id {params.memory_kib // 1024} MiB, {params.iterations} passes, {params.parallelism} lanes"
        )

        # Grow the vault to about `backup_mb` MB with document blobs, then back it up.
        with Vault.open(home, auto_backup=False) as v:
            rng = random.Random(1)
            while (home / "vault.db").stat().st_size < backup_mb * 1_000_000:
                blob = rng.randbytes(4_000_000)
                v.repo.add_document(
                    Document(
                        profile_id=pid,
                        filename="scan.pdf",
                        sha256=hashlib.sha256(blob).hexdigest(),
                        size=len(blob),
                    ),
                    blob,
                )
            size_mb = (home / "vault.db").stat().st_size / 1_000_000
            t = time.perf_counter()
            info = create_backup(v, Path(tmp) / "bench.ohvbackup")
            elapsed = time.perf_counter() - t
        results["backup_vault_mb"] = round(size_mb, 1)
        results["backup_s"] = round(elapsed, 3)
        results["backup_mb_per_s"] = round(size_mb / elapsed, 1)
        results["backup_file_mb"] = round(info.size / 1_000_000, 1)
        t = time.perf_counter()
        restore_backup(home, info.path, Credentials())
        results["restore_s"] = round(time.perf_counter() - t, 3)
        Vault.destroy(home, with_backups=True)
    results["targets_met"] = {
        "keychain_unlock_under_50ms": results["keychain_unlock_to_first_query_ms"] < 50,
        "insert_100k_under_5s": results["insert_100k_s"] < 5,
        "latest_values_under_50ms": results["latest_values_ms"] < 50,
    }
    return results


def markdown(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| measurement | result | target |",
            "| --- | --- | --- |",
            f"| unlock from the keychain to first query (median of 15) | {r['keychain_unlock_to_first_query_ms']} ms | < 50 ms |",
            f"| unlock by passphrase ({r['kdf']}, median of 3) | {r['passphrase_unlock_ms']} ms | ≈ 500 ms on purpose |",
            f"| insert {r['n_observations']:,} observations (one transaction) | {r['insert_100k_s']} s | < 5 s |",
            f"| latest value of every analyte over {r['n_observations']:,} observations (median of 15) | {r['latest_values_ms']} ms | < 50 ms |",
            f"| backup of a {r['backup_vault_mb']} MB vault | {r['backup_s']} s ({r['backup_mb_per_s']} MB/s) | — |",
            f"| verified restore of that backup (the recovery time objective) | {r['restore_s']} s | — |",
        ]
    )


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("vault_bench", TITLE, markdown(result))


if __name__ == "__main__":
    out = run()
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if "--write-docs" in sys.argv:
        write_docs(out)
