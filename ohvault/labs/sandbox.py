"""Reading an untrusted PDF in a child process with time and memory limits.

A lab report comes from outside, and the PDF libraries underneath (pdfminer, pdfium,
Tesseract) were not written to resist a hostile file: a few hundred bytes whose stream
``/Length`` is an indirect reference that points back at itself hang pdfminer forever, and a
one-megabyte decompression bomb takes gigabytes. So :func:`parse_pdf_isolated` runs
:func:`ohvault.labs.parser.parse_pdf` in a fresh interpreter (a new ``python -c`` process, not
a fork: the child inherits no vault key, no open database, no Qt and no file descriptors), under
``RLIMIT_AS`` and ``RLIMIT_CPU``, without core dumps, in its own process group, and kills the
group when it stalls, runs too long, or when the caller cancels (Cancel, or the vault locking).
The file goes in on stdin; the result comes back on stdout as JSON lines that are rebuilt into
the parser's dataclasses field by field: never a pickle, so even a child taken over by a
malicious file cannot make the parent run code.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import json
import logging
import os
import pickle
import selectors
import signal
import subprocess
import sys
import threading
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ohvault.labs import errors as lab_errors
from ohvault.labs.errors import LabParseError, NotAPdf, ParseCancelled, ReportTooLarge

if TYPE_CHECKING:
    from ohvault.labs.catalog import Catalog
    from ohvault.labs.parser import ParsedReport

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MAX_FILE_BYTES = 50 * MIB  # lab reports are a few hundred kilobytes; scans a few megabytes
_POLL_S = 0.05
CHILD_FLAG = "--ohvault-pdf-reader"  # argv of the frozen app when it runs as the child
_MAX_MESSAGE = 64 * MIB  # a report's JSON is kilobytes; anything near this is not ours


class PdfUnsafe(LabParseError):
    """The child reading the PDF ran out of time or memory, or died: the file is not read."""


class PdfFileTooLarge(ReportTooLarge):
    """The file is larger than the size limit; it is not opened at all."""


@dataclass(frozen=True)
class SandboxLimits:
    """How much a PDF may cost before it is given up as unreadable.

    `stall_seconds` is the longest wait for the next page (the clock restarts at every page
    read), `total_seconds` the longest whole read; `memory_bytes` caps the child's address
    space (RLIMIT_AS), which is what a decompression bomb exhausts.
    """

    stall_seconds: float = 60.0
    total_seconds: float = 900.0
    memory_bytes: int = 1024 * MIB
    max_file_bytes: int = MAX_FILE_BYTES


DEFAULT_LIMITS = SandboxLimits()
UNSAFE_HINT = (
    "It may be damaged or deliberately malformed. Ask the laboratory for a new copy, or print "
    "it to a new PDF and import that."
)


def parse_pdf_isolated(
    source: Path | bytes,
    *,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    max_pages: int = 1000,
    catalog: Catalog | None = None,
    ocr: bool = False,
    limits: SandboxLimits | None = None,
) -> ParsedReport:
    """:func:`ohvault.labs.parser.parse_pdf` in a limited child process; same arguments and result.

    Raises the parser's own :class:`LabParseError` subclasses, :class:`PdfUnsafe` when the
    child exceeds a limit or dies, :class:`PdfFileTooLarge` for a file over the size limit and
    :class:`ParseCancelled` when `should_cancel()` turns true (the child is killed at once).
    `limits` defaults to :data:`DEFAULT_LIMITS` (read at call time).
    """
    limits = limits or DEFAULT_LIMITS
    data = _read_limited(source, limits.max_file_bytes)
    header = {
        "password": password,
        "max_pages": max_pages,
        "ocr": ocr,
        # Parent to child only: the child trusts its parent, never the other way round.
        "catalog": base64.b64encode(pickle.dumps(catalog)).decode() if catalog else None,
        "memory_bytes": limits.memory_bytes,
        "cpu_seconds": limits.total_seconds,
        "size": len(data),
    }
    child = subprocess.Popen(
        _child_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: Tesseract dies with it
        close_fds=True,
        env=_child_environment(),
    )
    assert child.stdin is not None and child.stdout is not None
    feeder = threading.Thread(
        target=_feed, args=(child.stdin, json.dumps(header).encode() + b"\n" + data), daemon=True
    )
    feeder.start()
    try:
        return _supervise(child, child.stdout, progress, should_cancel, limits)
    finally:
        _kill(child)
        child.stdout.close()
        feeder.join(5)


# What the child may see of the environment: enough to find Python, the catalog and Tesseract;
# not the session bus address (the keychain), tokens or anything else the app was given.
_ENV_KEPT = (
    "PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "HOME", "TMPDIR", "TEMP", "TMP", "LANG",
    "LC_ALL", "LC_CTYPE", "OHVAULT_RESOURCES", "TESSDATA_PREFIX", "OMP_THREAD_LIMIT",
    "SYSTEMROOT", "LD_LIBRARY_PATH",
)  # fmt: skip


def _child_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in _ENV_KEPT}


def _child_command() -> list[str]:
    if getattr(sys, "frozen", False):  # the frozen app's launcher knows this flag
        return [sys.executable, CHILD_FLAG]
    return [sys.executable, "-c", "from ohvault.labs.sandbox import child_main; child_main()"]


def _feed(pipe: IO[bytes], payload: bytes) -> None:
    with contextlib.suppress(OSError):  # the child died or was killed: reported by the reader
        pipe.write(payload)
    with contextlib.suppress(OSError):
        pipe.close()


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            child.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(5)


def _read_limited(source: Path | bytes, limit: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = "The file"
    else:
        path = Path(source)
        name = path.name
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # reading it below reports a missing or unreadable file
        if size > limit:
            raise _too_large(name, size, limit)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotAPdf(f"{path} does not exist.") from exc
        except IsADirectoryError as exc:
            raise NotAPdf(f"{path} is a folder, not a PDF file.") from exc
        except OSError as exc:
            raise NotAPdf(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise _too_large(name, len(data), limit)
    return data


def _too_large(name: str, size: int, limit: int) -> PdfFileTooLarge:
    return PdfFileTooLarge(
        f"{name} is {size / MIB:.1f} MB; ohvault reads PDFs of at most {limit / MIB:.0f} MB "
        "(lab reports are far smaller). Check that this is the right file."
    )


def _supervise(
    child: subprocess.Popen[bytes],
    stdout: IO[bytes],
    progress: Callable[[int, int], None] | None,
    should_cancel: Callable[[], bool] | None,
    limits: SandboxLimits,
) -> ParsedReport:
    started = time.monotonic()
    last_news = started
    fd = stdout.fileno()
    os.set_blocking(fd, False)
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            if should_cancel is not None and should_cancel():
                _kill(child)
                raise ParseCancelled("Reading the lab report was cancelled.")
            now = time.monotonic()
            if now - last_news > limits.stall_seconds or now - started > limits.total_seconds:
                _kill(child)
                log.warning("PDF reader stopped after %.0f s", now - started)
                raise PdfUnsafe(
                    "This PDF could not be read safely: reading it took too long "
                    f"(stopped after {now - started:.0f} seconds). {UNSAFE_HINT}"
                )
            if not selector.select(_POLL_S):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # end of output: the child exited without a result
                child.wait(5)
                raise _died(child.returncode)
            buffer += chunk
            if len(buffer) > _MAX_MESSAGE:
                raise _misbehaved()
            while b"\n" in buffer:
                line, _, rest = bytes(buffer).partition(b"\n")
                buffer = bytearray(rest)
                message = _decode(line)
                kind = message.get("kind")
                if kind == "progress":
                    last_news = time.monotonic()
                    if progress is not None:
                        progress(_int(message.get("done")), _int(message.get("total")))
                elif kind == "report":
                    return report_from_data(message.get("report"))
                elif kind == "error":
                    raise _error_from_data(message)
                else:
                    raise _misbehaved()


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _misbehaved()
    return value


def _misbehaved() -> PdfUnsafe:
    return PdfUnsafe(f"This PDF could not be read safely: the reader misbehaved. {UNSAFE_HINT}")


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise _misbehaved()
    return message


def _died(returncode: int | None) -> PdfUnsafe:
    # RLIMIT_AS shows as MemoryError (reported by the child) or as an abort inside C code;
    # RLIMIT_CPU as SIGXCPU. Either way the file, not the user, is at fault.
    log.warning("PDF reader exited with %s", returncode)
    return PdfUnsafe(
        "This PDF could not be read safely: reading it needed more memory or time than a lab "
        f"report ever does, so it was stopped. {UNSAFE_HINT}"
    )


def _error_from_data(message: dict[str, Any]) -> LabParseError:
    if message.get("unsafe"):
        return PdfUnsafe(
            "This PDF could not be read safely: reading it needed more memory than a lab report "
            f"ever does, so it was stopped. {UNSAFE_HINT}"
        )
    text = message.get("message")
    cls = getattr(lab_errors, str(message.get("error")), None)
    if not isinstance(text, str) or not (isinstance(cls, type) and issubclass(cls, LabParseError)):
        return _misbehaved()
    return cls(text[:2000])


# ============================================================================ the child
def child_main() -> None:
    """The child's entry point: read the request on stdin, answer in JSON lines on stdout."""
    # Our answers get a private copy of stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    header = json.loads(sys.stdin.buffer.readline())
    _limit_self(int(header["memory_bytes"]), float(header["cpu_seconds"]))
    data = sys.stdin.buffer.read(int(header["size"]))

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message).encode("utf-8") + b"\n")

    try:
        from ohvault.labs.parser import parse_pdf

        logging.getLogger("pdfminer").setLevel(logging.ERROR)
        # The catalog comes from the parent, which the child trusts (never the reverse).
        blob = header["catalog"]
        catalog = pickle.loads(base64.b64decode(blob)) if blob else None  # noqa: S301
        report = parse_pdf(
            data,
            password=header["password"],
            max_pages=int(header["max_pages"]),
            ocr=bool(header["ocr"]),
            catalog=catalog,
            progress=lambda done, total: send({"kind": "progress", "done": done, "total": total}),
        )
        send({"kind": "report", "report": report_to_data(report)})
    except LabParseError as exc:
        message = {"kind": "error", "error": type(exc).__name__, "message": exc.message}
        send({**message, "unsafe": _caused_by_memory(exc)})
    except (MemoryError, RecursionError):
        send({"kind": "error", "unsafe": True})


