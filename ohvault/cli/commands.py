"""The vault's CLI commands. Each returns an exit code; errors are raised as OhvaultError."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from ohvault import paths
from ohvault.cli.io import print_json, print_table, read_secret
from ohvault.errors import (
    BadInput,
    ExitCode,
    OhvaultError,
    RecordNotFound,
    VaultLocked,
)
from ohvault.keys.header import VaultHeader
from ohvault.keys.keychain import Keychain
from ohvault.model import Note, Observation, Profile, RecordType
from ohvault.ucum import display_unit
from ohvault.vault import Credentials, Vault, VaultFiles
from ohvault.wording import plural

# Modules that add subcommands (lab import, bundles, sync, server); each has register(cmd).
EXTENSION_MODULES = (
    "ohvault.cli.labs_commands",
    "ohvault.cli.bundle_commands",
    "ohvault.cli.sync_commands",
)


def register_extensions(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    for name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(cmd)


# --- helpers ------------------------------------------------------------------------------


def credentials(args: argparse.Namespace) -> Credentials:
    creds = Credentials(use_keychain=not getattr(args, "no_keychain", False))
    if getattr(args, "passphrase_stdin", False):
        creds.passphrase = read_secret("Passphrase: ", from_stdin=True)
    if getattr(args, "recovery_key_stdin", False):
        creds.recovery_key = read_secret("Recovery key: ", from_stdin=True)
    return creds


def open_vault(args: argparse.Namespace) -> Vault:
    """Unlock: keychain, then what was given on stdin; prompt only on a terminal."""
    creds = credentials(args)
    try:
        return Vault.open(paths.vault_home(), creds)
    except VaultLocked:
        if creds.passphrase or creds.recovery_key or not sys.stdin.isatty():
            raise
        creds.passphrase = read_secret(
            "Passphrase (or leave empty for recovery key): ", from_stdin=False
        )
        return Vault.open(paths.vault_home(), creds)


def resolve_profile(vault: Vault, args: argparse.Namespace) -> Profile:
    name = getattr(args, "patient", None) or getattr(args, "profile", None)
    if name:
        return vault.repo.find_profile(name)
    profiles = vault.repo.profiles()
    if not profiles:
        raise BadInput("This vault has no profile yet.", hint="Add one: ohvault profiles add NAME")
    return profiles[0]


def parse_date(text: str | None, what: str = "date") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"The {what} {text!r} is not a date in the form YYYY-MM-DD.") from None


def observation_json(o: Observation) -> dict[str, Any]:
    return {
        "id": o.id,
        "analyte": o.analyte,
        "loinc": o.loinc,
        "value": o.value_num if o.value_num is not None else o.value_text,
        "unit": o.unit,
        "ref_low": o.ref_low,
        "ref_high": o.ref_high,
        "ref_text": o.ref_text,
        "flag": o.flag,
        "date": o.effective.isoformat(),
        "lab": o.performer,
        "category": o.category,
        "provenance": o.provenance.value,
        "note": o.note,
    }


# --- commands -----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    passphrase = None
    if args.passphrase_stdin:
        passphrase = read_secret("New passphrase: ", from_stdin=True)
    vault, recovery_text = Vault.create(
        paths.vault_home(),
        passphrase=passphrase,
        profile_name=args.profile,
        kind="clinician" if args.clinician else "patient",
    )
    with vault:
        public: dict[str, str] = {}
        if vault.is_clinician:
            # A clinician vault is made to receive bundles: its identity exists from the start.
            from ohvault import identity

            public = identity.public_summary(identity.load_or_create(vault))
        info = {
            "path": str(vault.files.home),
            "vault_id": vault.vault_id,
            "kind": vault.kind,
            "keychain": vault.keychain.status().available,
            "passphrase_set": passphrase is not None,
            "recovery_key": recovery_text,
            **public,
        }
    if args.json:
        print_json(info)
    else:
        print(f"Created a {info['kind']} vault at {info['path']}.")
        print(
            "The data key is in your OS keychain."
            if info["keychain"]
            else "No OS keychain: unlock with your passphrase."
        )
        print("\nYour recovery key (shown once; write it down and keep it somewhere safe):\n")
        print(f"    {recovery_text}\n")
        print("Without it, a lost keychain and a forgotten passphrase mean your records are gone.")
        if public:
            print("\nYour public key, to give to patients (`ohvault identity` shows it again):")
            print(f"    {public['age_public_key']}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    home = paths.vault_home()
    files = VaultFiles(home)
    keychain_status = Keychain().status()
    info: dict[str, Any] = {
        "path": str(home),
        "exists": files.exists(),
        "keychain": {"available": keychain_status.available, "backend": keychain_status.backend},
        "locked": True,
    }
    if files.exists():
        try:
            header = VaultHeader.load(files.header)
            info.update(
                vault_id=header.vault_id,
                kind=header.kind,
                passphrase_set=header.slots.passphrase is not None,
            )
            with Vault.open(home, credentials(args), auto_backup=False) as vault:
                st = vault.status()
                info.update(
                    locked=False,
                    unlocked_with=st["unlocked_with"],
                    schema_version=st["schema_version"],
                    counts=st["counts"],
                    recovery_unconfirmed=st["recovery_unconfirmed"],
                )
        except OhvaultError as exc:
            info["reason"] = exc.message
    if args.json:
        print_json(info)
    else:
        print(
            f"Vault:    {info['path']}{'' if info['exists'] else ' (none yet: run ohvault init)'}"
        )
        print(
            f"Keychain: {'available' if keychain_status.available else 'not available'} ({keychain_status.backend})"
        )
        if info["exists"]:
            print(
                f"State:    {'locked' if info['locked'] else 'unlocks with ' + info['unlocked_with']}"
            )
            if "reason" in info:
                print(f"Reason:   {info['reason']}")
            if not info["locked"]:
                print(f"Schema:   version {info['schema_version']}")
                for name, count in info["counts"].items():
                    print(f"  {name:18} {count}")
    if not info["exists"]:
        return int(ExitCode.NOT_FOUND)
    return 0 if not info["locked"] else int(ExitCode.LOCKED)


def cmd_profiles(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        if args.action == "add":
            if not args.name:
                raise BadInput("Give the new profile a name: ohvault profiles add NAME")
            profile = vault.repo.add_profile(
                Profile(
                    name=args.name,
                    birth_date=parse_date(args.birth_date, "birth date"),
                    sex=None if args.sex == "none" else args.sex,
                )
            )
            print(profile.id)
            return 0
        if args.action in ("edit", "delete"):
            if not args.name:
                raise BadInput(f"Name the profile: ohvault profiles {args.action} NAME-OR-ID")
            target = vault.repo.find_profile(args.name)
            if args.action == "edit":
                return _edit_profile(vault, target, args)
            return _delete_profile(vault, target, args)
        profiles = vault.repo.profiles()
        if args.json:
            print_json(
                [
                    {"id": p.id, "name": p.name, "birth_date": p.birth_date, "sex": p.sex}
                    for p in profiles
                ]
            )
        else:
            print_table(
                [
                    [p.id, p.name, p.birth_date.isoformat() if p.birth_date else "", p.sex or ""]
                    for p in profiles
                ],
                ["ID", "NAME", "BIRTH DATE", "SEX"],
            )
    return 0


def _edit_profile(vault: Vault, target: Profile, args: argparse.Namespace) -> int:
    from ohvault.storage.repository import UNSET

    changes: dict[str, Any] = {}
    if args.new_name is not None:
        changes["name"] = args.new_name
    if args.birth_date is not None:
        changes["birth_date"] = (
            None if args.birth_date.lower() == "none" else parse_date(args.birth_date, "birth date")
        )
    if args.sex is not None:
        changes["sex"] = None if args.sex == "none" else args.sex
    if not changes:
        raise BadInput(
            "Nothing to change.", hint="Give --new-name, --birth-date or --sex (none clears)."
        )
    profile = vault.repo.edit_profile(
        target.id,
        name=changes.get("name"),
        birth_date=changes.get("birth_date", UNSET),
        sex=changes.get("sex", UNSET),
    )
    if args.json:
        print_json(
            {
                "id": profile.id,
                "name": profile.name,
                "birth_date": profile.birth_date,
                "sex": profile.sex,
            }
        )
    return 0


def _delete_profile(vault: Vault, target: Profile, args: argparse.Namespace) -> int:
    typed = args.confirm
    if typed is None:
        if not sys.stdin.isatty():
            raise BadInput(
                "Deleting a profile removes all its records and cannot be undone.",
                hint="Confirm by giving its name: --confirm NAME.",
            )
        typed = input(
            "This deletes the profile and every record, document and note kept for it; it "
            "cannot be undone.\nType the profile's name to delete it: "
        ).strip()
    removed = vault.repo.delete_profile(target.id, confirm_name=typed)
    if args.json:
        print_json({"id": target.id, "removed": removed})
    else:
        print(f"Deleted the profile and {plural(sum(removed.values()), 'record')}.")
    return 0


def cmd_observations(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        if args.action == "add":
            if not args.analyte or args.value is None:
                raise BadInput("observations add needs --analyte and --value (and usually --unit).")
            obs = build_observation(profile.id, args)
            vault.repo.add(obs)
            print(obs.id)
        elif args.action == "delete":
            if not args.id:
                raise BadInput("observations delete needs the observation id.")
            vault.repo.delete(RecordType.OBSERVATION, profile.id, args.id)
        else:
            rows = vault.repo.observations(
                profile.id,
                analyte=args.analyte,
                since=parse_date(args.since, "--since date"),
                until=parse_date(args.until, "--until date"),
            )
            if args.json:
                print_json([observation_json(o) for o in rows])
            else:
                print_table(
                    [
                        [
                            o.effective.isoformat(),
                            o.analyte,
                            o.display_value(),
                            display_unit(o.unit),
                            o.flag or "",
                            o.id,
                        ]
                        for o in rows
                    ],
                    ["DATE", "ANALYTE", "VALUE", "UNIT", "FLAG", "ID"],
                )
    return 0


def build_observation(profile_id: str, args: argparse.Namespace) -> Observation:
    """An observation from CLI arguments, checked against the biomarker catalog where it knows the analyte."""
    from ohvault.manual_entry import enrich_from_catalog, parse_value

    value_num, value_text = parse_value(args.value)
    effective = parse_date(args.date) or date.today()
    obs = Observation(
        profile_id=profile_id,
        analyte=args.analyte,
        value_num=value_num,
        value_text=value_text,
        unit=args.unit,
        effective=effective,
        note=args.note,
    )
    return enrich_from_catalog(obs)


def cmd_notes(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        if args.action == "add":
            if not args.text:
                raise BadInput("notes add needs the text of the note.")
            note = vault.repo.add(Note(profile_id=profile.id, text=args.text, noted=date.today()))
            print(note.id)
            return 0
        notes = vault.repo.records(Note, profile.id)
        if args.json:
            print_json([{"id": n.id, "date": n.noted, "text": n.text} for n in notes])
        else:
            for n in notes:
                print(f"{n.noted or ''}  {n.text}")
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    from ohvault.documents import attach_document, document_entries

    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        if args.action == "add":
            if not args.file:
                raise BadInput("documents add needs the file to attach.")
            path = Path(args.file)
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise BadInput(f"Cannot read {path.name}: {exc.strerror}.") from None
            doc = attach_document(
                vault.repo,
                profile.id,
                content,
                path.name,
                title=args.title,
                kind=args.kind,
                document_date=parse_date(args.date, "document date"),
            )
            print(doc.id)
            return 0
        entries = document_entries(vault.repo, profile.id)
        if args.json:
            print_json(
                [
                    {
                        "id": e.document.id,
                        "title": e.title,
                        "kind": e.kind,
                        "date": e.date,
                        "lab": e.lab,
                        "filename": e.document.filename,
                        "media_type": e.document.media_type,
                        "size": e.document.size,
                        "sha256": e.document.sha256,
                    }
                    for e in entries
                ]
            )
        else:
            print_table(
                [
                    [
                        e.date.isoformat() if e.date else "",
                        e.title,
                        e.kind,
                        e.lab or "",
                        e.document.id,
                    ]
                    for e in entries
                ],
                ["DATE", "TITLE", "KIND", "LAB", "ID"],
            )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from ohvault.vault.backup import create_backup, list_backups

    with open_vault(args) as vault:
        if args.every_hours is not None or args.keep is not None or args.dir is not None:
            if args.every_hours is not None:
                vault.set_setting("backup_interval_hours", str(args.every_hours))
            if args.keep is not None:
                if args.keep < 1:
                    raise BadInput("--keep must be at least 1.")
                vault.set_setting("backup_keep", str(args.keep))
            if args.dir is not None:
                vault.set_setting("backup_dir", str(Path(args.dir).expanduser().resolve()))
            print("Backup schedule saved.")
            return 0
        if args.list:
            directory = Path(vault.get_setting("backup_dir") or vault.files.backups)
            items = [{"path": str(p), "size": p.stat().st_size} for p in list_backups(directory)]
            if args.json:
                print_json(items)
            else:
                print_table([[str(i["path"]), str(i["size"])] for i in items], ["PATH", "BYTES"])
            return 0
        info = create_backup(vault, Path(args.path).expanduser() if args.path else None)
    if args.json:
        print_json(
            {"path": str(info.path), "size": info.size, "schema_version": info.schema_version}
        )
    else:
        print(f"Backup written to {info.path} ({info.size} bytes).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ohvault.vault.backup import check_restore_target, inspect_backup, restore_backup

    home = paths.vault_home()
    backup = Path(args.path).expanduser()
    # Stdin is read once: the same credentials unlock the backup for checking and restoring.
    creds = credentials(args)
    details = inspect_backup(backup, home=home)  # no unlock: id and date only
    # Refused before asking anything (the core checks again when it restores).
    here = check_restore_target(
        VaultFiles(home), backup, details.vault_id, allow_other_vault=args.other_vault
    )
    other = here is not None and here != details.vault_id
    if not args.yes:
        if not sys.stdin.isatty() or args.passphrase_stdin or args.recovery_key_stdin:
            raise BadInput(
                "Refusing to replace the vault without confirmation.",
                hint="Pass --yes to restore from a script.",
            )
        what = "ANOTHER vault" if other else "this vault"
        answer = input(
            f"Replace the vault at {home} with the backup of {what} made {details.created_at}? "
            "Type 'restore': "
        )
        if answer.strip() != "restore":
            print("Nothing restored.")
            return int(ExitCode.BAD_INPUT)
    info = restore_backup(home, backup, creds, allow_other_vault=args.other_vault)
    if args.json:
        print_json(
            {
                "restored_from": str(info.path),
                "created_at": info.created_at,
                "vault_id": info.vault_id,
                "other_vault": other,
            }
        )
    else:
        print(f"Restored the vault from {info.path} (backup of {info.created_at}).")
        if here is not None:
            print(
                "The replaced vault is kept in "
                f"{VaultFiles(home).safety_copy} until the vault is next unlocked."
            )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        if args.action == "verify":
            report = vault.audit.verify()
            if args.json:
                print_json(
                    {
                        "ok": report.ok,
                        "entries": report.entries,
                        "first_bad_seq": report.first_bad_seq,
                        "reason": report.reason,
                    }
                )
            else:
                where = f" at entry {report.first_bad_seq}" if report.first_bad_seq else ""
                print(
                    f"{'OK' if report.ok else 'BROKEN'}: {report.reason}{where} ({report.entries} entries)"
                )
            return 0 if report.ok else int(ExitCode.CHECK_FAILED)
        entries = vault.audit.entries(action=args.action_filter, limit=args.limit)
        if args.json:
            print_json([e.to_json() for e in entries])
        else:
            print_table(
                [
                    [
                        str(e.seq),
                        e.ts,
                        e.action,
                        e.record_type or "",
                        e.record_id or "",
                        e.detail or "",
                    ]
                    for e in entries
                ],
                ["SEQ", "TIME", "ACTION", "TYPE", "RECORD", "DETAIL"],
            )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ohvault.doctor import run_checks

    checks = run_checks(paths.vault_home(), credentials(args))
    ok = all(c.ok for c in checks)
    if args.json:
        print_json({"ok": ok, "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            print(f"[{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}")
    return 0 if ok else int(ExitCode.CHECK_FAILED)


def cmd_key(args: argparse.Namespace) -> int:
    creds = credentials(args)
    vault = Vault.open(paths.vault_home(), creds)
    with vault:
        if args.action == "change-passphrase":
            if args.remove:
                vault.change_passphrase(None)
                print(
                    "Passphrase removed; the vault unlocks from the OS keychain or the recovery key."
                )
                return 0
            new = read_secret(
                "New passphrase: ", from_stdin=args.new_passphrase_stdin, confirm=True
            )
            vault.change_passphrase(new)
            print("Passphrase changed.")
            return 0
        if args.action == "new-recovery-key":
            text = vault.new_recovery_key()
            _print_recovery(
                text,
                args.json,
                "Your new recovery key (the old one no longer opens the vault; backups made "
                "before keep opening with it):",
            )
            return 0
        text = vault.rotate_key(creds.passphrase)
        _print_recovery(
            text,
            args.json,
            "Data key rotated. Your new recovery key (the old one no longer opens the vault; "
            "backups made before keep opening with it):",
        )
    return 0


def _print_recovery(text: str, as_json: bool, title: str) -> None:
    if as_json:
        print_json({"recovery_key": text})
    else:
        print(f"{title}\n\n    {text}\n")


def cmd_delete_vault(args: argparse.Namespace) -> int:
    home = paths.vault_home()
    if not VaultFiles(home).exists():
        raise RecordNotFound(f"No vault at {home}.")
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadInput(
                "Refusing to delete without confirmation.",
                hint="Pass --yes to delete from a script.",
            )
        answer = input(f"Delete the vault at {home} and its keychain entry? Type 'delete': ")
        if answer.strip() != "delete":
            print("Nothing deleted.")
            return int(ExitCode.BAD_INPUT)
    Vault.destroy(home, with_backups=args.with_backups)
    kept = "" if args.with_backups else " Backups were kept."
    print(f"Vault deleted.{kept}")
    return 0
