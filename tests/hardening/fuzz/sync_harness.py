"""A synced vault and a scripted HTTP server on 127.0.0.1 for fuzzing the sync client.

The fuzz input is a script of server responses: chunks separated by ``SEP``; in each
chunk the first byte picks the HTTP status and the rest is the response body. The
client then runs one real ``sync()`` over real HTTP against that script. The vault's
sync secret and id are fixed so that the seed corpus can hold properly sealed bundles
and the fuzzer gets past the AEAD check into the merge code. Every run happens inside
one transaction that is rolled back, so runs do not depend on each other.
"""

from __future__ import annotations

import atexit
import base64
import shutil
import tempfile
import threading
from collections import deque
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ohvault.keys.wrap import KdfParams
from ohvault.sync.client import SyncClient
from ohvault.sync.crypto import SyncKeys
from ohvault.sync.transport import Session
from ohvault.vault import Vault

SEP = b"\n\x00--\x00\n"
STATUSES = (200, 201, 204, 400, 401, 404, 409, 410, 429, 500, 503, 507)
SECRET = bytes(range(32))
VAULT_ID = "00000000-0000-4000-8000-00000000f022"
# Fuzzing only: the vault is a throwaway; a cheap KDF keeps start-up fast.
_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, parallelism=1)


def script(*responses: tuple[int, bytes]) -> bytes:
    """Encode (status, body) pairs as a fuzz input (for seeds and regression tests)."""
    return SEP.join(bytes([STATUSES.index(s)]) + body for s, body in responses)


def sealed_changes(bundle_id: str, entries: list[Any], *, base_seq: int = 0) -> str:
    doc = {"v": 1, "kind": "changes", "id": bundle_id, "schema": 4, "base_seq": base_seq,
           "entries": entries}  # fmt: skip
    sealed = SyncKeys(SECRET, VAULT_ID).seal("bundle", bundle_id, doc, bind=f"seq={base_seq + 1}")
    return base64.b64encode(sealed).decode()


class _Rollback(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses: deque[tuple[int, bytes]] = deque()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        status, body = self.server.responses.popleft() if self.server.responses else (503, b"")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SyncHarness:
    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="ohvault-fuzz-sync-"))
        atexit.register(shutil.rmtree, self._dir, True)
        self.vault, _ = Vault.create(
            self._dir / "vault", passphrase="fuzz passphrase 1", profile_name="Fuzz Person",
            kdf=_KDF,
        )  # fmt: skip
        self.server = _Server()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        self.client = SyncClient(self.vault, max_attempts=2, sleep=lambda _s: None)
        self.client.store.enable(SECRET, node="f022f022f022")
        self.client._save_settings(
            f"http://{host!s}:{port}", "fuzz", Session("access", "refresh", "device"), VAULT_ID
        )

    def run(self, data: bytes) -> None:
        responses: deque[tuple[int, bytes]] = deque()
        for chunk in data.split(SEP):
            if chunk:
                responses.append((STATUSES[chunk[0] % len(STATUSES)], chunk[1:]))
        self.server.responses = responses
        try:
            with self.vault.db.transaction():
                self.client.sync(snapshot=False)
                raise _Rollback
        except _Rollback:
            pass


@cache
def harness() -> SyncHarness:
    return SyncHarness()
