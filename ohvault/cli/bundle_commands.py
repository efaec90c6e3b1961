"""CLI for identities, bundles, plain FHIR/CSV, the visit summary PDF and the clinician's patients.

Secrets on stdin, one per line, in this order: the vault's passphrase
(`--passphrase-stdin`) or recovery key (`--recovery-key-stdin`), then the
bundle's passphrase (`--bundle-passphrase-stdin`). `--passphrase-stdin` unlocks
the vault on every command, as everywhere else in the CLI; `--vault-passphrase-stdin`
is its deprecated spelling from 0.1 and still works for one release, with a warning.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ohvault.cli.commands import open_vault, parse_date, resolve_profile
from ohvault.cli.io import print_json, print_table, read_secret
from ohvault.errors import BadInput
from ohvault.vault import Vault

Cmd = Callable[..., argparse.ArgumentParser]


def _unlock_options(p: argparse.ArgumentParser, *, bundle_passphrase: bool) -> None:
    g = p.add_argument_group("unlocking the vault (keychain first, then these)")
    g.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the vault's passphrase from stdin (first line)",
    )
    g.add_argument("--vault-passphrase-stdin", action="store_true", help=argparse.SUPPRESS)
    g.add_argument(
        "--recovery-key-stdin", action="store_true", help="read the vault's recovery key from stdin"
    )
    g.add_argument("--no-keychain", action="store_true", help="do not use the OS keychain")
    if bundle_passphrase:
        p.add_argument(
            "--bundle-passphrase-stdin",
            action="store_true",
            help="the bundle's passphrase, read from stdin (after any vault secret)",
        )


def _open(args: argparse.Namespace) -> Vault:
    ns = argparse.Namespace(**vars(args))
    if getattr(args, "vault_passphrase_stdin", False):
        sys.stderr.write(
            "WARNING: --vault-passphrase-stdin is deprecated; use --passphrase-stdin "
            "(it unlocks the vault on every command). The bundle's passphrase is "
            "--bundle-passphrase-stdin.\n"
        )
        ns.passphrase_stdin = True
    return open_vault(ns)


def _confirm(question: str, *, yes: bool, required: bool) -> None:
    """Ask on a terminal; without one, `required` confirmations need --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        if required:
            raise BadInput("Refusing without confirmation.", hint="Pass --yes in scripts.")
        return
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise BadInput("Cancelled; nothing was written.")


