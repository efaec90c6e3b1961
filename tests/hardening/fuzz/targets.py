"""Fuzz targets: one function per untrusted input, shared by atheris and the test suite.

Each target feeds arbitrary bytes to one parser and lets only the parser's documented
"bad input" errors through silently. Anything else (KeyError, ValueError, RecursionError,
a hang...) is a crash: the fuzzer records the input, and the input becomes a file under
``regressions/<target>/`` that ``tests/hardening/test_fuzz.py`` replays on every run.

Targets:
- ``pdf``: ``ohvault.labs.parse_pdf`` (bytes of a lab report PDF) -> only ``LabParseError``
  (or an ``OhvaultError``).
- ``pdf_sandboxed``: ``ohvault.labs.sandbox.parse_pdf_isolated``, which the app and the CLI
  call: the same parser in a child process under time and memory limits -> only
  ``LabParseError`` (``PdfUnsafe`` for loops and bombs). Its seeds are the hostile files that
  hang or exhaust the in-process parser (reference loops, decompression bombs), so it is replayed
  by the test suite only: atheris cannot see coverage inside the child.
- ``header``: ``VaultHeader.from_bytes`` (the vault's header file) -> only ``OhvaultError``.
- ``bundle``: the bundle reader's layers, chosen by the first byte: the age header and
  passphrase path, the ustar container, the signed manifest, the FHIR content ->
  only ``OhvaultError`` (BadBundle, WrongKey, FhirInvalid...).
- ``sync``: the sync client's handling of server responses; the input is a script of
  HTTP responses served by a real HTTP server on 127.0.0.1 -> only ``OhvaultError``.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable

from ohvault.errors import OhvaultError

# One fixed passphrase for the age scrypt path: the fuzzer explores the header, not the secret.
BUNDLE_PASSPHRASE = "fuzz passphrase"


def fuzz_pdf(data: bytes) -> None:
    from ohvault.labs import LabParseError, parse_pdf

    with contextlib.suppress(LabParseError, OhvaultError):
        parse_pdf(data)


# Tight enough that replaying the hostile seeds takes seconds, loose enough for a real report.
SANDBOX_LIMITS_MIB = 384
SANDBOX_STALL_SECONDS = 3.0


def fuzz_pdf_sandboxed(data: bytes) -> None:
    from ohvault.labs import LabParseError
    from ohvault.labs.sandbox import MIB, SandboxLimits, parse_pdf_isolated

    limits = SandboxLimits(
        stall_seconds=SANDBOX_STALL_SECONDS,
        total_seconds=60,
        memory_bytes=SANDBOX_LIMITS_MIB * MIB,
    )
    with contextlib.suppress(LabParseError, OhvaultError):
        parse_pdf_isolated(data, limits=limits)


def fuzz_header(data: bytes) -> None:
    from ohvault.keys.header import VaultHeader

    try:
        header = VaultHeader.from_bytes(data)
    except OhvaultError:  # VaultCorrupt mostly; BadInput for an unknown KDF
        return
    # What opening a vault does next with a header that parsed.
    header.body()
    header.to_bytes()


class _Collect:
    def __init__(self, entries: dict[str, bytearray], name: str) -> None:
        self._buf = entries.setdefault(name, bytearray())

    def feed(self, data: bytes) -> None:
        self._buf += data

    def finish(self) -> None:
        pass


def _bundle_layer(data: bytes) -> None:
    from ohvault.bundles import age
    from ohvault.bundles.container import TarSink
    from ohvault.bundles.manifest import Manifest
    from ohvault.fhir.mapping import from_bundle
    from ohvault.fhir.validate import validate_bundle
    from ohvault.model import Provenance

    mode, body = (data[0] % 4, data[1:]) if data else (0, b"")
    if mode == 0:  # the age layer, as import_bundle reads a passphrase bundle
        age.recipient_kind(body[:256])
        age.decrypt_passphrase(io.BytesIO(body), io.BytesIO(), BUNDLE_PASSPHRASE)
    elif mode == 1:  # the ustar container inside the encryption, then its manifest
        entries: dict[str, bytearray] = {}
        sink = TarSink(lambda name, _size: _Collect(entries, name))
        for i in range(0, len(body), 700):  # age hands plaintext over in chunks
            sink.write(body[i : i + 700])
        sink.close()
        if "manifest.json" in entries:
            Manifest.from_bytes(bytes(entries["manifest.json"]))
    elif mode == 2:
        Manifest.from_bytes(body)
    else:  # the FHIR content, as _Import._on_fhir reads it
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return  # the importer turns these into BadBundle itself
        validate_bundle(parsed)
        from_bundle(parsed, keep_ids=True, provenance=Provenance.BUNDLE)


def fuzz_bundle(data: bytes) -> None:
    with contextlib.suppress(OhvaultError):
        _bundle_layer(data)


def fuzz_sync(data: bytes) -> None:
    from tests.hardening.fuzz.sync_harness import harness

    with contextlib.suppress(OhvaultError):
        harness().run(data)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "pdf": fuzz_pdf,
    "pdf_sandboxed": fuzz_pdf_sandboxed,
    "header": fuzz_header,
    "bundle": fuzz_bundle,
    "sync": fuzz_sync,
}


def warm_up(target: str) -> None:
    """Import what a target uses (inside atheris' instrumentation) and build its fixtures."""
    import ohvault.bundles.age
    import ohvault.bundles.container
    import ohvault.bundles.manifest
    import ohvault.fhir.mapping
    import ohvault.fhir.validate
    import ohvault.keys.header
    import ohvault.labs
    import ohvault.sync.client  # noqa: F401

    if target == "pdf":
        from ohvault.labs import load_catalog

        load_catalog()
    if target == "sync":
        from tests.hardening.fuzz.sync_harness import harness

        harness()
