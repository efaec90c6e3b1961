"""Hostile PDFs are read in a limited child process: loops time out, bombs hit the memory cap.

Every test here runs the real parser (pdfplumber/pdfminer) in a real child process on files
built byte by byte (tests/hardening/hostile_pdfs.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from ohvault.labs import NotAPdf, ParseCancelled, PdfPasswordRequired, parse_pdf, sandbox
from ohvault.labs.sandbox import (
    PdfFileTooLarge,
    PdfUnsafe,
    SandboxLimits,
    parse_pdf_isolated,
    report_from_data,
    report_to_data,
)
from tests.hardening import hostile_pdfs
from tests.hardening.fuzz.make_seeds import lab_pdf

ROOT = Path(__file__).resolve().parents[2]
STALL = 3.0  # seconds without a page read before the child is killed, in these tests
FAST = SandboxLimits(stall_seconds=STALL, total_seconds=30, memory_bytes=512 * sandbox.MIB)


def normal_pdf() -> bytes:
    return lab_pdf(
        [
            ("Hemoglobin", "13.9", "g/dL", "12.0 - 15.5"),
            ("Glucose", "5.4", "mmol/L", "3.9-5.6"),
            ("Creatinine", "<0.5", "mg/dL", "0.6-1.2"),
        ],
        patient="Rowan Synthetic",
    )


def reader_children() -> set[int]:
    """Our child processes that are PDF readers (alive or not yet reaped)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"ohvault.labs.sandbox" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _no_reader_left_behind() -> Iterator[None]:
    yield
    assert not reader_children(), "a PDF reader child outlived its parse"


def test_a_normal_pdf_reads_the_same_as_in_process() -> None:
    data = normal_pdf()
    pages: list[tuple[int, int]] = []
    report = parse_pdf_isolated(data, progress=lambda done, total: pages.append((done, total)))
    assert report == parse_pdf(data)
    assert {r.name for r in report.results} >= {"Hemoglobin", "Glucose", "Creatinine"}
    assert report.patient_name and "Rowan" in report.patient_name
    assert report.collection_date == date(2024, 3, 1)
    assert pages == [(1, 1)]


def test_the_parsers_own_errors_come_back_as_themselves() -> None:
    with pytest.raises(NotAPdf, match="not a PDF"):
        parse_pdf_isolated(b"Glucose 5.4 mmol/L\n")
    with pytest.raises(NotAPdf, match="does not exist"):
        parse_pdf_isolated(Path("/nonexistent/report.pdf"))


def test_a_password_reaches_the_child(tmp_path: Path) -> None:
    from tests.labs.pdfs import table_pdf

    columns = (40.0, 200.0, 280.0, 360.0)
    header = list(zip(columns, ("Test", "Result", "Units", "Range"), strict=True))
    rows = [list(zip(columns, ("Glucose", "5.4", "mmol/L", "3.9-5.6"), strict=True))]
    data = table_pdf(rows, header=header, password="s3cret")
    path = tmp_path / "locked.pdf"
    path.write_bytes(data)
    with pytest.raises(PdfPasswordRequired):
        parse_pdf_isolated(path)
    report = parse_pdf_isolated(path, password="s3cret")
    assert [r.name for r in report.results] == ["Glucose"]


@pytest.mark.parametrize("build", [hostile_pdfs.length_reference_loop, hostile_pdfs.self_reference])
def test_a_reference_loop_fails_within_the_time_bound(build: object) -> None:
    data = build()  # type: ignore[operator]
    started = time.monotonic()
    with pytest.raises(PdfUnsafe, match="could not be read safely") as info:
        parse_pdf_isolated(data, limits=FAST)
    elapsed = time.monotonic() - started
    assert STALL <= elapsed < STALL + 10
    assert "took too long" in str(info.value)


def test_a_page_tree_loop_is_a_clear_error() -> None:
    started = time.monotonic()
    with pytest.raises(sandbox.LabParseError):
        parse_pdf_isolated(hostile_pdfs.page_tree_loop(), limits=FAST)
    assert time.monotonic() - started < STALL + 10


BOMB_PROBE = """
import json, resource, sys
from ohvault.labs.sandbox import MIB, PdfUnsafe, SandboxLimits, parse_pdf_isolated
from tests.hardening.hostile_pdfs import decompression_bomb
data = decompression_bomb(int(sys.argv[1]))
try:
    parse_pdf_isolated(data, limits=SandboxLimits(memory_bytes=int(sys.argv[2]) * MIB))
    error = None
except Exception as exc:
    error = type(exc).__name__
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"error": error, "peak": peak, "size": len(data)}))
"""