def _limit_self(memory_bytes: int, cpu_seconds: float) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall clock still bounds the child
        return
    for which, value in (
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_CPU, int(cpu_seconds) + 1),  # a backstop should the parent die
    ):
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard if which == resource.RLIMIT_CPU else value))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the parent
            libc.prctl(4, 0)  # PR_SET_DUMPABLE 0: no core, no ptrace by other users
    with contextlib.suppress(OSError):
        os.nice(5)  # a long read must not make the app's own window sluggish


def _caused_by_memory(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError | RecursionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# ============================================================================ plain data
# Only dataclasses of the lab parser are rebuilt from the child's data (nothing else is called).
def _is_report_type(hint: Any) -> bool:
    return (
        isinstance(hint, type)
        and dataclasses.is_dataclass(hint)
        and hint.__module__.startswith("ohvault.labs.")
    )


def report_to_data(report: ParsedReport) -> dict[str, Any]:
    """A ParsedReport as JSON-safe data (every field, unlike the shorter `to_json`)."""
    return dict(_to_data(report))


def _to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return _to_data(value.value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_data(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot send {type(value).__name__} from the PDF reader")


def report_from_data(data: Any) -> ParsedReport:
    """Rebuild a ParsedReport from `report_to_data`, checking every field against its type."""
    from ohvault.labs.parser import ParsedReport

    try:
        report: ParsedReport = _from_data(data, ParsedReport)
    except (TypeError, ValueError, KeyError) as exc:
        raise PdfUnsafe(
            f"This PDF could not be read safely: the reader sent back a malformed result "
            f"({type(exc).__name__}). {UNSAFE_HINT}"
        ) from None
    return report


def _from_data(data: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            with contextlib.suppress(TypeError, ValueError):
                return _from_data(data, option)
        raise TypeError(f"no type of {hint} fits")
    if origin is list:
        if not isinstance(data, list):
            raise TypeError("expected a list")
        return [_from_data(v, args[0]) for v in data]
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError("expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_data(v, args[0]) for v in data)
        if len(args) != len(data):
            raise ValueError("wrong tuple length")
        return tuple(_from_data(v, a) for v, a in zip(data, args, strict=True))
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError("expected an object")
        return {_from_data(k, args[0]): _from_data(v, args[1]) for k, v in data.items()}
    if origin is typing.Literal:
        if data not in args:
            raise ValueError("not one of the allowed values")
        return data
    if _is_report_type(hint):
        if not isinstance(data, dict):
            raise TypeError("expected an object")
        hints = typing.get_type_hints(hint)
        names = {f.name for f in dataclasses.fields(hint)}
        if not set(data) <= names:
            raise ValueError("unknown field")
        return hint(**{k: _from_data(v, hints[k]) for k, v in data.items()})
    if hint in (date, datetime):
        if not isinstance(data, str):
            raise TypeError("expected a date")
        return hint.fromisoformat(data)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError("expected a number")
        return float(data)
    if hint in (str, int, bool):
        if type(data) is not hint:
            raise TypeError(f"expected {hint.__name__}")
        return data
    if hint is Any:
        return _to_data(data)
    raise TypeError(f"unexpected field type {hint}")
