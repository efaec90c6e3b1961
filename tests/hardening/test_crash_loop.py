"""SIGKILL at random moments during each long operation: the vault always opens afterwards
and every operation is either fully applied or not at all.

Each operation runs in a subprocess (tests/hardening/crash_worker.py) that is killed after a
delay drawn from a seeded RNG, so a failure names a reproducible kill point. Every kill
starts from a copy of the same prepared vault (same id, so the same keychain entry).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ohvault import identity
from ohvault.keys.keychain import Keychain
from ohvault.model import DiagnosticReport, Document, Observation
from ohvault.vault import Credentials, Vault
from ohvault.vault.backup import create_backup, read_manifest, restore_backup
from tests.hardening.fuzz.make_seeds import lab_pdf

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261127
KILLS = 4  # per operation; keeps each test under ~15 s on two cores
PASSPHRASE = "correct horse battery"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass
class Killed:
    delay: float
    lines: list[str]
    finished: bool  # the worker ended by itself before the kill: nothing was interrupted

    @property
    def done(self) -> int:
        return sum(1 for line in self.lines if line.startswith("done"))


def kill_during(op: str, home: Path, *args: str, delay: float) -> Killed:
    """Start the worker, wait until its vault is open, let it work `delay` s, SIGKILL it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.hardening.crash_worker", op, str(home), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not ready.wait(0.05):
        if proc.poll() is not None or time.monotonic() > deadline:
            break
    if not ready.is_set():
        proc.kill()
        pytest.fail(f"{op} worker never opened the vault: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    if finished and proc.returncode != 0:
        pytest.fail(f"{op} worker failed by itself: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    return Killed(delay, lines, finished)


def delays(op: str, upto: float) -> list[float]:
    rng = random.Random(f"{SEED}-{op}")
    return [round(rng.uniform(0.0, upto), 3) for _ in range(KILLS)]


def copies(template: Path, root: Path) -> Iterator[Path]:
    for i in range(KILLS):
        target = root / f"kill-{i}"
        shutil.copytree(template, target)
        yield target


def assert_healthy(vault: Vault) -> None:
    assert vault.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert vault.db.execute("PRAGMA cipher_integrity_check").fetchall() == []
    assert vault.audit.verify().ok


def _obs_count(vault: Vault) -> int:
    return int(vault.db.execute("SELECT count(*) FROM observations").fetchone()[0])


# --- PDF import --------------------------------------------------------------------------------

ANALYTES = [
    ("Hemoglobin", "g/dL", "12.0 - 15.5"), ("WBC", "10^3/uL", "4.0 - 11.0"),
    ("Platelets", "10^3/uL", "150 - 400"), ("Glucose", "mg/dL", "70 - 99"),
    ("Creatinine", "mg/dL", "0.6 - 1.2"), ("Sodium", "mmol/L", "135 - 145"),
    ("Potassium", "mmol/L", "3.5 - 5.1"), ("ALT", "U/L", "7 - 56"),
]  # fmt: skip


def test_pdf_import_is_all_or_nothing(make_vault: object, tmp_path: Path) -> None:
    from ohvault.labs import parse_pdf

    pdf_dir = tmp_path / "pdfs"
    pdf_dir.mkdir()
    for n in range(8):
        rows = [
            (name, f"{10 + n + i / 10:.1f}", unit, ref)
            for i, (name, unit, ref) in enumerate(ANALYTES)
        ]
        (pdf_dir / f"report-{n}.pdf").write_bytes(lab_pdf(rows, title=f"Synthetic Labs {n}"))
    template, _ = make_vault(home=tmp_path / "template")  # type: ignore[operator]
    template.lock()
    # The reference: the same imports, not interrupted (the importer may skip duplicates).
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "template", reference)
    expected: dict[str, int] = {}
    with Vault.open(reference, auto_backup=False) as v:
        from ohvault.importing import import_report

        pid = v.repo.profiles()[0].id
        started = time.perf_counter()
        for path in sorted(pdf_dir.glob("*.pdf")):
            content = path.read_bytes()
            parsed = parse_pdf(content)
            outcome = import_report(v, pid, content, path.name, parsed, confirm_identity=True)
            expected[hashlib.sha256(content).hexdigest()] = len(outcome.imported)
        took = time.perf_counter() - started
    interrupted = 0
    for home, delay in zip(
        copies(tmp_path / "template", tmp_path), delays("pdf", 1.1 * took), strict=True
    ):
        killed = kill_during("import-pdf", home, str(pdf_dir), delay=delay)
        interrupted += not killed.finished
        with Vault.open(home, auto_backup=False) as v:
            assert_healthy(v)
            pid = v.repo.profiles()[0].id
            docs = v.repo.records(Document, pid)
            reports = v.repo.records(DiagnosticReport, pid)
            observations = v.repo.records(Observation, pid)
            assert len(docs) >= killed.done, killed
            assert len(reports) == len(docs), f"a report without its PDF or back (kill at {delay}s)"
            for doc in docs:
                content = v.repo.document_content(pid, doc.id)
                assert hashlib.sha256(content).hexdigest() == doc.sha256 in expected
                report = next(r for r in reports if r.document_id == doc.id)
                mine = [o for o in observations if o.report_id == report.id]
                assert len(mine) == expected[doc.sha256], f"partial import (kill at {delay}s)"
            assert len(observations) == sum(expected[d.sha256] for d in docs)
    assert interrupted, "every worker finished before its kill: the test killed nothing"


# --- bundle import -------------------------------------------------------------------------------


def test_bundle_import_is_all_or_nothing(make_vault: object, tmp_path: Path) -> None:
    from ohvault.bundles.export import plan_export, write_bundle

    patient, _ = make_vault(home=tmp_path / "patient")  # type: ignore[operator]
    clinician, _ = make_vault(home=tmp_path / "template", kind="clinician", profile_name=None)  # type: ignore[operator]
    pid = patient.repo.profiles()[0].id
    rows = [Observation(profile_id=pid, analyte="Glucose", value_num=float(i), unit="mg/dL",
                        effective=date(2024, 1, 1 + i % 28)) for i in range(2000)]  # fmt: skip
    patient.repo.add_many(rows)
    blob = os.urandom(4 << 20)
    patient.repo.add_document(
        Document(profile_id=pid, filename="scan.pdf", media_type="application/pdf",
                 sha256=hashlib.sha256(blob).hexdigest(), size=len(blob)), blob,
    )  # fmt: skip
    bundle = tmp_path / "share.ohvbundle"
    to = identity.load_or_create(clinician).age_recipient
    write_bundle(patient, plan_export(patient, pid), bundle, recipients=[to])
    clinician.lock()
    # The reference: the same import, not interrupted.
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "template", reference)
    with Vault.open(reference, auto_backup=False) as v:
        from ohvault.bundles.importer import import_bundle

        started = time.perf_counter()
        import_bundle(v, bundle)
        took = time.perf_counter() - started
        full = v.repo.counts()
    for home, delay in zip(
        copies(tmp_path / "template", tmp_path), delays("bundle", 1.3 * took + 0.2), strict=True
    ):
        killed = kill_during("import-bundle", home, str(bundle), delay=delay)
        with Vault.open(home, auto_backup=False) as v:
            assert_healthy(v)
            imports = v.db.execute("SELECT count(*) FROM bundle_imports").fetchone()[0]
            counts = v.repo.counts()
            if imports == 0:
                assert not killed.done
                assert all(n == 0 for n in counts.values()), f"partial import (kill at {delay}s)"
            else:
                assert counts == full, f"partial import (kill at {delay}s)"


