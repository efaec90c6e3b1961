"""Hostile PDFs built byte by byte: reference loops, page-tree loops, decompression bombs.

They reproduce what a red-team pass found (issue 13): a few hundred bytes whose stream
``/Length`` is an indirect reference that points back at itself hangs pdfminer forever, and a
FlateDecode stream of zeros a thousand times its compressed size takes gigabytes to read.
All synthetic; used by tests/hardening/test_sandbox.py and the fuzz seed corpus.
"""

from __future__ import annotations

import zlib


def _assemble(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF with a correct cross-reference table, so a reader takes the objects at face value."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\n" % (len(objects) + 1, root)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" >>\nstream\n" + data + b"\nendstream"


def length_reference_loop() -> bytes:
    """The page's content stream has ``/Length 5 0 R``; object 5 is ``6 0 R`` and 6 is ``5 0 R``."""
    content = b"BT /F1 12 Tf 72 720 Td (Glucose 5.4 mmol/L) Tj ET"
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
            b" >> >> >> >>",
            _stream(b"/Length 5 0 R", content),
            b"6 0 R",
            b"5 0 R",
        ]
    )


def self_reference() -> bytes:
    """The page tree's ``/Kids`` names an object that is nothing but a reference to itself."""
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids 3 0 R /Count 1 >>",
            b"3 0 R",
        ]
    )


def page_tree_loop() -> bytes:
    """A /Pages node whose kids include its own parent: walking the tree never ends naively."""
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        ]
    )


def decompression_bomb(expanded_mib: int = 1024) -> bytes:
    """One page whose content stream inflates to `expanded_mib` MiB of spaces (about 1000:1)."""
    chunk = b" " * (1 << 20)
    compressor = zlib.compressobj(9)
    packed = b"".join(compressor.compress(chunk) for _ in range(expanded_mib))
    packed += compressor.flush()
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            _stream(b"/Length %d /Filter /FlateDecode" % len(packed), packed),
        ]
    )
