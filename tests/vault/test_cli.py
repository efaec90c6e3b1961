"""The CLI contract: commands, JSON output, no prompts off a terminal, distinct exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.keys.keychain import Keychain


@pytest.fixture
def cli(
    vault_home: Path,
    keychain: Keychain,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    """Run `ohvault ARGS` in-process with the given stdin; returns (exit code, stdout, stderr)."""

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        cli_io.reset_stdin()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    # `init` uses the product's real Argon2id parameters here (about 0.5 s per passphrase use).
    yield run
    from ohvault.vault import Vault

    Vault.destroy(vault_home, keychain=keychain, with_backups=True)


def test_init_status_and_observations(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("init", "--profile", "Ada Example", "--json")
    assert code == 0
    info = json.loads(out)
    assert len(info["recovery_key"].split("-")) == 9 and info["keychain"] is True

    code, out, _ = cli(
        "observations",
        "add",
        "--analyte",
        "Sodium",
        "--value",
        "141",
        "--unit",
        "mmol/L",
        "--date",
        "2026-03-04",
        "--note",
        "fasting",
    )
    assert code == 0
    obs_id = out.strip()
    code, out, _ = cli("observations", "list", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["value"], r["unit"], r["date"]) for r in rows] == [
        (obs_id, 141.0, "mmol/L", "2026-03-04")
    ]

    code, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert code == 0 and status["locked"] is False and status["schema_version"] >= 2
    assert status["counts"]["observation"] == 1
    assert "Ada" not in out and "fasting" not in out  # status carries no PHI

    assert cli("observations", "delete", obs_id)[0] == 0
    assert json.loads(cli("observations", "list", "--json")[1]) == []


def test_profiles_and_notes(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--profile", "Parent")
    code, out, _ = cli("profiles", "add", "Child", "--birth-date", "2018-04-05")
    assert code == 0 and len(out.strip()) == 36
    cli("notes", "add", "first tooth", "--profile", "Child")
    notes_child = json.loads(cli("notes", "list", "--json", "--profile", "Child")[1])
    notes_parent = json.loads(cli("notes", "list", "--json", "--profile", "Parent")[1])
    assert [n["text"] for n in notes_child] == ["first tooth"] and notes_parent == []
    names = [p["name"] for p in json.loads(cli("profiles", "list", "--json")[1])]
    assert names == ["Parent", "Child"]


def test_exit_codes_distinguish_failures(cli, keychain: Keychain, vault_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("status")[0] == ExitCode.NOT_FOUND
    cli("init", "--profile", "P", "--passphrase-stdin", stdin="correct horse battery\n")
    assert (
        cli("observations", "add", "--analyte", "Sodium", "--value", "1", "--date", "31/12/2026")[0]
        == ExitCode.BAD_INPUT
    )
    code, _, err = cli("observations", "list", "--no-keychain")
    assert code == ExitCode.LOCKED and "passphrase" in err
    code, _, err = cli(
        "observations", "list", "--no-keychain", "--passphrase-stdin", stdin="wrong passphrase\n"
    )
    assert code == ExitCode.LOCKED and "wrong" in err
    assert (
        cli(
            "observations",
            "list",
            "--no-keychain",
            "--passphrase-stdin",
            stdin="correct horse battery\n",
        )[0]
        == 0
    )
    assert cli("observations", "delete", "no-such-id")[0] == ExitCode.NOT_FOUND


def test_backup_restore_audit_doctor_and_keys(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--profile", "P", "--passphrase-stdin", stdin="correct horse battery\n")
    cli("observations", "add", "--analyte", "Sodium", "--value", "140", "--unit", "mmol/L")
    code, out, _ = cli("backup", str(tmp_path / "b"), "--json")
    assert code == 0 and json.loads(out)["path"].endswith(".ohvbackup")
    cli("observations", "add", "--analyte", "Sodium", "--value", "150", "--unit", "mmol/L")
    assert cli("restore", str(tmp_path / "b.ohvbackup"))[0] == ExitCode.BAD_INPUT  # no --yes
    assert cli("restore", "--yes", str(tmp_path / "b.ohvbackup"))[0] == 0
    assert [r["value"] for r in json.loads(cli("observations", "list", "--json")[1])] == [140.0]

    code, out, _ = cli("audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    entries = json.loads(cli("audit", "list", "--json", "--limit", "500")[1])
    assert {"unlock", "create", "list", "backup", "restore"} <= {e["action"] for e in entries}

    code, out, _ = cli("doctor", "--json")
    assert code == 0, out
    assert {c["name"] for c in json.loads(out)["checks"]} >= {
        "keychain",
        "cipher_integrity_check",
        "integrity_check",
        "schema",
        "audit chain",
        "last backup",
    }

    code, out, _ = cli(
        "key", "change-passphrase", "--new-passphrase-stdin", stdin="another good passphrase\n"
    )
    assert code == 0
    assert (
        cli("status", "--no-keychain", "--passphrase-stdin", stdin="another good passphrase\n")[0]
        == 0
    )
    code, out, _ = cli(
        "key", "rotate", "--passphrase-stdin", "--json", stdin="another good passphrase\n"
    )
    assert code == 0 and len(json.loads(out)["recovery_key"]) == 44
    new_recovery = json.loads(out)["recovery_key"]
    assert cli("status", "--no-keychain", "--recovery-key-stdin", stdin=new_recovery + "\n")[0] == 0
    assert cli("key", "rotate")[0] == ExitCode.BAD_INPUT  # needs the passphrase


def test_nothing_prompts_when_stdin_is_not_a_terminal(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--profile", "P", "--passphrase-stdin", stdin="correct horse battery\n")
    code, _, err = cli("key", "change-passphrase")
    assert code == ExitCode.BAD_INPUT and "not a terminal" in err
    code, _, err = cli("delete-vault")
    assert code == ExitCode.BAD_INPUT and "--yes" in err
    assert cli("delete-vault", "--yes")[0] == 0
    assert cli("status")[0] == ExitCode.NOT_FOUND


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from ohvault.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: ohvault" in capsys.readouterr().out


def test_entry_point_version_and_no_display_message(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("ohvault")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    from ohvault import __version__

    assert out.returncode == 0 and out.stdout.strip() == f"ohvault {__version__}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["OHVAULT_HOME"] = str(tmp_path / "v")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == ExitCode.BAD_INPUT
    assert "no display" in out.stderr and "QT_QPA_PLATFORM=offscreen" in out.stderr
    assert "Traceback" not in out.stderr


def test_manual_entry_is_checked_against_the_catalog(cli) -> None:  # type: ignore[no-untyped-def]
    cli("init", "--profile", "P")
    code, _, err = cli(
        "observations", "add", "--analyte", "HbA1c", "--value", "6.1", "--unit", "mmol/L"
    )
    assert code == ExitCode.BAD_INPUT and "not a unit" in err
    code, _, err = cli(
        "observations", "add", "--analyte", "Glucose", "--value", "5000", "--unit", "mg/dL"
    )
    assert code == ExitCode.BAD_INPUT and "plausible" in err
    assert (
        cli(
            "observations",
            "add",
            "--analyte",
            "glycated haemoglobin",
            "--value",
            "6.1",
            "--unit",
            "%",
        )[0]
        == 0
    )
    assert cli("observations", "add", "--analyte", "My sleep score", "--value", "82")[0] == 0
    rows = {r["analyte"]: r for r in json.loads(cli("observations", "list", "--json")[1])}
    hba1c = next(r for name, r in rows.items() if r["loinc"] == "4548-4")
    assert hba1c["unit"] == "%" and hba1c["category"] and hba1c["ref_high"] is not None
    assert rows["My sleep score"]["loinc"] is None


def test_missing_qt_x11_libraries_are_named_not_a_qt_abort(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ctypes.util

    from ohvault.cli import main as cli_main

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    real = ctypes.util.find_library
    monkeypatch.setattr(
        ctypes.util, "find_library", lambda n: None if n == "xcb-cursor" else real(n)
    )
    assert cli_main.run_gui() == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "libxcb-cursor0" in err and "apt-get install" in err


def test_records_add_list_delete_for_every_kind(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", "--profile", "Robin Synthetic")[0] == 0
    code, out, err = cli(
        "records", "add", "--type", "medication", "--name", "Metformin", "--dosage", "500 mg",
        "--start", "2024-01-05", "--json",
    )  # fmt: skip
    assert code == 0, err
    med = json.loads(out)
    assert (med["name"], med["dosage"], med["start"], med["status"]) == (
        "Metformin", "500 mg", "2024-01-05", "active",
    )  # fmt: skip
    assert cli("records", "add", "--type", "allergy", "--substance", "Peanut")[0] == 0
    args = ["records", "add", "--type", "immunization", "--vaccine", "Influenza"]
    assert cli(*args, "--occurrence", "2023-10-01", "--lot-number", "L1")[0] == 0
    assert cli("records", "add", "--type", "condition", "--name", "Asthma")[0] == 0

    code, out, _ = cli("records", "list", "--type", "medication", "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)] == ["Metformin"]
    code, out, _ = cli("records", "list", "--type", "immunization")
    assert code == 0 and "Influenza" in out and "2023-10-01" in out
    # Bad input: a field of another type, a missing required field, a value outside the set.
    code, _, err = cli("records", "add", "--type", "allergy", "--substance", "X", "--dosage", "1")
    assert code == ExitCode.BAD_INPUT and "--dosage does not apply to a allergy" in err
    code, _, err = cli("records", "add", "--type", "immunization", "--vaccine", "Tdap")
    assert code == ExitCode.BAD_INPUT and "--occurrence" in err
    args = ["records", "add", "--type", "condition", "--name", "X", "--clinical-status"]
    code, _, err = cli(*args, "gone")
    assert code == ExitCode.BAD_INPUT and "resolved" in err
    code, _, err = cli("records", "add", "--type", "document")
    assert code == ExitCode.BAD_INPUT and "import-pdf" in err

    # Vital signs go through the vitals core: blood pressure is one reading.
    args = ["records", "add", "--type", "vital", "--kind", "bp", "--systolic", "128"]
    assert cli(*args, "--diastolic", "84", "--date", "2024-05-01")[0] == 0
    args = ["records", "add", "--type", "vital", "--kind", "weight", "--value", "70.5"]
    assert cli(*args, "--date", "2024-05-01")[0] == 0
    code, out, _ = cli("records", "list", "--type", "vital", "--json")
    vitals = {v["kind"]: v for v in json.loads(out)}
    assert set(vitals) == {"bp", "weight"}
    assert [c["value"] for c in vitals["bp"]["components"]] == [128, 84]
    code, out, _ = cli("records", "list", "--type", "vital")
    assert "128/84 mmHg" in out and "70.5 kg" in out
    code, _, err = cli("records", "add", "--type", "vital", "--kind", "weight", "--value", "9000")
    assert code == ExitCode.BAD_INPUT

    assert cli("records", "delete", med["id"], "--type", "medication")[0] == 0
    code, out, _ = cli("records", "list", "--type", "medication", "--json")
    assert json.loads(out) == []
    code, _, err = cli("records", "delete", med["id"], "--type", "allergy")
    assert code == ExitCode.NOT_FOUND


def test_serve_without_the_server_extra_names_it(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    code, _, err = cli("serve", "--check-config")
    assert code == ExitCode.BAD_INPUT
    assert "'server' extra" in err and "uvicorn" in err and "ohvault[server]" in err
