"""`ohvault import-pdf` (lab report PDFs into the vault, or parsed to JSON with --dry-run) and
`ohvault mappings` (taught test names: what a printed name means, applied on every import)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ohvault.cli.io import print_json, read_secret
from ohvault.errors import BadInput, ExitCode, OhvaultError


def register(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    from ohvault.cli.main import _add_data_options

    p = cmd("import-pdf", cmd_import_pdf, "read lab report PDFs and store their results")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="parse only; needs no vault")
    p.add_argument("--json", action="store_true", help="print the parsed results as JSON")
    p.add_argument(
        "--pdf-password-stdin", action="store_true", help="read the PDF's password from stdin"
    )
    p.add_argument(
        "--confirm-identity",
        action="store_true",
        help="import even if the name or birth date on the report differs from the profile",
    )
    p.add_argument(
        "--include-duplicates", action="store_true", help="also store results already in the vault"
    )
    p.add_argument(
        "--date", metavar="YYYY-MM-DD", help="collection date, when the report does not print one"
    )
    p.add_argument(
        "--lab",
        metavar="LAB",
        help="the laboratory, when the report does not print it (or misreads it)",
    )
    p.add_argument(
        "--ocr",
        action="store_true",
        help="read scanned reports (no text layer) with Tesseract; such results are left for review",
    )
    _add_data_options(p)

    from ohvault.cli.main import _add_unlock_options

    p = cmd(
        "mappings",
        cmd_mappings,
        "list, add or delete taught test names (a printed name mapped to a catalog test)",
    )
    p.add_argument("action", choices=["list", "add", "delete"])
    p.add_argument(
        "name", nargs="?", metavar="PRINTED_NAME_OR_ID", help="add: the name as printed; delete: id"
    )
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--analyte", metavar="NAME_OR_LOINC", help="the catalog test (name, synonym or LOINC)"
    )
    target.add_argument(
        "--own-test", action="store_true", help="keep the printed name as a test of its own"
    )
    p.add_argument("--lab", metavar="LAB", help="only for reports from this laboratory")
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)


def cmd_mappings(args: argparse.Namespace) -> int:
    from ohvault.cli.commands import open_vault

    if args.action in ("add", "delete") and not args.name:
        what = "the printed test name" if args.action == "add" else "the mapping's id"
        raise BadInput(f"Give {what}.", hint=f"ohvault mappings {args.action} --help")
    if args.action != "add" and (args.analyte or args.own_test or args.lab):
        raise BadInput("--analyte, --own-test and --lab go with `mappings add`.")
    with open_vault(args) as vault:
        if args.action == "list":
            mappings = vault.repo.name_mappings()
            if args.json:
                print_json([m.to_json() for m in mappings])
            elif not mappings:
                print("No taught test names yet.")
            else:
                for m in mappings:
                    print(f"{m.id}  {m.describe()}")
            return 0
        if args.action == "delete":
            vault.repo.delete_name_mapping(args.name)
            if args.json:
                print_json({"deleted": args.name})
            else:
                print("Deleted.")
            return 0
        from ohvault.importing import teach_mapping

        if not args.analyte and not args.own_test:
            raise BadInput(
                "Say what the name means: --analyte NAME_OR_LOINC, or --own-test.",
                hint="ohvault mappings add 'Lp-PLA2 Activity' --own-test",
            )
        mapping = teach_mapping(
            vault, args.name, analyte=args.analyte, own_test=args.own_test, lab=args.lab
        )
        if args.json:
            print_json(mapping.to_json())
        else:
            print(f"{mapping.id}  {mapping.describe()}")
        return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"No such file: {path}") from None
    except OSError as exc:
        raise BadInput(f"{path} cannot be read: {exc.strerror}") from None


def _parse(path: Path, data: bytes, password: str | None, ocr: bool = False) -> Any:
    from ohvault.labs import LabParseError
    from ohvault.labs.sandbox import parse_pdf_isolated as parse_pdf

    try:
        return parse_pdf(data, password=password, ocr=ocr)
    except LabParseError as exc:
        raise BadInput(f"{path.name}: {exc}") from None


def cmd_import_pdf(args: argparse.Namespace) -> int:
    from ohvault.cli.commands import open_vault, parse_date, resolve_profile

    password = read_secret("PDF password: ", from_stdin=True) if args.pdf_password_stdin else None
    paths = [Path(f).expanduser() for f in args.files]
    failed = False
    if args.dry_run:
        out: list[dict[str, Any]] = []
        for path in paths:
            try:
                report = _parse(path, _read(path), password, args.ocr)
                out.append({"file": str(path), **report.to_json()})
            except OhvaultError as exc:
                failed = True
                out.append({"file": str(path), "error": exc.message})
        if args.json:
            print_json(out)
        else:
            for item in out:
                if "error" in item:
                    print(f"{item['file']}: {item['error']}")
                else:
                    print(
                        f"{item['file']}: {len(item['results'])} results, {len(item['unmatched'])} unmatched"
                    )
        return int(ExitCode.BAD_INPUT) if failed else 0

    from ohvault.importing import check_not_imported, import_report

    results: list[dict[str, Any]] = []
    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        for path in paths:
            try:
                data = _read(path)
                # Known by its hash before any parsing (a big scan would take minutes for nothing).
                check_not_imported(vault.repo, profile.id, data)
                report = _parse(path, data, password, args.ocr)
                outcome = import_report(
                    vault,
                    profile.id,
                    data,
                    path.name,
                    report,
                    confirm_identity=args.confirm_identity,
                    include_duplicates=args.include_duplicates,
                    collection_date=parse_date(args.date),
                    lab_name=args.lab,
                )
                results.append(
                    {
                        "file": str(path),
                        "report_id": outcome.report_id,
                        "document_id": outcome.document_id,
                        "imported": len(outcome.imported),
                        "duplicates": len(outcome.duplicates),
                        "low_confidence_skipped": len(outcome.skipped_low_confidence),
                        "unmapped_skipped": sum(
                            1 for r in outcome.skipped_low_confidence if r.name is None
                        ),
                        "unmatched": len(report.unmatched),
                    }
                )
            except OhvaultError as exc:
                failed = True
                results.append({"file": str(path), "error": exc.message, "hint": exc.hint})
    if args.json:
        print_json(results)
    else:
        for r in results:
            if "error" in r:
                sys.stderr.write(f"{r['file']}: {r['error']}\n")
                if r.get("hint"):
                    sys.stderr.write(f"  {r['hint']}\n")
            else:
                # Rows not imported here are not kept anywhere: say how to see them.
                left = r["low_confidence_skipped"]
                print(
                    f"{r['file']}: imported {r['imported']} results"
                    + (
                        f", {r['duplicates']} already in the vault skipped"
                        if r["duplicates"]
                        else ""
                    )
                    + (
                        f"; {left} uncertain or unmapped results not imported"
                        " (see them with --dry-run; teach names with `ohvault mappings add`)"
                        if left
                        else ""
                    )
                )
    return int(ExitCode.BAD_INPUT) if failed else 0
