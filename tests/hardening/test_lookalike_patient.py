"""A new key posing as a known patient (same name and birth date) needs an explicit yes.

Real vaults on both sides: a patient, an impostor who copies the patient's name and birth date
into a vault of their own (new vault id, new signing key), and a clinician.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ohvault import identity
from ohvault.bundles.export import plan_export, write_bundle
from ohvault.bundles.importer import LookAlikePatient, import_bundle
from ohvault.bundles.patients import same_person_key
from ohvault.cli import io as cli_io
from ohvault.cli.main import main
from ohvault.errors import ExitCode
from ohvault.model import Observation
from ohvault.vault import Vault

BORN = date(1980, 2, 3)
MakeVault = Callable[..., tuple[Vault, str]]


def _sender(make_vault: MakeVault, home: Path, name: str, born: date | None, value: float) -> Vault:
    vault, _ = make_vault(home=home, profile_name=name)
    profile = vault.repo.profiles()[0]
    profile.birth_date = born
    vault.repo.update_profile(profile)
    vault.repo.add(
        Observation(
            profile_id=profile.id,
            analyte="Glucose",
            value_num=value,
            unit="mmol/L",
            effective=date(2025, 3, 1),
        )
    )
    return vault


def _bundle(sender: Vault, clinician: Vault, out: Path) -> str:
    key = identity.load_or_create(clinician).age_recipient
    profile = sender.repo.profiles()[0]
    return write_bundle(
        sender, plan_export(sender, profile.id), out, recipients=[key]
    ).sender_fingerprint


@pytest.fixture
def clinic(make_vault: MakeVault, tmp_path: Path) -> Vault:
    vault, _ = make_vault(home=tmp_path / "clinic", kind="clinician", profile_name=None)
    return vault


def _glucose(vault: Vault, profile_id: str) -> list[float | None]:
    return [o.value_num for o in vault.repo.records(Observation, profile_id)]


def test_a_lookalike_is_refused_then_imported_apart_only_when_accepted(
    make_vault: MakeVault, clinic: Vault, tmp_path: Path
) -> None:
    real = _sender(make_vault, tmp_path / "real", "Alex Example", BORN, 5.4)
    real_fp = _bundle(real, clinic, tmp_path / "real.ohvbundle")
    known = import_bundle(clinic, tmp_path / "real.ohvbundle")
    assert known.trust == "new" and not known.lookalikes

    # Same name (spelled with other case and spacing) and birth date, a new vault and key.
    fake = _sender(make_vault, tmp_path / "fake", "  alex   EXAMPLE", BORN, 25.0)
    fake_fp = _bundle(fake, clinic, tmp_path / "fake.ohvbundle")
    assert fake.vault_id != real.vault_id and fake_fp != real_fp
    with pytest.raises(LookAlikePatient) as info:
        import_bundle(clinic, tmp_path / "fake.ohvbundle")
    message = str(info.value)
    assert "SAME name and birth date" in message and "Nothing was imported" in message
    assert real_fp in message and fake_fp in message and "--accept-lookalike" in message
    assert [p.id for p in clinic.repo.profiles()] == [known.profile_id]  # nothing stored

    checked = import_bundle(clinic, tmp_path / "fake.ohvbundle", dry_run=True)
    assert [m.sender_fingerprint for m in checked.lookalikes] == [real_fp]
    assert checked.lookalikes[0].profile_id == known.profile_id
    assert any("same name and birth date" in w for w in checked.warnings)
    assert len(clinic.repo.profiles()) == 1
    assert json.dumps(checked.to_json())  # the CLI's --json prints it

    accepted = import_bundle(clinic, tmp_path / "fake.ohvbundle", accept_lookalike=True)
    assert accepted.profile_id != known.profile_id  # a separate patient, never merged
    assert any("separate patient (accepted)" in w for w in accepted.warnings)
    assert _glucose(clinic, known.profile_id) == [5.4]
    assert _glucose(clinic, accepted.profile_id) == [25.0]


def test_other_people_and_known_senders_import_without_a_warning(
    make_vault: MakeVault, clinic: Vault, tmp_path: Path
) -> None:
    real = _sender(make_vault, tmp_path / "real", "Alex Example", BORN, 5.4)
    _bundle(real, clinic, tmp_path / "real.ohvbundle")
    import_bundle(clinic, tmp_path / "real.ohvbundle")
    # The same sender again (its key is known): no look-alike question.
    _bundle(real, clinic, tmp_path / "again.ohvbundle")
    again = import_bundle(clinic, tmp_path / "again.ohvbundle")
    assert again.trust == "known" and not again.lookalikes
    # Same name, another birth date: another person.
    twin = _sender(make_vault, tmp_path / "twin", "Alex Example", date(1981, 2, 3), 6.0)
    _bundle(twin, clinic, tmp_path / "twin.ohvbundle")
    other = import_bundle(clinic, tmp_path / "twin.ohvbundle")
    assert other.trust == "new" and not other.lookalikes and not other.warnings
    assert len(clinic.repo.profiles()) == 2


def test_names_match_as_a_person_reads_them() -> None:
    assert same_person_key("Alex  Example", BORN) == same_person_key("ALEX EXAMPLE", BORN)
    assert same_person_key("Ａｌｅｘ Example", BORN) == same_person_key("alex example", BORN)
    assert same_person_key("Alex Example", BORN) != same_person_key("Alex Example", None)
    assert same_person_key("Alex Example", BORN) != same_person_key("Alexa Example", BORN)


def test_the_cli_refuses_a_lookalike_until_told(
    make_vault: MakeVault,
    clinic: Vault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = _sender(make_vault, tmp_path / "real", "Alex Example", BORN, 5.4)
    _bundle(real, clinic, tmp_path / "real.ohvbundle")
    import_bundle(clinic, tmp_path / "real.ohvbundle")
    fake = _sender(make_vault, tmp_path / "fake", "Alex Example", BORN, 25.0)
    fake_fp = _bundle(fake, clinic, tmp_path / "fake.ohvbundle")
    home = clinic.files.home
    clinic.lock()  # the CLI opens it itself, from the keychain
    monkeypatch.setenv("OHVAULT_HOME", str(home))

    def run(*argv: str) -> tuple[int, str, str]:
        cli_io.reset_stdin()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run("import-bundle", str(tmp_path / "fake.ohvbundle"))
    assert code == ExitCode.CONFLICT
    assert "SAME name and birth date" in err and fake_fp in err and "--accept-lookalike" in err
    code, out, err = run("import-bundle", str(tmp_path / "fake.ohvbundle"), "--dry-run")
    assert code == 0 and "WARNING" in err and "same name and birth date" in err
    code, out, _ = run("patients", "list", "--json")
    assert len(json.loads(out)) == 1
    code, out, err = run(
        "import-bundle", str(tmp_path / "fake.ohvbundle"), "--accept-lookalike", "--json"
    )
    assert code == 0 and json.loads(out)["lookalikes"][0]["name"] == "Alex Example"
    code, out, _ = run("patients", "list", "--json")
    assert len(json.loads(out)) == 2


def test_the_app_warns_prominently_and_imports_only_after_a_yes(
    qtbot: Any,
    make_window: Any,
    make_vault: MakeVault,
    vault_home: Path,
    fast_kdf: Any,
    keychain: Any,
    tmp_path: Path,
) -> None:
    from tests.gui.conftest import PASSPHRASE, wait_idle

    clinic, _ = Vault.create(
        vault_home, passphrase=PASSPHRASE, kind="clinician", kdf=fast_kdf, keychain=keychain
    )
    real = _sender(make_vault, tmp_path / "real", "Alex Example", BORN, 5.4)
    real_fp = _bundle(real, clinic, tmp_path / "real.ohvbundle")
    import_bundle(clinic, tmp_path / "real.ohvbundle")
    fake = _sender(make_vault, tmp_path / "fake", "Alex Example", BORN, 25.0)
    fake_fp = _bundle(fake, clinic, tmp_path / "fake.ohvbundle")
    clinic.lock()

    window = make_window()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=15_000)
    wait_idle(qtbot, window)
    view = window.view("Patients")
    questions: list[tuple[str, str]] = []
    answers = [False]
    window.session.bridge.answer = lambda t, x: questions.append((t, x)) is None and answers[-1]
    window.import_bundle([tmp_path / "fake.ohvbundle"])
    qtbot.waitUntil(lambda: bool(questions), timeout=15_000)
    wait_idle(qtbot, window)
    title, text = questions[0]
    assert "WARNING" in title and "NEW key" in title
    assert "SAME name and birth date" in text and real_fp in text and fake_fp in text
    assert "SEPARATE patient" in text
    assert len(view.patients) == 1 and len(questions) == 1  # refused: nothing stored

    questions.clear()
    answers.append(True)
    window.import_bundle([tmp_path / "fake.ohvbundle"])
    qtbot.waitUntil(lambda: view.last_result is not None, timeout=15_000)
    wait_idle(qtbot, window)
    assert len(questions) == 1 and "NEW key" in questions[0][0]  # one question, not two
    assert view.last_result.lookalikes and len(window.session.profiles) == 2
