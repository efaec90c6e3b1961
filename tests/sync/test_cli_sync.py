"""`ohvault sync` and `ohvault serve` as a person types them (in-process, real server)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.keys.keychain import Keychain
from ohvault.vault import Vault
from sync.conftest import new_username
from sync.devices import PASSWORD
from sync.server_proc import ServerProc

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_as(
    tmp_path: Path,
    keychain: Keychain,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[[str], Run]]:
    """run_as("laptop")("sync", "status") runs ohvault with that device's home and config."""
    homes: list[Path] = []

    def device(name: str) -> Run:
        home = tmp_path / name
        homes.append(home)

        def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
            monkeypatch.setenv("OHVAULT_HOME", str(home))
            monkeypatch.setenv("OHVAULT_CONFIG_DIR", str(tmp_path / f"{name}-config"))
            cli_io.reset_stdin()
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            code = main(list(args))
            out, err = capsys.readouterr()
            return code, out, err

        return run

    yield device
    for home in homes:
        Vault.destroy(home, keychain=keychain, with_backups=True)


def test_enable_pair_join_and_sync_from_the_command_line(
    run_as: Callable[[str], Run], sync_server: ServerProc
) -> None:
    laptop, desktop = run_as("laptop"), run_as("desktop")
    user = new_username()
    assert laptop("init", "--profile", "Robin Synthetic", "--json")[0] == 0
    code, _, err = laptop(
        "observations",
        "add",
        "--analyte",
        "Sodium",
        "--value",
        "141",
        "--unit",
        "mmol/L",
        "--date",
        "2024-02-01",
    )
    assert code == 0, err
    code, out, _ = laptop("sync", "status", "--json")
    assert json.loads(out)["enabled"] is False
    code, out, err = laptop(
        "sync",
        "enable",
        "--server",
        sync_server.url,
        "--user",
        user,
        "--register",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    assert json.loads(out)["pending_changes"] == 0
    code, out, _ = laptop("sync", "pairing-code", "--json")
    pairing_code = json.loads(out)["pairing_code"]

    assert desktop("init", "--json")[0] == 0
    code, out, err = desktop(
        "sync",
        "join",
        "--server",
        sync_server.url,
        "--user",
        user,
        "--pairing-code",
        pairing_code,
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    code, out, _ = desktop("observations", "list", "--json")
    assert [(o["analyte"], o["value"]) for o in json.loads(out)] == [("Sodium", 141.0)]

    assert (
        desktop(
            "observations",
            "add",
            "--analyte",
            "Potassium",
            "--value",
            "4.1",
            "--date",
            "2024-02-02",
        )[0]
        == 0
    )
    code, out, _ = desktop("sync", "--json")
    assert code == 0 and json.loads(out)["pushed_records"] == 1
    assert laptop("sync")[0] == 0
    code, out, _ = laptop("observations", "list", "--json")
    assert sorted(o["analyte"] for o in json.loads(out)) == ["Potassium", "Sodium"]
    code, out, _ = laptop("sync", "status")
    assert "idle" in out and "0 open conflicts" in out


def test_sync_errors_are_clear(run_as: Callable[[str], Run]) -> None:
    laptop = run_as("laptop")
    assert laptop("init", "--json")[0] == 0
    code, _, err = laptop("sync")
    assert code == ExitCode.BAD_INPUT and "Sync is off" in err
    code, _, err = laptop(
        "sync",
        "enable",
        "--server",
        "http://127.0.0.1:9",
        "--user",
        "x",
        "--password-stdin",
        stdin="pw-long-enough\n",
    )
    assert code == ExitCode.CHECK_FAILED and "could not be reached" in err
    code, out, _ = laptop("sync", "status", "--json")
    assert json.loads(out)["enabled"] is False


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "is not set"),
        ("changeme-changeme-changeme-changeme", "well-known default"),
        ("aB3" * 5, "at least 32"),
        ("ab" * 20, "too repetitive"),
    ],
)
def test_serve_refuses_weak_secrets(
    secret: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OHVAULT_SERVER_SECRET", secret)
    assert main(["serve", "--check-config"]) == 2
    assert message in capsys.readouterr().err


def test_serve_validates_numbers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OHVAULT_SERVER_SECRET", "Zq8-" + "x7Kp2Lm9Nb4Vc6Rt1Yw3Ua5Sd0Fg8Hj" + "e")
    monkeypatch.setenv("OHVAULT_SERVER_ARGON2_MEMORY_KIB", "1024")
    assert main(["serve", "--check-config"]) == 2
    err = capsys.readouterr().err
    assert "OHVAULT_SERVER_ARGON2_MEMORY_KIB" in err and "1024" not in err.split("between")[0]
    monkeypatch.setenv("OHVAULT_SERVER_ARGON2_MEMORY_KIB", "65536")
    monkeypatch.setenv("OHVAULT_SERVER_DATABASE_URL", "sqlite:///:memory:")
    assert main(["serve", "--check-config"]) == 0


def test_change_password_and_delete_account_from_the_command_line(
    run_as: Callable[[str], Run], sync_server: ServerProc
) -> None:
    laptop = run_as("laptop")
    user = new_username()
    assert laptop("init", "--profile", "Robin Synthetic", "--json")[0] == 0
    code, _, err = laptop(
        "sync", "enable", "--server", sync_server.url, "--user", user, "--register",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    new = "another long passphrase"
    code, _, err = laptop(
        "sync", "change-password", "--password-stdin", stdin=f"wrong password\n{new}\n"
    )
    assert code == ExitCode.CHECK_FAILED and "current password is wrong" in err
    code, out, err = laptop(
        "sync", "change-password", "--password-stdin", "--json", stdin=f"{PASSWORD}\n{new}\n"
    )
    assert code == 0 and json.loads(out) == {"password_changed": True}, err
    code, out, err = laptop("sync", "delete-account", "--password-stdin", stdin=f"{new}\n")
    assert code == 0 and "records in this vault are unchanged" in out, err
    code, out, _ = laptop("sync", "status", "--json")
    assert json.loads(out)["enabled"] is False
    code, out, _ = laptop("observations", "list", "--json")
    assert code == 0
