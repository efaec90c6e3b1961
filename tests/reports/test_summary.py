"""The visit summary PDF from a real vault, read back with pdfplumber; `ohvault summary` end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pdfplumber
import pytest

from ohvault import demo
from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.model import Observation, Profile
from ohvault.reports.summary import build_visit_summary
from ohvault.vault import Vault
from tests.conftest import MakeVault


def _text(path: Path) -> tuple[str, int]:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages), len(pdf.pages)


def _demo_vault(make_vault: MakeVault) -> tuple[Vault, str]:
    vault, _ = make_vault(profile_name="Casey Synthetic")
    pid = vault.repo.profiles()[0].id
    demo.populate(vault, pid)
    return vault, pid


def _summary_exports(vault: Vault, pid: str) -> int:
    return sum(e.detail == "visit summary" for e in vault.audit.entries(action="export"))


def test_visit_summary_lists_flagged_and_latest_results_medications_and_trends(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, pid = _demo_vault(make_vault)
    out = tmp_path / "summary.pdf"
    steps: list[tuple[int, int]] = []
    info = build_visit_summary(vault, pid, out, step=lambda d, t, _: steps.append((d, t)))
    assert info.flagged >= 1 and info.charts == 6 and info.results == 10
    assert steps == [(0, 4), (1, 4), (2, 4), (3, 4)]
    text, pages = _text(out)
    assert "Visit summary" in text and "Casey Synthetic" in text
    assert f"Out of range ({info.flagged})" in text and "Latest results (10)" in text
    assert "LDL cholesterol" in text and "Atorvastatin 20 mg once daily" in text
    assert "Ibuprofen" not in text  # stopped: not a current medication
    assert "Trends" in text and pages == info.pages >= 2
    assert _summary_exports(vault, pid) == 1  # audited like every other export


def test_visit_summary_cancelled_before_saving_writes_nothing(
    make_vault: MakeVault, tmp_path: Path
) -> None:
    vault, pid = _demo_vault(make_vault)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "summary.pdf"

    def step(done: int, total: int, text: str) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_visit_summary(vault, pid, out, step=step)
    assert list(folder.iterdir()) == []  # no temporary file left behind either
    assert _summary_exports(vault, pid) == 0


def _obs(name: str, value: float, unit: str, loinc: str) -> Observation:
    return Observation(
        profile_id="p", analyte=name, value_num=value, unit=unit, loinc=loinc,
        effective=date(2025, 3, 1),
    )  # fmt: skip


def test_visit_summary_pdf_shows_human_units(make_vault: MakeVault, tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    out = tmp_path / "summary.pdf"
    for o in (
        _obs("White blood cell count", 6.1, "10*3/uL", "6690-2"),
        _obs("Thyroid stimulating hormone", 2.2, "u[IU]/mL", "3016-3"),
    ):
        o.profile_id = pid
        vault.repo.add(o)
    build_visit_summary(vault, pid, out)
    doc = pdfium.PdfDocument(out.read_bytes())
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "10³/µL" in text and "µIU/mL" in text
    assert "10*3" not in text and "[IU]" not in text


# --- ohvault summary ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    cli_io.reset_stdin()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_summary_warns_needs_yes_and_writes_the_apps_pdf(
    make_vault: MakeVault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault, pid = _demo_vault(make_vault)
    vault.repo.add_profile(Profile(name="Robin Sample"))  # a second person, with no results
    vault.lock()  # the CLI opens the vault itself (keychain), as from a shell
    out = tmp_path / "visit.pdf"

    # Unencrypted: the plain-export warning, and no terminal to ask on means --yes is needed.
    code, _, err = run(capsys, "summary", "--out", str(out))
    assert code == ExitCode.BAD_INPUT and "UNENCRYPTED" in err and "--yes" in err
    assert not out.exists()

    code, stdout, err = run(capsys, "summary", "--out", str(out), "--yes", "--json")
    assert code == 0 and "UNENCRYPTED" in err
    info = json.loads(stdout)
    assert info["path"] == str(out) and info["results"] == 10 and info["charts"] == 6
    text, pages = _text(out)
    assert pages == info["pages"] >= 2
    assert "Casey Synthetic" in text and f"Out of range ({info['flagged']})" in text
    assert "LDL cholesterol" in text and "Atorvastatin" in text

    other = tmp_path / "robin.pdf"
    code, stdout, _ = run(
        capsys, "summary", "--out", str(other), "--yes", "--profile", "Robin Sample"
    )
    assert code == 0 and stdout.startswith(f"Wrote {other} (1 page: 0 latest results")
    text, _ = _text(other)
    assert "Robin Sample" in text and "No results recorded." in text and "Casey" not in text

    reopened = Vault.open(vault.files.home)
    try:
        assert (
            _summary_exports(reopened, pid) == 2
        )  # the refused run wrote nothing, audited nothing
    finally:
        reopened.lock()


def test_cli_summary_bad_input_is_refused_before_anything_is_written(
    make_vault: MakeVault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault, _ = _demo_vault(make_vault)
    vault.lock()
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "visit.pdf"
    code, _, err = run(capsys, "summary", "--out", str(out), "--yes", "--profile", "Nobody Here")
    assert code == ExitCode.NOT_FOUND and not out.exists()
    code, _, err = run(capsys, "summary", "--out", str(folder / "no" / "x.pdf"), "--yes")
    assert code == ExitCode.BAD_INPUT and "does not exist" in err
    code, _, err = run(capsys, "summary", "--out", str(folder), "--yes")
    assert code == ExitCode.BAD_INPUT and "folder" in err
    code, _, err = run(capsys, "summary", "--out", str(out), "--yes", "--since", "last week")
    assert code == ExitCode.BAD_INPUT and "YYYY-MM-DD" in err
    assert list(folder.iterdir()) == []