def test_a_decompression_bomb_fails_within_the_memory_bound() -> None:
    # A fresh process, so that RUSAGE_CHILDREN sees only the reader child (and its children).
    expands_mib, cap_mib = 1024, 384
    probe = subprocess.run(
        [sys.executable, "-c", BOMB_PROBE, str(expands_mib), str(cap_mib)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    out = json.loads(probe.stdout)
    assert out["size"] < 1.5 * sandbox.MIB  # about 1 MB of PDF that would inflate to 1 GiB
    assert out["error"] == "PdfUnsafe"
    assert out["peak"] <= cap_mib * sandbox.MIB  # resident memory never exceeds the cap


def test_cancel_kills_the_child_at_once() -> None:
    seen: set[int] = set()
    started = time.monotonic()

    def should_cancel() -> bool:
        seen.update(reader_children())
        return time.monotonic() - started > 1.0

    limits = replace(FAST, stall_seconds=60)
    with pytest.raises(ParseCancelled):
        parse_pdf_isolated(
            hostile_pdfs.length_reference_loop(), should_cancel=should_cancel, limits=limits
        )
    assert time.monotonic() - started < 5
    assert seen, "the parse ran in a child process"
    for pid in seen:
        assert not Path(f"/proc/{pid}").exists(), "the cancelled child is gone"


def test_cancel_from_another_thread_as_the_app_does_on_lock() -> None:
    stop = threading.Event()
    threading.Timer(0.8, stop.set).start()
    started = time.monotonic()
    with pytest.raises(ParseCancelled):
        parse_pdf_isolated(
            hostile_pdfs.length_reference_loop(),
            should_cancel=stop.is_set,
            limits=replace(FAST, stall_seconds=60),
        )
    assert time.monotonic() - started < 4


def test_a_file_over_the_size_limit_is_refused_unopened(tmp_path: Path) -> None:
    data = normal_pdf()
    small = SandboxLimits(max_file_bytes=len(data) - 1)
    path = tmp_path / "huge.pdf"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(PdfFileTooLarge, match=r"at most .* MB") as info:
            parse_pdf_isolated(source, limits=small)
        assert not reader_children()
    assert "huge.pdf" in str(info.value)
    assert parse_pdf_isolated(path, limits=SandboxLimits(max_file_bytes=len(data))).results


def test_the_result_round_trips_as_plain_data_and_junk_is_refused() -> None:
    report = parse_pdf(normal_pdf())
    data = report_to_data(report)
    assert json.loads(json.dumps(data)) == data  # nothing but JSON
    assert report_from_data(json.loads(json.dumps(data))) == report
    for junk in (
        {**data, "evil": 1},
        {**data, "results": "no"},
        {**data, "collection_date": 20240301},
        {**data, "results": [{**data["results"][0], "page": "1"}]},
        {**data, "results": [{"__reduce__": "os.system"}]},
        [],
    ):
        with pytest.raises(PdfUnsafe, match="malformed result"):
            report_from_data(junk)


def test_the_cli_reports_a_hostile_pdf_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ohvault.cli.main import main

    monkeypatch.setattr(sandbox, "DEFAULT_LIMITS", FAST)
    loop, good = tmp_path / "loop.pdf", tmp_path / "good.pdf"
    loop.write_bytes(hostile_pdfs.length_reference_loop())
    good.write_bytes(normal_pdf())
    started = time.monotonic()
    code = main(["import-pdf", "--dry-run", "--json", str(loop), str(good)])
    assert time.monotonic() - started < STALL + 15
    assert code == 2
    out = json.loads(capsys.readouterr().out)
    assert "could not be read safely" in out[0]["error"]
    assert any(r["name"] == "Glucose" for r in out[1]["results"])  # the next file still reads


def test_every_field_of_real_layouts_round_trips(tmp_path: Path) -> None:
    """Guards the plain-data transfer against new ParsedReport fields of any type."""
    from tests.labs.corpus import generate_corpus

    for pdf in generate_corpus(tmp_path, per_layout=1)[:4]:
        report = parse_pdf(pdf)
        assert report_from_data(json.loads(json.dumps(report_to_data(report)))) == report


def test_the_child_gets_no_session_bus_and_no_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OHVAULT_SYNC_TOKEN", "synthetic-secret")
    environments: list[bytes] = []

    def look(_done: object = None) -> bool:
        for pid in reader_children():  # only after exec: the cmdline names the sandbox
            with contextlib.suppress(OSError):
                environments.append(Path(f"/proc/{pid}/environ").read_bytes())
        return bool(environments)

    with pytest.raises(ParseCancelled):
        parse_pdf_isolated(
            hostile_pdfs.length_reference_loop(),
            should_cancel=look,
            limits=replace(FAST, stall_seconds=30),
        )
    seen = environments[0]
    assert b"PATH=" in seen
    assert b"DBUS_SESSION_BUS_ADDRESS" not in seen and b"synthetic-secret" not in seen
