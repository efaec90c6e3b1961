"""`ohvault import-pdf`: lab report PDFs into the vault, or parsed to JSON with --dry-run."""

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
        "--ocr",
        action="store_true",
        help="read scanned reports (no text layer) with Tesseract; such results are left for review",
    )
    _add_data_options(p)


def _parse(path: Path, password: str | None, ocr: bool = False) -> tuple[bytes, Any]:
    from ohvault.labs import LabParseError
    from ohvault.labs.sandbox import parse_pdf_isolated as parse_pdf

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"No such file: {path}") from None
    except OSError as exc:
        raise BadInput(f"{path} cannot be read: {exc.strerror}") from None
    try:
        return data, parse_pdf(data, password=password, ocr=ocr)
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
                _, report = _parse(path, password, args.ocr)
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

    from ohvault.importing import import_report

    results: list[dict[str, Any]] = []
    with open_vault(args) as vault:
        profile = resolve_profile(vault, args)
        for path in paths:
            try:
                data, report = _parse(path, password, args.ocr)
                outcome = import_report(
                    vault,
                    profile.id,
                    data,
                    path.name,
                    report,
                    confirm_identity=args.confirm_identity,
                    include_duplicates=args.include_duplicates,
                    collection_date=parse_date(args.date),
                )
                results.append(
                    {
                        "file": str(path),
                        "report_id": outcome.report_id,
                        "document_id": outcome.document_id,
                        "imported": len(outcome.imported),
                        "duplicates": len(outcome.duplicates),
                        "low_confidence_skipped": len(outcome.skipped_low_confidence),
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
                print(
                    f"{r['file']}: imported {r['imported']} results"
                    f" ({r['duplicates']} duplicates skipped, {r['low_confidence_skipped']} low-confidence"
                    f" and {r['unmatched']} unrecognised rows left for review in the app)"
                )
    return int(ExitCode.BAD_INPUT) if failed else 0
