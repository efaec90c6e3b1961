"""ohvault against the bare tools underneath it, side by side in one run.

    bash tests/run-with-keyring.sh .venv/bin/python -m benchmarks.baselines [--write-docs]
    ... -m benchmarks.baselines --startup-only [--startup-runs 15]   # start-up alone

Each figure is a ratio to a baseline measured in the same process, minutes apart, so the
machine's speed cancels out:
- 100,000 observations through the repository vs raw SQLCipher (`sqlcipher3`, raw key)
  inserting the same rows into the same table and indexes (target <= 1.2x); plain `sqlite3`
  for reference;
- unlocking from the keychain to the first query vs opening a SQLCipher database with a
  passphrase and its default PBKDF2-HMAC-SHA512, 256,000 iterations;
- start-up from process spawn to the window being exposed vs a bare PySide6 window
  (target <= 2x), both with compiled bytecode as an installed app has;
- a trend chart of 3,650 daily points drawn and rendered (target <= 200 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlcipher3

from ohvault.model import Observation
from ohvault.storage.codec import columns, row_values
from ohvault.vault import Vault

TITLE = "Against the bare tools: inserts, unlock, start-up, charts"
N_ROWS = 100_000
CHART_POINTS = 3_650
TARGETS = {"insert_ratio": 1.2, "startup_ratio": 2.0, "chart_ms": 200.0}


def _rows(profile_id: str, n: int) -> list[Observation]:
    rng = random.Random(7)
    start = date(2015, 1, 1)
    return [
        Observation(
            profile_id=profile_id,
            analyte=f"Analyte {i % 120}",
            value_num=round(rng.uniform(1, 200), 2),
            unit="mg/dL",
            effective=start + timedelta(days=i // 120),
        )
        for i in range(n)
    ]


def _schema(vault: Vault) -> list[str]:
    """The observations table and its indexes as the vault created them (a vault has sync
    capture triggers only while sync is on: ohvault/storage/capture.py)."""
    found = vault.db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'observations' AND sql IS NOT NULL "
        "AND type IN ('table', 'index') ORDER BY type DESC"  # the table before its indexes
    ).fetchall()
    return [str(r[0]) for r in found]


def _bare_insert(conn: Any, schema: list[str], rows: list[Observation]) -> float:
    """Same table, same indexes, same row values, one transaction: the floor for add_many.
    The rows are turned into tuples before the clock starts: the baseline is the database."""
    profile = "CREATE TABLE profiles (id TEXT PRIMARY KEY)"
    conn.execute(profile)
    conn.execute("INSERT INTO profiles VALUES (?)", (rows[0].profile_id,))
    for sql in schema:
        conn.execute(sql)
    cols = columns(Observation)
    placeholders = ", ".join("?" * len(cols))
    sql = f"INSERT INTO observations ({', '.join(cols)}) VALUES ({placeholders})"  # noqa: S608
    values = [row_values(r) for r in rows]
    t = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, values)
    conn.execute("COMMIT")
    return time.perf_counter() - t


def measure_inserts(tmp: Path, rounds: int = 5) -> dict[str, Any]:
    """Alternating rounds (each into a fresh database), medians: the two sides see the same
    machine even when something else runs on it."""
    ours, bare_cipher, bare_sqlite = [], [], []
    home = tmp / "vault"
    for i in range(rounds):
        where = tmp / f"round{i}"
        where.mkdir()
        raw = sqlcipher3.connect(str(where / "raw.db"), isolation_level=None)
        raw.execute(f"PRAGMA key = \"x'{os.urandom(32).hex()}'\"")
        raw.execute("PRAGMA cache_size = -65536")  # the vault's page cache, for a fair floor
        plain = sqlite3.connect(str(where / "plain.db"), isolation_level=None)
        plain.execute("PRAGMA cache_size = -65536")

        vault_home = home if i == 0 else where / "vault"
        vault, _ = Vault.create(vault_home, passphrase="benchmark passphrase", profile_name="B")
        pid = vault.repo.profiles()[0].id
        schema = _schema(vault)
        bare_cipher.append(_bare_insert(raw, schema, _rows(pid, N_ROWS)))
        rows = _rows(pid, N_ROWS)
        t = time.perf_counter()
        vault.repo.add_many(rows)
        ours.append(time.perf_counter() - t)
        vault.lock()
        bare_sqlite.append(_bare_insert(plain, schema, _rows(pid, N_ROWS)))
        raw.close()
        plain.close()
        if i:
            Vault.destroy(vault_home, with_backups=True)
    o, c, p = (statistics.median(x) for x in (ours, bare_cipher, bare_sqlite))
    return {
        "insert_100k_ohvault_s": round(o, 3),
        "insert_100k_raw_sqlcipher_s": round(c, 3),
        "insert_100k_plain_sqlite3_s": round(p, 3),
        "insert_ratio": round(o / c, 2),
        "insert_ratio_vs_sqlite3": round(o / p, 2),
        "_home": str(home),
    }


def measure_unlock(tmp: Path, home: Path) -> dict[str, Any]:
    samples = []
    for _ in range(15):
        t = time.perf_counter()
        v = Vault.open(home, auto_backup=False)
        v.repo.profiles()
        samples.append(time.perf_counter() - t)
        v.lock()
    path = tmp / "pbkdf2.db"
    conn = sqlcipher3.connect(str(path))
    conn.execute("PRAGMA key = 'benchmark passphrase'")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    baseline = []
    for _ in range(15):
        t = time.perf_counter()
        conn = sqlcipher3.connect(str(path))
        conn.execute("PRAGMA key = 'benchmark passphrase'")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        baseline.append(time.perf_counter() - t)
        conn.close()
    ours, base = statistics.median(samples), statistics.median(baseline)
    return {
        "unlock_keychain_ms": round(ours * 1000, 1),
        "unlock_sqlcipher_pbkdf2_256k_ms": round(base * 1000, 1),
        "unlock_ratio": round(ours / base, 2),
    }


BARE_WINDOW = textwrap.dedent(
    """
    import json, time
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication([])
    w = QWidget(); w.resize(1220, 780); w.show()
    while not (w.windowHandle() and w.windowHandle().isExposed()):
        app.processEvents()
    print(json.dumps({"shown": time.time()}))
    """
)


def _spawn_until_shown(code: str, args: list[str], env: dict[str, str]) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["shown"]) - start


def measure_startup(tmp: Path, runs: int = 7) -> dict[str, Any]:
    """Both sides with compiled bytecode, as an installed app has it.

    PySide6 comes with its bytecode (pip compiles on install); a source checkout run with
    PYTHONDONTWRITEBYTECODE set would compile every ohvault module at each start and time
    the compiler. So both children keep bytecode in a cache of their own under `tmp`
    (PYTHONPYCACHEPREFIX: nothing is written into the checkout), filled by the warm-up run.
    """
    from benchmarks.gui_startup import CHILD, _make_vault

    home = tmp / "startup-vault"
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["OHVAULT_CONFIG_DIR"] = str(tmp / "config")
    env["OHVAULT_LOG_DIR"] = str(tmp / "logs")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    _make_vault(home)
    ours: list[float] = []
    bare: list[float] = []
    for i in range(runs + 1):  # interleaved, so both see the same machine; the first is a warm-up
        o = _spawn_until_shown(CHILD, [str(home)], env)
        b = _spawn_until_shown(BARE_WINDOW, [], env)
        if i:
            ours.append(o)
            bare.append(b)
    o_med, b_med = statistics.median(ours), statistics.median(bare)
    return {
        "startup_ohvault_s": round(o_med, 3),
        "startup_bare_pyside6_s": round(b_med, 3),
        "startup_ratio": round(o_med / b_med, 2),
    }


def measure_chart() -> dict[str, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ohvault.reports.charts import draw_trends, new_figure
    from ohvault.reports.trends import build_series

    start = date(2015, 1, 1)
    rng = random.Random(3)
    observations = [
        Observation(
            profile_id="p",
            analyte="Glucose",
            loinc="2345-7",
            value_num=round(rng.gauss(95, 12), 1),
            unit="mg/dL",
            ref_low=70,
            ref_high=99,
            effective=start + timedelta(days=i),
        )
        for i in range(CHART_POINTS)
    ]
    samples = []
    for i in range(6):
        t = time.perf_counter()
        series = build_series(observations)
        assert series is not None and len(series.points) == CHART_POINTS
        fig = new_figure()
        draw_trends(fig, [series])
        FigureCanvasAgg(fig).draw()
        if i:  # the first run imports matplotlib and builds its font cache
            samples.append(time.perf_counter() - t)
    return {"chart_3650_points_ms": round(statistics.median(samples) * 1000, 1)}


def run(startup_runs: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ohvault-bench-") as name:
        tmp = Path(name)
        os.environ.setdefault("OHVAULT_CONFIG_DIR", str(tmp / "config"))
        result = measure_inserts(tmp)
        home = Path(result.pop("_home"))
        result |= measure_unlock(tmp, home)
        Vault.destroy(home, with_backups=True)
        result |= measure_startup(tmp, startup_runs)
    result |= measure_chart()
    result["targets_met"] = {
        "insert_ratio_le_1.2": result["insert_ratio"] <= TARGETS["insert_ratio"],
        "startup_ratio_le_2": result["startup_ratio"] <= TARGETS["startup_ratio"],
        "chart_le_200ms": result["chart_3650_points_ms"] <= TARGETS["chart_ms"],
    }
    return result


def markdown(r: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in r.items() if k != "targets_met")
    met = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["targets_met"].items())
    return (
        "Each ratio divides ohvault's time by a baseline measured in the same run: raw "
        "SQLCipher (raw key) inserting the same rows into the same table and indexes; a "
        "SQLCipher database opened with a passphrase (PBKDF2-HMAC-SHA512, 256,000 "
        "iterations, its default); a bare PySide6 window from process spawn to exposed "
        "(offscreen; both with compiled bytecode, as installed, cached by a dropped warm-up "
        "run). Medians; start-up runs interleave the two. ohvault's insert time includes "
        "turning the records into rows and its audit entry; the baseline gets the rows "
        "ready-made.\n\n"
        "| measure | value |\n|---|---|\n" + rows + f"\n\nTargets met: {met}.\n"
    )


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("baselines", TITLE, markdown(result))


def run_startup_only(runs: int) -> dict[str, Any]:
    """Only the start-up pair (for iterating on start-up; the docs need the whole run)."""
    with tempfile.TemporaryDirectory(prefix="ohvault-bench-") as name:
        tmp = Path(name)
        os.environ.setdefault("OHVAULT_CONFIG_DIR", str(tmp / "config"))
        result = measure_startup(tmp, runs)
    result["targets_met"] = {
        "startup_ratio_le_2": result["startup_ratio"] <= TARGETS["startup_ratio"]
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="measure only start-up vs a bare PySide6 window (cannot write the docs)",
    )
    parser.add_argument(
        "--startup-runs", type=int, default=7, help="start-up pairs after the warm-up (7)"
    )
    args = parser.parse_args()
    if args.startup_only:
        if args.write_docs:
            parser.error("--write-docs needs the whole run, not --startup-only")
        print(json.dumps(run_startup_only(args.startup_runs), indent=2))
        return
    result = run(args.startup_runs)
    print(json.dumps(result, indent=2))
    if args.write_docs:
        write_docs(result)


if __name__ == "__main__":
    main()
