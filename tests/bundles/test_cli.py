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
        assert code == ExitCode.BAD_INPUT and "is a FHIR JSON file" in err
        assert "ohvault import-fhir" in err
    finally:
        for where in (clinic, home):
            Vault.destroy(where, keychain=keychain, with_backups=True)


def test_cli_unlock_flags_and_files_given_to_the_wrong_command(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keychain: Keychain,
) -> None:
    """--passphrase-stdin unlocks the vault on every command; a bundle's passphrase has its
    own flag; the 0.1 spelling still works with a warning; wrong files name their command."""
    import io as stdio
    import sys

    from ohvault.bundles import age
    from ohvault.cli import commands

    def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        commands._last_credentials = None
        monkeypatch.setattr(sys, "stdin", stdio.StringIO(stdin))
        return run(capsys, *argv)

    vault_pass, bundle_pass = "correct horse battery staple\n", "a long bundle passphrase\n"
    home, clinic = tmp_path / "home", tmp_path / "clinic"
    try:
        monkeypatch.setenv("OHVAULT_HOME", str(home))
        assert (
            cli("init", "--profile", "Dana Synthetic", "--passphrase-stdin", stdin=vault_pass)[0]
            == 0
        )
        args = ["observations", "add", "--analyte", "Sodium", "--value", "140", "--unit", "mmol/L"]
        assert cli(*args, "--date", "2024-03-03")[0] == 0
        bundle = tmp_path / "dana.ohvbundle"
        code, _, err = cli(
            "export", "--out", str(bundle), "--no-keychain", "--passphrase-stdin",
            "--bundle-passphrase-stdin", "--yes", stdin=vault_pass + bundle_pass,
        )  # fmt: skip
        assert code == 0, err

        monkeypatch.setenv("OHVAULT_HOME", str(clinic))
        assert cli("init", "--clinician", "--passphrase-stdin", stdin=vault_pass)[0] == 0
        both = ["--no-keychain", "--bundle-passphrase-stdin", "--json"]
        code, out, err = cli(
            "import-bundle",
            str(bundle),
            "--passphrase-stdin",
            *both,
            stdin=vault_pass + bundle_pass,
        )
        assert code == 0, err
        assert json.loads(out)["added"] == 1  # the observation (the patient is new, not counted)
        code, out, err = cli(
            "import-bundle", str(bundle), "--dry-run", "--vault-passphrase-stdin", *both,
            stdin=vault_pass + bundle_pass,
        )  # fmt: skip
        assert code == 0 and "deprecated" in err and "--passphrase-stdin" in err
        # Without the bundle's passphrase the hint names the new flag.
        code, _, err = cli("import-bundle", str(bundle))
        assert code == ExitCode.BAD_INPUT and "--bundle-passphrase-stdin" in err

        # A bundle given to import-fhir says what it is and which command takes it.
        code, _, err = cli("import-fhir", str(bundle))
        assert code == ExitCode.BAD_INPUT
        assert "encrypted ohvault bundle" in err and "ohvault import-bundle" in err
        # An age file that opens but holds no bundle is named as such.
        other = tmp_path / "notes.txt.age"
        with other.open("wb") as sink:
            age.encrypt_passphrase(stdio.BytesIO(b"just some notes"), sink, "pw", log_n=10)
        code, _, err = cli("import-bundle", str(other), "--bundle-passphrase-stdin", stdin="pw\n")
        assert code == ExitCode.BAD_INPUT and "not an ohvault bundle" in err
    finally:
        for where in (home, clinic):
            Vault.destroy(where, keychain=keychain, with_backups=True)