def _progress(enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        sys.stderr.write(f"\r  {done / 1e6:8.1f} / {total / 1e6:.1f} MB  {pct:3d}%")
        if done >= total:
            sys.stderr.write("\n")

    return show


# --- identity -------------------------------------------------------------------------


def cmd_identity(args: argparse.Namespace) -> int:
    from ohvault import identity

    with _open(args) as vault:
        me = identity.load_or_create(vault)
        if args.action == "export-age-key":
            if not args.path:
                raise BadInput("Give the file to write: ohvault identity export-age-key FILE")
            identity.export_age_identity(vault, me, Path(args.path).expanduser())
            print(f"Wrote the age identity to {args.path} (mode 0600). Keep it secret.")
            return 0
        info = identity.public_summary(me)
        if args.qr:
            identity.write_qr(me.age_recipient, Path(args.qr).expanduser())
            info["qr"] = str(args.qr)
        if args.json:
            print_json(info)
        else:
            print(info["age_public_key"])
            print(f"fingerprint: {info['age_fingerprint']}")
            print(f"signing key fingerprint: {info['signing_fingerprint']}")
            if args.qr:
                print(f"QR code written to {args.qr}")
    return 0


# --- export ----------------------------------------------------------------------------


def _print_summary(summary: dict[str, Any], where: str) -> None:
    w = sys.stderr
    w.write(f"About to write {where}:\n")
    scope = f"  date range: {summary['since'] or 'any'} to {summary['until'] or 'any'}\n"
    w.write(scope)
    for name, count in summary["counts"].items():
        w.write(f"  {name:18} {count}\n")
    w.write(f"  {'deletions':18} {summary['deletions']}\n")
    w.write(f"  document bytes     {summary['document_bytes']}\n")


def cmd_export(args: argparse.Namespace) -> int:
    from ohvault.bundles.export import parse_types, plan_export, write_bundle
    from ohvault.fhir import plain

    targets = [t for t in (args.out, args.fhir, args.csv) if t]
    if len(targets) != 1:
        raise BadInput("Choose exactly one of --out (encrypted bundle), --fhir FILE or --csv FILE.")
    if args.out and not args.to and not args.bundle_passphrase_stdin:
        raise BadInput(
            "An encrypted bundle needs a recipient.",
            hint="Pass --to age1… (the clinician's public key) or --bundle-passphrase-stdin.",
        )
    if not args.out and (args.to or args.bundle_passphrase_stdin):
        raise BadInput("--to and --bundle-passphrase-stdin apply to encrypted bundles (--out).")
    with _open(args) as vault:
        profile = resolve_profile(vault, args)
        plan = plan_export(
            vault,
            profile.id,
            types=parse_types(args.types),
            since=parse_date(args.since, "--since date"),
            until=parse_date(args.until, "--until date"),
        )
        summary = plan.summary()
        if args.out:
            _print_summary(summary, f"an encrypted bundle to {args.out}")
            _confirm("Write the bundle?", yes=args.yes, required=False)
            passphrase = None
            if args.bundle_passphrase_stdin:
                passphrase = read_secret("Bundle passphrase: ", from_stdin=True)
            info = write_bundle(
                vault,
                plan,
                Path(args.out),
                recipients=args.to or (),
                passphrase=passphrase,
                progress=_progress(not args.json),
            )
            result = {
                "path": str(info.path),
                "bundle_id": info.bundle_id,
                "bytes": info.size,
                "counts": info.counts,
                "signed_by": info.sender_fingerprint,
            }
        else:
            sys.stderr.write(plain.PLAINTEXT_WARNING + "\n")
            target = Path(args.fhir or args.csv).expanduser()
            _print_summary(summary, f"plaintext to {target}")
            _confirm("Write these records unencrypted?", yes=args.yes, required=True)
            size = (
                plain.write_fhir_json(vault, plan, target)
                if args.fhir
                else plain.write_csv(vault, plan, target)
            )
            result = {"path": str(target), "bytes": size, "counts": summary["counts"]}
    if args.json:
        print_json(result)
    else:
        print(f"Wrote {result['path']} ({result['bytes']} bytes).")
        if "signed_by" in result:
            print(f"Signed by {result['signed_by']}.")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """The visit summary PDF the app writes (Trends → Visit summary), from the command line."""
    from ohvault.fhir.plain import PLAINTEXT_WARNING
    from ohvault.reports.summary import build_visit_summary
    from ohvault.wording import plural

    target = Path(args.out).expanduser()
    if target.is_dir():
        raise BadInput(f"{args.out} is a folder; give the PDF file to write.")
    if not target.parent.is_dir():
        raise BadInput(f"The folder {target.parent} does not exist; nothing was written.")
    since = parse_date(args.since, "--since date")
    with _open(args) as vault:
        profile = resolve_profile(vault, args)
        # As readable as a CSV export: the same warning, and scripts must say --yes.
        sys.stderr.write(PLAINTEXT_WARNING + "\n")
        _confirm(f"Write the visit summary unencrypted to {target}?", yes=args.yes, required=True)
        info = build_visit_summary(vault, profile.id, target, since=since)
    result = {
        "path": str(target),
        "pages": info.pages,
        "results": info.results,
        "flagged": info.flagged,
        "charts": info.charts,
    }
    if args.json:
        print_json(result)
    else:
        print(
            f"Wrote {target} ({plural(info.pages, 'page')}: "
            f"{plural(info.results, 'latest result')}, {info.flagged} out of range, "
            f"{plural(info.charts, 'trend chart')})."
        )
    return 0


# --- import ----------------------------------------------------------------------------


def cmd_import_bundle(args: argparse.Namespace) -> int:
    from ohvault.bundles.importer import import_bundle

    with _open(args) as vault:
        passphrase = None
        if args.bundle_passphrase_stdin:
            passphrase = read_secret("Bundle passphrase: ", from_stdin=True)
        result = import_bundle(
            vault,
            Path(args.file),
            passphrase=passphrase,
            accept_key_change=args.accept_new_key,
            accept_lookalike=args.accept_lookalike,
            dry_run=args.dry_run,
            progress=_progress(not args.json),
        )
    if args.json:
        print_json(result.to_json())
        return 0
    for warning in result.warnings:
        sys.stderr.write(f"WARNING: {warning}\n")
    trust = {
        "new": "first bundle from this patient: key trusted from now on",
        "known": "matches the key this patient used before",
        "changed": "CHANGED key, accepted",
    }[result.trust]
    print(f"Sender key fingerprint: {result.sender_fingerprint} ({trust})")
    verb = "Checked (dry run, nothing stored)" if result.dry_run else "Imported"
    print(
        f"{verb}: bundle {result.bundle_id} for patient {result.profile_id}: "
        f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.deleted} deleted."
    )
    return 0


def cmd_import_fhir(args: argparse.Namespace) -> int:
    from ohvault.errors import ExitCode
    from ohvault.fhir import plain
    from ohvault.filekind import FileKind, expect_kind

    expect_kind(Path(args.file).expanduser(), FileKind.FHIR_JSON)
    content = plain.read_fhir_file(Path(args.file).expanduser())
    with _open(args) as vault:
        profile = resolve_profile(vault, args)
        counts = content.counts()
        sys.stderr.write("The FHIR file holds:\n")
        for name, count in sorted(counts.items()):
            sys.stderr.write(f"  {name:18} {count}\n")
        for name, count in sorted(content.skipped.items()):
            sys.stderr.write(f"  {name:18} {count} (not kept by ohvault)\n")
        for problem in content.problems:
            sys.stderr.write(
                f"  skipped {problem.resource_type} at {problem.path}: {problem.reason}\n"
            )
        for note in content.notes:
            sys.stderr.write(f"  note: {note}\n")
        _confirm("Import these records?", yes=args.yes, required=False)
        outcome = plain.store_fhir_import(
            vault, profile.id, content, confirm_identity=args.confirm_identity
        )
    if args.json:
        print_json(outcome.to_json())
    else:

        def listed(d: dict[str, int]) -> str:
            return ", ".join(f"{v} {k}" for k, v in sorted(d.items())) or "nothing"

        print(
            f"Imported {listed(outcome.added)}; updated {listed(outcome.updated)}; "
            f"unchanged {listed(outcome.unchanged)}; {outcome.duplicates} already in the vault "
            f"from elsewhere; {len(outcome.skipped)} skipped."
        )
    if outcome.imported_before:
        sys.stderr.write("This file was imported before; nothing was changed.\n")
        return int(ExitCode.CONFLICT)
    return 0


