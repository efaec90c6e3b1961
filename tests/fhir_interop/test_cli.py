"""`ohvault import-fhir`: summary, skipped resources in --json, exit code 6 when imported before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.keys.keychain import Keychain
from ohvault.vault import Vault

from .conftest import SYNTHEA, patient_of, write


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    cli_io.reset_stdin()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_fhir_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keychain: Keychain,
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("OHVAULT_HOME", str(home))
    person = patient_of(SYNTHEA[1])
    data = json.loads(SYNTHEA[1].read_text())
    index = next(
        i for i, e in enumerate(data["entry"]) if e["resource"]["resourceType"] == "Immunization"
    )
    data["entry"][index]["resource"]["status"] = "entered-in-error"
    path = write(tmp_path, "liz.json", data)
    try:
        assert run(capsys, "init", "--profile", person.name, "--json")[0] == 0
        code, out, err = run(capsys, "import-fhir", str(path), "--yes", "--json")
        assert code == 0, err
        result = json.loads(out)
        assert result["added"]["observation"] == 36 and result["added"]["immunization"] == 3
        assert result["skipped"] == [
            {
                "resource_type": "Immunization",
                "path": f"entry[{index}]",
                "reason": "entered in error",
            }
        ]
        assert result["not_kept"]["Claim"] == 8
        assert f"skipped Immunization at entry[{index}]: entered in error" in err
        # Again: nothing changes, and the exit code says "imported before".
        code, out, err = run(capsys, "import-fhir", str(path), "--yes", "--json")
        assert code == ExitCode.CONFLICT and "imported before" in err
        again = json.loads(out)
        assert again["added"] == {} and again["updated"] == {} and again["imported_before"]
        assert sum(again["unchanged"].values()) == sum(result["added"].values())
        # Into someone else's profile: stopped with a clear message, unless confirmed.
        assert run(capsys, "profiles", "add", "Other Person")[0] == 0
        args = ["import-fhir", str(path), "--profile", "Other Person", "--yes"]
        code, _, err = run(capsys, *args)
        assert code == ExitCode.BAD_INPUT and "may belong to someone else" in err
        assert "--confirm-identity" in err
        code, out, _ = run(capsys, *args, "--confirm-identity")
        assert code == 0 and "Imported" in out
    finally:
        Vault.destroy(home, keychain=keychain, with_backups=True)
