"""Argument parsing and dispatch for `ohvault`.

Exit codes (stable, see docs/cli.md): 0 ok, 1 internal error, 2 bad input,
3 locked / wrong key, 4 not found, 5 a check failed, 6 conflict,
7 busy (the vault is open in another ohvault process).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from ohvault import __version__
from ohvault.errors import ExitCode, OhvaultError

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


def _add_unlock_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("unlocking (keychain first, then these)")
    g.add_argument("--passphrase-stdin", action="store_true", help="read the passphrase from stdin")
    g.add_argument(
        "--recovery-key-stdin", action="store_true", help="read the recovery key from stdin"
    )
    g.add_argument("--no-keychain", action="store_true", help="do not use the OS keychain")


def _add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME", help="profile name or id (default: the first)")


def _add_data_options(p: argparse.ArgumentParser, *, patient: bool = False) -> None:
    _add_unlock_options(p)
    _add_profile_option(p)
    if patient:
        p.add_argument("--patient", metavar="ID", help="clinician vault: the patient to read")


def build_parser() -> argparse.ArgumentParser:
    from ohvault.cli import commands as c

    parser = argparse.ArgumentParser(
        prog="ohvault",
        description="A local-first, encrypted personal health vault. "
        "Run without arguments to open the desktop app.",
        epilog="The vault lives in the platform data dir; set OHVAULT_HOME to use another.",
    )
    parser.add_argument("--version", action="version", version=f"ohvault {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, handler: Handler, help_: str, **kw: object) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, **kw)  # type: ignore[arg-type]
        p.set_defaults(handler=handler)
        return p

    p = cmd("init", c.cmd_init, "create a vault and print its recovery key once")
    p.add_argument("--profile", metavar="NAME", help="create a first profile with this name")
    p.add_argument(
        "--passphrase-stdin", action="store_true", help="also set a passphrase, read from stdin"
    )
    p.add_argument("--clinician", action="store_true", help="create a clinician vault")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = cmd(
        "status", c.cmd_status, "where the vault is, whether it unlocks, what it holds (no PHI)"
    )
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd(
        "profiles",
        c.cmd_profiles,
        "list, add, edit or delete profiles (people whose records you keep)",
    )
    p.add_argument("action", choices=["list", "add", "edit", "delete"])
    p.add_argument(
        "name", nargs="?", help="with add: the new profile's name; with edit/delete: name or id"
    )
    p.add_argument("--birth-date", metavar="YYYY-MM-DD", help="with edit: none clears it")
    p.add_argument("--sex", choices=["female", "male", "other", "unknown", "none"])
    p.add_argument("--new-name", metavar="NAME", help="with edit: rename the profile")
    p.add_argument(
        "--confirm", metavar="NAME", help="with delete: the profile's name, typed to confirm"
    )
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd("observations", c.cmd_observations, "add, list or delete measurements and lab results")
    p.add_argument("action", choices=["add", "list", "delete"])
    p.add_argument("id", nargs="?", help="with delete: the observation id")
    p.add_argument("--analyte", metavar="NAME", help="analyte name or LOINC code")
    p.add_argument("--value", metavar="V", help="a number, or text such as <0.5 or Negative")
    p.add_argument("--unit", metavar="U")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when it was measured (default: today)")
    p.add_argument("--note", metavar="TEXT")
    p.add_argument("--since", metavar="YYYY-MM-DD")
    p.add_argument("--until", metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    _add_data_options(p, patient=True)

    from ohvault.cli import records_commands

    records_commands.register(cmd, _add_data_options)

    p = cmd("notes", c.cmd_notes, "add or list free-text notes")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("text", nargs="?")
    p.add_argument("--json", action="store_true")
    _add_data_options(p, patient=True)

    p = cmd("documents", c.cmd_documents, "attach or list documents (PDFs and images)")
    p.add_argument("action", choices=["add", "list"])
    p.add_argument("file", nargs="?", help="with add: the PDF or image to attach")
    p.add_argument("--title", metavar="TEXT", help="default: the file name")
    p.add_argument(
        "--kind",
        choices=["letter", "imaging", "discharge-summary", "lab-report", "prescription", "other"],
        default="other",
    )
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when the document was written")
    p.add_argument("--json", action="store_true")
    _add_data_options(p, patient=True)

    p = cmd("backup", c.cmd_backup, "write an encrypted backup of the whole vault")
    p.add_argument("path", nargs="?", help="file or directory (default: the vault's backups/)")
    p.add_argument(
        "--every-hours", type=float, metavar="N", help="automatic backups every N hours (0: off)"
    )
    p.add_argument("--keep", type=int, metavar="N", help="automatic backups to keep")
    p.add_argument("--dir", metavar="DIR", help="where automatic backups go")
    p.add_argument(
        "--list", action="store_true", help="list the backups in the vault's backup folder"
    )
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd("restore", c.cmd_restore, "replace the vault with a verified backup")
    p.add_argument("path", help="an .ohvbackup file")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    p.add_argument(
        "--other-vault",
        action="store_true",
        help="allow replacing this vault with a backup of another vault",
    )
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd("audit", c.cmd_audit, "list the audit log or verify its hash chain")
    p.add_argument("action", choices=["list", "verify"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--action-filter", metavar="ACTION", dest="action_filter")
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd(
        "doctor", c.cmd_doctor, "check keychain, database integrity, schema, audit chain, backups"
    )
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd(
        "key", c.cmd_key, "change the passphrase, issue a new recovery key, or rotate the data key"
    )
    p.add_argument("action", choices=["change-passphrase", "new-recovery-key", "rotate"])
    p.add_argument(
        "--new-passphrase-stdin", action="store_true", help="read the new passphrase from stdin"
    )
    p.add_argument("--remove", action="store_true", help="with change-passphrase: remove it")
    p.add_argument("--json", action="store_true")
    _add_unlock_options(p)

    p = cmd(
        "delete-vault", c.cmd_delete_vault, "delete the vault, its header and its keychain entry"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--with-backups", action="store_true", help="delete the backups folder too")

    c.register_extensions(cmd)
    return parser


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# Since Qt 6.5 the X11 (xcb) platform plugin needs these libraries; without them Qt aborts
# with "could not load the Qt platform plugin". Debian/Ubuntu package names alongside.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-image": "libxcb-image0",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-randr": "libxcb-randr0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}


def missing_xcb_packages() -> list[str]:
    """Debian packages Qt's X11 plugin needs and this machine lacks (empty when not on X11)."""
    if sys.platform != "linux" or os.environ.get("WAYLAND_DISPLAY"):
        return []
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return []
    import ctypes.util

    return [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]


