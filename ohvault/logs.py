"""Logging to the platform log dir, with a redaction layer.

Code must not log PHI in the first place; this is the safety net. The filter
replaces, in every message and argument: strings registered as sensitive at
run time (profile names, birth dates, free text the vault has seen), dates,
decimal numbers and e-mail addresses. `OHVAULT_LOG_JSON=1` writes JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import re
import threading
import traceback
from pathlib import Path

from ohvault import paths

REDACTED = "[redacted]"
_PATTERNS = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
    re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"),  # printed dates
    re.compile(r"\b\d+[.,]\d+\b"),  # decimal values
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # e-mail addresses
]
_sensitive: set[str] = set()
_sensitive_lock = threading.Lock()


def register_sensitive(*texts: str | None) -> None:
    """Strings to strike from every log line from now on (names, notes, ...)."""
    with _sensitive_lock:
        for text in texts:
            if text and len(text.strip()) >= 3:
                _sensitive.add(text.strip())


def redact(text: str) -> str:
    with _sensitive_lock:
        sensitive = sorted(_sensitive, key=len, reverse=True)
    for item in sensitive:
        text = text.replace(item, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text and source lines may quote data: keep the type, a redacted
            # message and where it happened (file, line, function), which is what a fix needs.
            exc = record.exc_info[1]
            frames = traceback.extract_tb(record.exc_info[2])[-8:]
            where = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames)
            )
            record.msg += f" [{type(exc).__name__}: {redact(str(exc))}] at {where}"
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600, the first one and every one after a rollover.

    RotatingFileHandler reopens the base file with the process umask (often 0644) after
    it rolls over; the log may hold redacted but still personal context.
    """

    def _open(self):  # type: ignore[no-untyped-def]  # typeshed: returns a text stream
        def opener(path: str, flags: int) -> int:
            return os.open(path, flags, 0o600)

        stream = open(  # noqa: SIM115 - the handler owns and closes the stream
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=opener
        )
        # An existing file keeps its mode on open: make sure it is private too.
        os.fchmod(stream.fileno(), 0o600)
        return stream


_configured = False


def setup_logging(level: str | None = None, *, directory: Path | None = None) -> Path:
    """Log to `<log dir>/ohvault.log` (rotating, 0600); returns the file's path."""
    global _configured
    directory = paths.ensure_private_dir(directory or paths.log_dir())
    log_file = directory / "ohvault.log"
    root = logging.getLogger("ohvault")
    if _configured:
        return log_file
    handler = PrivateRotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=3)
    for older in directory.glob("ohvault.log.*"):  # rolled over by a version that left them 0644
        with contextlib.suppress(OSError):
            older.chmod(0o600)
    handler.addFilter(RedactingFilter())
    if os.environ.get("OHVAULT_LOG_JSON") == "1":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("OHVAULT_LOG_LEVEL", "INFO"))
    root.propagate = False
    _configured = True
    return log_file
