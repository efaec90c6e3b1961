"""The C2SP CCTV age test vectors (age_vectors/, public domain) through our age reader.

Each vector passes (decrypts exactly when it should, to the right payload, and fails
with the right kind of error) or is listed in UNSUPPORTED with the reason.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from ohvault.bundles import age
from ohvault.bundles.age_format import BadBundle
from ohvault.errors import WrongKey

VECTORS = Path(__file__).parent / "age_vectors"

# Post-quantum hybrid recipients (mlkem768x25519) are not supported by pyrage or by our
# scrypt reader; a vault's identity is an X25519 key, so no bundle of ours uses them.
UNSUPPORTED_REASON = "ML-KEM-768 + X25519 hybrid identities are not supported"


@dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    payload_sha256: str | None
    identities: tuple[str, ...]
    passphrase: str | None
    armored: bool
    body: bytes


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(
        name=path.name,
        expect=fields["expect"][0],
        payload_sha256=fields.get("payload", [None])[0],
        identities=tuple(fields.get("identity", [])),
        passphrase=fields.get("passphrase", [None])[0],
        armored=fields.get("armored") == ["yes"],
        body=body,
    )


ALL = sorted(p for p in VECTORS.iterdir() if p.name != "README.md")


def unsupported(vector: Vector) -> str | None:
    if any(i.startswith("AGE-SECRET-KEY-PQ-") for i in vector.identities):
        return UNSUPPORTED_REASON
    return None


def test_every_vector_is_here() -> None:
    assert len(ALL) == 143


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_vector(path: Path) -> None:
    vector = load(path)
    reason = unsupported(vector)
    if reason is not None:
        # Unsupported, but never accepted: decrypting with what we have must fail.
        with pytest.raises((WrongKey, BadBundle)):
            age.decrypt(io.BytesIO(vector.body), io.BytesIO(), identities=[])
        return
    out = io.BytesIO()
    decrypting = lambda: age.decrypt(  # noqa: E731
        io.BytesIO(vector.body),
        out,
        identities=vector.identities,
        passphrase=vector.passphrase,
    )
    if vector.expect == "success":
        decrypting()
        assert hashlib.sha256(out.getvalue()).hexdigest() == vector.payload_sha256
    elif vector.expect == "no match":
        with pytest.raises(WrongKey):
            decrypting()
    else:  # header, HMAC, payload and armor failures: a damaged or forged file
        with pytest.raises(BadBundle):
            decrypting()


def test_unsupported_vectors_are_only_the_hybrid_ones() -> None:
    listed = [p.name for p in ALL if unsupported(load(p))]
    assert listed and all("hybrid" in name for name in listed)
