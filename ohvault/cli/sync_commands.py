"""`ohvault sync …` (end-to-end encrypted sync) and `ohvault serve` (the reference server).

Secrets never go on the command line: the sync password and a joining device's
recovery key are read from stdin (after the vault's own unlock secrets, one per
line) or prompted for on a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ohvault.cli.io import print_json, read_secret
from ohvault.errors import BadInput

ACTIONS = (
    "now",
    "status",
    "enable",
    "join",
    "pairing-code",
    "recovery-join",
    "conflicts",
    "resolve",
    "login",
    "logout",
    "change-password",
    "delete-account",
    "disable",
)


def register(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    from ohvault.cli.main import _add_unlock_options

    p = cmd(
        "sync", cmd_sync, "end-to-end encrypted sync with your other devices (off until enabled)"
    )
    p.add_argument(
        "action",
        nargs="?",
        default="now",
        choices=ACTIONS,
        help="now (default): pull, merge and push; status; enable (first device); join (another "
        "device); pairing-code; recovery-join (allow joining with the recovery key); conflicts; "
        "resolve ID; login; logout; change-password (current, then new password); delete-account "
        "(the server account and all it holds; records here stay); disable",
    )
    p.add_argument("conflict_id", nargs="?", help="with resolve: the conflict id (or its start)")
    p.add_argument("--server", metavar="URL", help="with enable/join: the sync server")
    p.add_argument("--user", metavar="NAME", help="with enable/join: the sync account")
    p.add_argument("--register", action="store_true", help="with enable: create the account")
    p.add_argument("--device-name", default="ohvault", help="how this device is listed")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the sync account password from stdin"
    )
    p.add_argument(
        "--pairing-code", metavar="CODE", help="with join: the code the other device shows"
    )
    p.add_argument(
        "--join-recovery-key-stdin",
        action="store_true",
        help="with join / recovery-join / enable: read the vault's recovery key from stdin",
    )
    p.add_argument("--vault-id", metavar="ID", help="with join by recovery key: which synced vault")
    p.add_argument("--keep", choices=["current", "other"], help="with resolve: which version stays")
    p.add_argument(
        "--delete-remote", action="store_true", help="with disable: delete the server copy"
    )
    p.add_argument("--snapshot", action="store_true", help="with now: compact the server log now")
    p.add_argument(
        "--ca-file", metavar="PEM", help="trust this CA for the server (self-hosted TLS)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_unlock_options(p)

    from ohvault.server.run import add_arguments

    s = cmd(
        "serve", cmd_serve, "run the reference sync server (configuration from OHVAULT_SERVER_*)"
    )
    add_arguments(s)


# What the `server` extra brings; a missing one means the extra is not installed.
SERVER_EXTRA_MODULES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "jwt", "psycopg")


def cmd_serve(args: argparse.Namespace) -> int:
    import importlib.util

    missing = [m for m in SERVER_EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise BadInput(
            f"`ohvault serve` needs the 'server' extra ({', '.join(missing)} not installed).",
            hint="Install it with: pip install 'ohvault[server]'",
        )
    try:
        from ohvault.server.run import serve

        return serve(args)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in SERVER_EXTRA_MODULES:
            raise
        raise BadInput(
            f"`ohvault serve` needs the 'server' extra ({top} is not installed).",
            hint="Install it with: pip install 'ohvault[server]'",
        ) from None


def _password(args: argparse.Namespace) -> str:
    return read_secret("Sync account password: ", from_stdin=args.password_stdin)


def _join_recovery_key(args: argparse.Namespace) -> str:
    return read_secret("Recovery key: ", from_stdin=args.join_recovery_key_stdin)


def _need(value: str | None, flag: str) -> str:
    if not value:
        raise BadInput(f"{flag} is required for this action.")
    return value


def cmd_sync(args: argparse.Namespace) -> int:
    from ohvault.cli.commands import open_vault
    from ohvault.sync import SyncClient, SyncProgress
    from ohvault.sync.client import find_conflict

    with open_vault(args) as vault:
        client = SyncClient(vault, verify=args.ca_file or True)
        action = args.action
        out: dict[str, Any]
        if action == "now":

            def show(p: SyncProgress) -> None:
                if not args.json and sys.stderr.isatty():
                    total = f"/{p.total}" if p.total else ""
                    sys.stderr.write(f"\r{p.phase} {p.done}{total}   ")

            report = client.sync(show, snapshot=True if args.snapshot else None)
            out = report.to_json()
            text = (
                f"Synced: pulled {report.pulled_records} records in {report.pulled_bundles} bundles, "
                f"pushed {report.pushed_records} in {report.pushed_bundles}; "
                f"{len(client.conflicts())} open conflicts."
            )
        elif action == "status":
            out = client.status().to_json()
            text = _status_text(out)
        elif action == "enable":
            recovery_key = _join_recovery_key(args) if args.join_recovery_key_stdin else None
            password = _password(args)
            client.enable(
                _need(args.server, "--server"),
                _need(args.user, "--user"),
                password,
                register=args.register,
                device_name=args.device_name,
                recovery_key=recovery_key,
            )
            client.sync()
            out = client.status().to_json()
            text = "Sync is on. Add another device with `ohvault sync pairing-code`."
        elif action == "join":
            password = _password(args)
            recovery_key = None if args.pairing_code else _join_recovery_key(args)
            client.join(
                _need(args.server, "--server"),
                _need(args.user, "--user"),
                password,
                pairing_code=args.pairing_code,
                recovery_key=recovery_key,
                vault_id=args.vault_id,
                device_name=args.device_name,
            )
            client.sync()
            out = client.status().to_json()
            text = "Joined; this device now has the vault's records."
        elif action == "pairing-code":
            code = client.pairing_code()
            out = {"pairing_code": code}
            text = (
                f"Pairing code (works once, for 10 minutes):\n\n    {code}\n\n"
                "On the other device: ohvault sync join --server URL --user NAME --pairing-code CODE"
            )
        elif action == "recovery-join":
            client.store_recovery_slot(_join_recovery_key(args))
            out = {"recovery_join": True}
            text = "Other devices can now join with this vault's recovery key."
        elif action == "conflicts":
            conflicts = client.conflicts()
            versions = [client.conflict_versions(c) for c in conflicts]
            out = {
                "conflicts": [
                    {
                        "id": c.id,
                        "table": c.table,
                        "record_id": c.record_id,
                        "fields": c.fields,
                        "detected_at": c.detected_at,
                        "current": v["current"],
                        "other": v["other"],
                    }
                    for c, v in zip(conflicts, versions, strict=True)
                ]
            }
            text = (
                "\n".join(
                    f"{c.id[:8]}  {c.table:<18} {c.record_id[:8]}\n"
                    + "\n".join(
                        f"    {f}: current {v['current'].get(f)!r}, other {v['other'].get(f)!r}"
                        for f in c.fields
                    )
                    for c, v in zip(conflicts, versions, strict=True)
                )
                or "No open conflicts."
            )
        elif action == "resolve":
            conflict = find_conflict(client, _need(args.conflict_id, "A conflict id"))
            client.resolve(conflict.id, _need(args.keep, "--keep current|other"))
            out = {"resolved": conflict.id, "keep": args.keep}
            text = "Resolved; it goes to your other devices with the next sync."
        elif action == "login":
            client.login(_password(args))
            out = {"logged_in": True}
            text = "Logged in."
        elif action == "logout":
            client.logout()
            out = {"logged_out": True}
            text = "Logged out; sync pauses until you log in again."
        elif action == "change-password":
            current = _password(args)
            new = read_secret(
                "New sync account password: ", from_stdin=args.password_stdin, confirm=True
            )
            client.change_password(current, new)
            out = {"password_changed": True}
            text = "Password changed; your other devices need to log in again."
        elif action == "delete-account":
            client.delete_account(_password(args))
            out = {"account_deleted": True, "enabled": False}
            text = (
                "The sync account and everything the server held for it are deleted; "
                "sync is off here. Your records in this vault are unchanged."
            )
        else:  # disable
            client.disable(delete_remote=args.delete_remote)
            out = {"enabled": False}
            text = "Sync is off for this vault." + (
                " The server's copy was deleted." if args.delete_remote else ""
            )
    if not args.json and sys.stderr.isatty() and action == "now":
        sys.stderr.write("\n")
    if args.json:
        print_json(out)
    else:
        print(text)
    return 0


def _status_text(s: dict[str, Any]) -> str:
    if not s["enabled"]:
        return "Sync is off. Turn it on with: ohvault sync enable --server URL --user NAME"
    lines = [
        f"Sync:      {s['state']}",
        f"Server:    {s['server_url']} (account {s['username']})",
        f"Last sync: {s['last_sync_at'] or 'never'}",
        f"Pending:   {s['pending_changes']} changes; {s['open_conflicts']} open conflicts",
    ]
    if s["last_error"]:
        lines.append(f"Problem:   {s['last_error']}")
    return "\n".join(lines)
