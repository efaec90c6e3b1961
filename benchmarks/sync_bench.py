"""Sync on loopback: incremental sync in a 100,000-observation vault, a new device's first
sync with and without a snapshot, and server push throughput with 50 concurrent clients.

    bash tests/run-with-keyring.sh .venv/bin/python -m benchmarks.sync_bench [--observations N] [--write-docs]

Prints JSON. Bytes are counted by the client (request and response bodies plus
headers, see ohvault/sync/transport.py); times are wall clock on 127.0.0.1 with a
real uvicorn server on SQLite. The load test is bounded: 50 clients x 20 pushes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from ohvault.keys.wrap import KdfParams
from ohvault.model import Observation
from ohvault.sync import SyncClient
from ohvault.vault import Vault

TITLE = "Sync (`python -m benchmarks.sync_bench`)"
ROOT = Path(__file__).resolve().parents[1]
BENCH_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1)  # benchmark vaults only
PASSWORD = "benchmark password 1"


class Server:
    def __init__(self, work: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ)
        env.update(
            OHVAULT_SERVER_SECRET=secrets.token_urlsafe(48),
            OHVAULT_SERVER_DATABASE_URL=f"sqlite:///{work / 'server.db'}",
            OHVAULT_SERVER_ARGON2_MEMORY_KIB=str(19 * 1024),
            OHVAULT_SERVER_ARGON2_ITERATIONS="2",
            # The load test makes 50 accounts from 127.0.0.1.
            OHVAULT_SERVER_ALLOW_REGISTRATION="true",
            OHVAULT_SERVER_IP_MAX_REGISTRATIONS="100000",
            OHVAULT_SERVER_IP_MAX_REFRESHES="100000",
        )
        self.log = (work / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ohvault.server",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _device(root: Path, name: str, profile: str | None = None) -> tuple[Vault, SyncClient]:
    vault, _ = Vault.create(root / name, kdf=BENCH_KDF, profile_name=profile)
    return vault, SyncClient(vault)


def _measure(client: SyncClient, **kw: Any) -> dict[str, Any]:
    report = client.sync(**kw)
    return {
        "seconds": report.seconds,
        "bytes_up": report.bytes_up,
        "bytes_down": report.bytes_down,
        "bundles_up": report.pushed_bundles,
        "bundles_down": report.pulled_bundles,
    }


def sync_scenarios(root: Path, url: str, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"observations": n}
    a, ca = _device(root, "a", profile="Bench Person")
    pid = a.repo.profiles()[0].id
    start = date(2000, 1, 1)
    a.repo.add_many(
        [
            Observation(
                profile_id=pid,
                analyte=f"Analyte {i % 120}",
                loinc=f"{1000 + i % 120}-{i % 10}",
                value_num=round(50 + (i % 997) * 0.37, 2),
                unit="mg/dL",
                ref_low=40.0,
                ref_high=400.0,
                effective=start + timedelta(days=i // 12),
                performer="Synthetic Lab",
                category="chemistry",
            )
            for i in range(n)
        ]
    )
    user = f"bench-{secrets.token_hex(4)}"
    ca.enable(url, user, PASSWORD, register=True)
    out["first_device_initial_upload"] = _measure(ca, snapshot=False)

    b, cb = _device(root, "b")
    cb.join(url, user, PASSWORD, pairing_code=ca.pairing_code())
    out["new_device_without_snapshot"] = _measure(cb, snapshot=False)

    ids = [r[0] for r in a.db.execute("SELECT id FROM observations LIMIT 10").fetchall()]
    for rid in ids:
        o = a.repo.get(Observation, pid, rid)
        o.note = "edited in benchmark"
        a.repo.update(o)
    out["incremental_push_10_changed"] = _measure(ca, snapshot=False)
    out["incremental_pull_10_changed"] = _measure(cb, snapshot=False)

    started = time.perf_counter()
    ca.sync(snapshot=True)
    out["snapshot_make_seconds"] = round(time.perf_counter() - started, 3)
    c, cc = _device(root, "c")
    cc.join(url, user, PASSWORD, pairing_code=ca.pairing_code())
    out["new_device_with_snapshot"] = _measure(cc, snapshot=False)
    for v in (a, b, c):
        v.lock()
        Vault.destroy(v.files.home, with_backups=True)
    return out


def load_test(
    url: str, clients: int = 50, pushes: int = 20, payload_bytes: int = 2048
) -> dict[str, Any]:
    """Each client has its own account and vault and pushes small bundles back to back."""
    sessions = []
    for _ in range(clients):
        user = f"load-{secrets.token_hex(4)}"
        httpx.post(
            f"{url}/v1/accounts", json={"username": user, "password": PASSWORD}
        ).raise_for_status()
        tok = httpx.post(
            f"{url}/v1/auth/login", json={"username": user, "password": PASSWORD}
        ).json()
        vid = str(uuid.uuid4())
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        httpx.put(f"{url}/v1/vaults/{vid}", headers=headers).raise_for_status()
        sessions.append((headers, vid))
    payload = base64.b64encode(secrets.token_bytes(payload_bytes)).decode()
    errors: list[int] = []
    barrier = threading.Barrier(clients + 1)

    def worker(headers: dict[str, str], vid: str) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            barrier.wait()
            for seq in range(pushes):
                r = http.post(
                    f"/v1/vaults/{vid}/bundles",
                    json={"bundle_id": str(uuid.uuid4()), "base_seq": seq, "payload": payload},
                )
                if r.status_code != 201:
                    errors.append(r.status_code)

    threads = [threading.Thread(target=worker, args=s) for s in sessions]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = clients * pushes
    return {
        "clients": clients,
        "pushes": total,
        "payload_bytes": payload_bytes,
        "seconds": round(elapsed, 3),
        "pushes_per_second": round(total / elapsed, 1),
        "errors": len(errors),
    }


def run(observations: int = 100_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ohv-sync-bench-") as tmp:
        root = Path(tmp)
        server = Server(root)
        try:
            result = sync_scenarios(root, server.url, observations)
            result["server_push_throughput"] = load_test(server.url)
        finally:
            server.stop()
    inc = result["incremental_push_10_changed"]
    result["targets"] = {
        "incremental_bytes_under_50kb": inc["bytes_up"] + inc["bytes_down"] < 50_000,
        "incremental_time_under_1s": inc["seconds"] < 1.0,
    }
    return result


def markdown(r: dict[str, Any]) -> str:
    rows = []
    for key in (
        "first_device_initial_upload",
        "new_device_without_snapshot",
        "incremental_push_10_changed",
        "incremental_pull_10_changed",
        "new_device_with_snapshot",
    ):
        m = r[key]
        rows.append(
            f"| {key.replace('_', ' ')} | {m['seconds']:.3f} | {m['bytes_up']:,} | {m['bytes_down']:,} |"
        )
    t = r["server_push_throughput"]
    return (
        f"Vault of {r['observations']:,} observations, two more devices joining; loopback, SQLite server.\n\n"
        "| scenario | seconds | bytes up | bytes down |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nMaking the snapshot: {r['snapshot_make_seconds']} s. "
        f"Targets (10 changed records): under 50 KB on the wire: {r['targets']['incremental_bytes_under_50kb']}; "
        f"under 1 s: {r['targets']['incremental_time_under_1s']}.\n\n"
        f"Server: {t['pushes_per_second']} pushes/s with {t['clients']} concurrent clients "
        f"({t['pushes']} pushes of {t['payload_bytes']} bytes in {t['seconds']} s, {t['errors']} errors).\n"
    )


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("sync_bench", TITLE, markdown(result))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--observations", type=int, default=100_000)
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    result = run(args.observations)
    print(json.dumps(result, indent=2))
    if args.write_docs:
        write_docs(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