# --- backup and restore -------------------------------------------------------------------------


def _filled(make_vault: object, home: Path, n: int) -> Vault:
    vault: Vault
    vault, _ = make_vault(home=home)  # type: ignore[operator]
    pid = vault.repo.profiles()[0].id
    vault.repo.add_many([Observation(profile_id=pid, analyte="Glucose", value_num=float(i),
                                     unit="mg/dL", effective=date(2024, 1, 1)) for i in range(n)])  # fmt: skip
    blob = os.urandom(6 << 20)  # a scanned report: makes a backup take a while
    vault.repo.add_document(
        Document(profile_id=pid, filename="scan.pdf", media_type="application/pdf",
                 sha256=hashlib.sha256(blob).hexdigest(), size=len(blob)), blob,
    )  # fmt: skip
    return vault


def test_backup_killed_leaves_only_complete_backups(make_vault: object, tmp_path: Path) -> None:
    vault = _filled(make_vault, tmp_path / "template", 500)
    vault.lock()
    for home, delay in zip(
        copies(tmp_path / "template", tmp_path), delays("backup", 1.5), strict=True
    ):
        out = home.parent / f"{home.name}-backups"
        out.mkdir()
        killed = kill_during("backup", home, str(out), delay=delay)
        finished = sorted(out.glob("*.ohvbackup"))
        assert len(finished) >= killed.done
        for backup in finished:
            assert read_manifest(backup)["format"]  # a half-written file never has the final name
        with Vault.open(home, auto_backup=False) as v:
            assert_healthy(v)
        if finished:  # the newest complete backup restores to the same data
            scratch = home.parent / f"{home.name}-restored"
            shutil.copytree(home, scratch)
            restore_backup(scratch, finished[-1], Credentials())
            with Vault.open(scratch, auto_backup=False) as v:
                assert _obs_count(v) == 500


