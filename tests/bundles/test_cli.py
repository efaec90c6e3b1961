"""The bundle CLI end to end: clinician init, identity, export, import, patient list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.keys.keychain import Keychain
from ohvault.vault import Vault


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    cli_io.reset_stdin()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_share_with_clinician(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keychain: Keychain,
) -> None:
    clinic, home = tmp_path / "clinic", tmp_path / "home"
    try:
        monkeypatch.setenv("OHVAULT_HOME", str(clinic))
        code, out, _ = run(capsys, "init", "--clinician", "--json")
        assert code == 0
        created_with = json.loads(out)["age_public_key"]
        code, out, _ = run(capsys, "identity", "--json", "--qr", str(tmp_path / "key.png"))
        assert code == 0
        key = json.loads(out)["age_public_key"]
        assert key == created_with  # the clinician identity exists from init on
        assert key.startswith("age1") and (tmp_path / "key.png").read_bytes()[:4] == b"\x89PNG"

        monkeypatch.setenv("OHVAULT_HOME", str(home))
        assert run(capsys, "init", "--profile", "Casey Synthetic", "--json")[0] == 0
        args = ["observations", "add", "--analyte", "Glucose", "--value", "5.2"]
        assert run(capsys, *args, "--unit", "mmol/L", "--date", "2024-02-02")[0] == 0
        bundle = tmp_path / "casey.ohvbundle"
        code, out, err = run(capsys, "export", "--to", key, "--out", str(bundle), "--json")
        assert code == 0 and "observation" in err and bundle.exists()
        # Plaintext needs --yes when there is no terminal to ask on.
        code, _, err = run(capsys, "export", "--fhir", str(tmp_path / "plain.json"))
        assert code == ExitCode.BAD_INPUT and "UNENCRYPTED" in err
        assert not (tmp_path / "plain.json").exists()
        assert run(capsys, "export", "--fhir", str(tmp_path / "plain.json"), "--yes")[0] == 0

        monkeypatch.setenv("OHVAULT_HOME", str(clinic))
        code, out, _ = run(capsys, "import-bundle", str(bundle), "--json")
        assert code == 0 and json.loads(out)["trust"] == "new"
        code, out, _ = run(capsys, "patients", "list", "--json")
        [patient] = json.loads(out)
        assert patient["name"] == "Casey Synthetic" and patient["sender_fingerprint"]
        code, out, _ = run(
            capsys, "observations", "list", "--patient", patient["profile_id"], "--json"
        )
        [obs] = json.loads(out)
        assert (obs["value"], obs["unit"], obs["provenance"]) == (5.2, "mmol/L", "bundle")
        # A plain FHIR file from another app imports into a local profile.
        assert run(capsys, "profiles", "add", "Local Person")[0] == 0
        code, out, _ = run(
            capsys,
            "import-fhir",
            str(tmp_path / "plain.json"),
            "--profile",
            "Local Person",
            "--json",
        )
        # The file is Casey's: importing it into another person's profile needs a confirmation.
        assert code == ExitCode.BAD_INPUT
        code, out, _ = run(
            capsys,
            "import-fhir",
            str(tmp_path / "plain.json"),
            "--profile",
            "Local Person",
            "--confirm-identity",
            "--json",
        )
        assert code == 0 and json.loads(out)["added"] == {"observation": 1}
        code, _, err = run(capsys, "import-bundle", str(tmp_path / "plain.json"))
        assert code == ExitCode.BAD_INPUT and "not an age-encrypted bundle" in err
    finally:
        for where in (clinic, home):
            Vault.destroy(where, keychain=keychain, with_backups=True)
