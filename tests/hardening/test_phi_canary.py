"""No PHI on disk in plaintext after a whole GUI session.

tests/hardening/gui_canary_flow.py drives the desktop app (create, import a lab PDF, note,
dashboard, results, documents, chart, exports, clipboard, lock) in its own process with
HOME, every XDG dir, MPLCONFIGDIR, TMPDIR, the log dir and the QSettings file pointed into
one directory. Afterwards every file there is searched for the canaries (the profile name,
a note, a lab value) as UTF-8 and UTF-16, inside zlib streams (PDFs) and zip members too.
The only plaintext allowed is what the user exported, to a folder they chose.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ohvault.keys.keychain import Keychain
from tests.hardening.fuzz.make_seeds import lab_pdf
from tests.hardening.gui_canary_flow import CANARY_NAME, CANARY_NOTE, CANARY_VALUE, ROWS

ROOT = Path(__file__).resolve().parents[2]
CANARIES = (CANARY_NAME, "Zebrowskaya", CANARY_NOTE, "moonflower", CANARY_VALUE)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _views(data: bytes) -> Iterator[bytes]:
    """The bytes as stored, and what a reader would get out of them."""
    yield data
    for m in _STREAM.finditer(data):  # PDF FlateDecode streams
        with contextlib.suppress(zlib.error):
            yield zlib.decompress(m.group(1))
    if data[:5] == b"%PDF-":  # text drawn with subset fonts is only readable as extracted text
        yield _pdf_text(data).encode("utf-8")
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for name in zf.namelist():
                    yield zf.read(name)
        except (zipfile.BadZipFile, RuntimeError, ValueError):
            pass


def _pdf_text(data: bytes) -> str:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    except Exception:  # a damaged PDF: the raw bytes were searched already
        return ""


def canaries_in(data: bytes) -> set[str]:
    found: set[str] = set()
    for view in _views(data):
        low = view.lower()
        for canary in CANARIES:
            for enc in ("utf-8", "utf-16-le", "utf-16-be"):
                if canary.lower().encode(enc) in low:
                    found.add(canary)
    return found


def scan(root: Path) -> dict[str, set[str]]:
    hits: dict[str, set[str]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found = canaries_in(path.read_bytes())
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


def test_scanner_finds_canaries_in_compressed_pdfs_and_zips() -> None:
    pdf = lab_pdf(ROWS, patient=CANARY_NAME)
    assert CANARY_NAME.encode() not in pdf  # fpdf2 compresses the page: a naive grep misses it
    assert CANARY_NAME in canaries_in(pdf)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.txt", CANARY_NOTE)
    assert CANARY_NOTE in canaries_in(buf.getvalue())
    assert "Zebrowskaya" in canaries_in(CANARY_NAME.encode("utf-16-le"))
    assert not canaries_in(os.urandom(100_000))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_whole_gui_session_leaves_no_phi_on_disk(keychain: Keychain, tmp_path: Path) -> None:
    scanned = tmp_path / "scanned"
    dirs = {
        "HOME": scanned / "home",
        "XDG_CACHE_HOME": scanned / "cache",
        "XDG_CONFIG_HOME": scanned / "config",
        "XDG_DATA_HOME": scanned / "data",
        "XDG_STATE_HOME": scanned / "state",
        "XDG_RUNTIME_DIR": scanned / "run",
        "MPLCONFIGDIR": scanned / "matplotlib",
        "TMPDIR": scanned / "tmp",
        "OHVAULT_LOG_DIR": scanned / "logs",
        "OHVAULT_CONFIG_DIR": scanned / "ohvault-config",
    }
    for path in dirs.values():
        path.mkdir(parents=True, mode=0o700)
    vault_home = scanned / "vault"
    settings_file = dirs["XDG_CONFIG_HOME"] / "ohvault" / "ohvault.conf"
    export_dir = tmp_path / "exports"  # chosen by the user: outside the scanned dirs
    export_dir.mkdir()
    source = tmp_path / "downloads" / "lab-report.pdf"  # the user's own file
    source.parent.mkdir()
    source.write_bytes(lab_pdf(ROWS, title="Synthetic Labs", patient=CANARY_NAME))

    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.update({k: str(v) for k, v in dirs.items()})
    env.pop("OHVAULT_HOME", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.hardening.gui_canary_flow",
         str(vault_home), str(settings_file), str(export_dir), str(source)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["settings"]) == settings_file and settings_file.exists()

    # The session really happened, and the scanner can see these canaries: the exports the
    # user asked for hold them in plaintext, as expected.
    assert report["exported"] == ["glucose.png", "summary.pdf"]
    assert canaries_in((export_dir / "summary.pdf").read_bytes()) & {CANARY_NAME, CANARY_VALUE}
    assert (vault_home / "vault.db").exists() and any(dirs["OHVAULT_LOG_DIR"].iterdir())
    assert any(dirs["MPLCONFIGDIR"].iterdir()), "matplotlib did not use the scanned cache dir"

    hits = scan(scanned)
    assert hits == {}, f"PHI in plaintext on disk: {hits}"
    # stderr is what a crash report or a terminal would keep.
    assert not canaries_in(result.stderr.encode())