def test_restore_killed_leaves_the_old_or_the_new_vault(make_vault: object, tmp_path: Path) -> None:
    vault = _filled(make_vault, tmp_path / "template", 100)
    one = create_backup(vault, tmp_path / "one.ohvbackup").path
    pid = vault.repo.profiles()[0].id
    vault.repo.add_many([Observation(profile_id=pid, analyte="Sodium", value_num=140.0,
                                     unit="mmol/L", effective=date(2024, 2, 1)) for _ in range(100)])  # fmt: skip
    two = create_backup(vault, tmp_path / "two.ohvbackup").path
    vault.repo.add_many([Observation(profile_id=pid, analyte="Potassium", value_num=4.0,
                                     unit="mmol/L", effective=date(2024, 3, 1)) for _ in range(100)])  # fmt: skip
    vault.lock()
    for home, delay in zip(
        copies(tmp_path / "template", tmp_path), delays("restore", 2.0), strict=True
    ):
        kill_during("restore", home, str(one), str(two), delay=delay)
        with Vault.open(home, auto_backup=False) as v:
            assert_healthy(v)
            assert _obs_count(v) in (100, 200, 300), f"a mix of two vaults (kill at {delay}s)"


# --- key rotation --------------------------------------------------------------------------------


def test_key_rotation_killed_leaves_a_vault_every_credential_opens(
    make_vault: object, tmp_path: Path
) -> None:
    # A fresh vault per kill: rotation replaces the keychain entry that copies would share.
    for i, delay in enumerate(delays("rotate", 1.0)):
        vault = _filled(make_vault, tmp_path / f"kill-{i}", 50)
        vault.change_passphrase(PASSPHRASE)
        home = vault.files.home
        vault.lock()
        kill_during("rotate", home, PASSPHRASE, delay=delay)
        for creds in (Credentials(), Credentials(passphrase=PASSPHRASE, use_keychain=False)):
            with Vault.open(home, creds, auto_backup=False) as v:
                assert_healthy(v)
                assert v.header.pending is None
                assert _obs_count(v) == 50


# --- sync ----------------------------------------------------------------------------------------


def test_sync_killed_then_resumed_converges_without_loss_or_duplicates(
    keychain: Keychain, tmp_path: Path
) -> None:
    from sync.devices import PASSWORD, close_devices, new_device
    from sync.server_proc import ServerProc

    server = ServerProc(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv' / 'server.db'}").start()
    a = new_device(tmp_path, "a", keychain, profile="Test Person")
    b = new_device(tmp_path, "b", keychain)
    try:
        a.client.enable(server.url, "crash-user", PASSWORD, register=True, device_name="a")
        b.client.join(server.url, "crash-user", PASSWORD, pairing_code=a.client.pairing_code())
        b.client.sync()
        home = a.vault.files.home
        a.vault.lock()
        batch = 40
        for delay in delays("sync", 1.5):
            kill_during("sync", home, str(batch), delay=delay)
            with Vault.open(home, auto_backup=False) as v:
                assert_healthy(v)
                count = _obs_count(v)
                assert count % batch == 0, f"a half-written batch (kill at {delay}s)"
                from ohvault.sync import SyncClient

                SyncClient(v, max_attempts=3, sleep=lambda _s: None).sync()
                b.client.sync()
                assert _obs_count(b.vault) == count, (
                    f"lost or duplicated on the way (kill at {delay}s)"
                )
                b_ids = {r[0] for r in b.vault.db.execute("SELECT id FROM observations")}
                assert b_ids == {r[0] for r in v.db.execute("SELECT id FROM observations")}
        a.vault = Vault.open(home, auto_backup=False)
    finally:
        close_devices(a, b, keychain=keychain)
        server.stop()