# --- patients ----------------------------------------------------------------------------


def cmd_patients(args: argparse.Namespace) -> int:
    from ohvault.bundles import patients

    with _open(args) as vault:
        if args.action == "history":
            if not args.patient:
                raise BadInput("patients history needs --patient ID.")
            profile = vault.repo.find_profile(args.patient)
            items = patients.import_history(vault, profile.id)
            if args.json:
                print_json([i.to_json() for i in items])
            else:
                print_table(
                    [
                        [i.imported_at[:19], i.bundle_created_at[:19], i.sender_fingerprint,
                         "yes" if i.addressed_to_us else "FORWARDED", i.bundle_id]
                        for i in items
                    ],
                    ["IMPORTED", "CREATED", "SIGNED BY", "TO US", "BUNDLE"],
                )  # fmt: skip
            return 0
        rows = patients.patients(vault)
        if args.json:
            print_json([r.to_json() for r in rows])
        else:
            print_table(
                [
                    [r.profile_id, r.name, r.sender_fingerprint or "(local)", r.last_import or ""]
                    for r in rows
                ],
                ["ID", "NAME", "SENDER KEY", "LAST IMPORT"],
            )
    return 0


def register(cmd: Cmd) -> None:
    from ohvault.bundles.export import EXPORTABLE_TYPES

    p = cmd("identity", cmd_identity, "show this vault's public key (age1…) or export its age key")
    p.add_argument("action", nargs="?", choices=["show", "export-age-key"], default="show")
    p.add_argument("path", nargs="?", help="with export-age-key: the file to write (0600)")
    p.add_argument(
        "--qr", metavar="PATH", help="also write the public key as a QR code (.png/.svg)"
    )
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=False)

    p = cmd(
        "export",
        cmd_export,
        "write a signed, encrypted bundle for a clinician (or plaintext FHIR/CSV after a warning)",
    )
    p.add_argument("--to", action="append", metavar="AGE1KEY", help="recipient public key (repeat)")
    p.add_argument("--out", metavar="FILE", help="the encrypted bundle to write")
    p.add_argument("--fhir", metavar="FILE", help="write UNENCRYPTED FHIR R4 JSON instead")
    p.add_argument("--csv", metavar="FILE", help="write UNENCRYPTED CSV instead")
    p.add_argument(
        "--types",
        metavar="T,T",
        help="record types (default all): " + ",".join(t.value for t in EXPORTABLE_TYPES),
    )
    p.add_argument("--since", metavar="YYYY-MM-DD")
    p.add_argument("--until", metavar="YYYY-MM-DD")
    p.add_argument("--profile", metavar="NAME", help="profile name or id (default: the first)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=True)

    p = cmd(
        "summary",
        cmd_summary,
        "write the visit summary PDF (latest results, flagged values, trends) after a warning",
    )
    p.add_argument("--out", metavar="FILE", required=True, help="the PDF to write (UNENCRYPTED)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="trend charts start here (default: all)")
    p.add_argument("--profile", metavar="NAME", help="profile name or id (default: the first)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=False)

    p = cmd("import-bundle", cmd_import_bundle, "verify and import a bundle (all or nothing)")
    p.add_argument("file")
    p.add_argument(
        "--accept-new-key",
        action="store_true",
        help="accept a known patient's changed signing key (check it with them first)",
    )
    p.add_argument(
        "--accept-lookalike",
        action="store_true",
        help="import a new sender whose patient has a known patient's name and birth date "
        "(as a separate patient; check with them first)",
    )
    p.add_argument("--dry-run", action="store_true", help="verify everything, store nothing")
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=True)

    p = cmd("import-fhir", cmd_import_fhir, "import a FHIR R4 Bundle JSON from another app")
    p.add_argument("file")
    p.add_argument(
        "--confirm-identity",
        action="store_true",
        help="import even though the name or birth date in the file differs from the profile's",
    )
    p.add_argument("--profile", metavar="NAME", help="profile name or id (default: the first)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=False)

    p = cmd(
        "patients", cmd_patients, "clinician vault: list patients or a patient's bundle imports"
    )
    p.add_argument("action", choices=["list", "history"])
    p.add_argument("--patient", metavar="ID", help="with history: the patient")
    p.add_argument("--json", action="store_true")
    _unlock_options(p, bundle_passphrase=False)