def run_gui() -> int:
    if not _has_display():
        sys.stderr.write(
            "ohvault: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
            "Run it in a desktop session, or offscreen with QT_QPA_PLATFORM=offscreen "
            "(or under a virtual screen: xvfb-run ohvault).\n"
            "The command line works without a display: ohvault --help\n"
        )
        return int(ExitCode.BAD_INPUT)
    # Finding the libraries runs ldconfig once for each (about 10 ms apiece): the search runs
    # beside loading Qt's modules, which needs no display. Qt loads its X11 plugin, the part
    # that needs them, only when gui_main creates the app, after the answer is in.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xcb-check") as pool:
        search = pool.submit(missing_xcb_packages)
        try:
            from ohvault.gui.app import load_qt

            load_qt()
        except ImportError:
            if not search.result():  # not for want of these libraries: the real error
                raise
        missing = search.result()
    if missing:
        sys.stderr.write(
            "ohvault: the desktop app needs system libraries that Qt's X11 support uses:\n"
            f"  sudo apt-get install {' '.join(missing)}\n"
            "(package names for Debian and Ubuntu; other systems name them similarly).\n"
            "The command line works without them: ohvault --help\n"
        )
        return int(ExitCode.BAD_INPUT)
    from ohvault.gui.app import main as gui_main

    return int(gui_main())


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    from ohvault.keys.process import disable_core_dumps
    from ohvault.logs import setup_logging

    disable_core_dumps()  # before any key is in memory: the CLI and the app alike

    with contextlib.suppress(OSError):  # a read-only log dir must not stop the CLI
        setup_logging()
    if not args_list:
        return run_gui()
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "handler", None):
        parser.print_help()
        return int(ExitCode.BAD_INPUT)
    try:
        return int(args.handler(args))
    except OhvaultError as exc:
        sys.stderr.write(f"ohvault: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"{exc.hint}\n")
        log.info("command %s failed: %s", args.command, type(exc).__name__)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("ohvault: interrupted\n")
        return 130
    except Exception:
        log.exception("internal error in command %s", args.command)
        sys.stderr.write(
            "ohvault: internal error. Nothing was half-written; details are in the log "
            "(ohvault doctor shows where).\n"
        )
        return int(ExitCode.INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
