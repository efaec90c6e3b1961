"""A real sync server (uvicorn, subprocess) on 127.0.0.1 for the tests."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TEST_SERVER_ENV = {
    # OWASP's Argon2id minimum; the config refuses anything cheaper.
    "OHVAULT_SERVER_ARGON2_MEMORY_KIB": str(19 * 1024),
    "OHVAULT_SERVER_ARGON2_ITERATIONS": "2",
    # Tests make many accounts and sessions from 127.0.0.1; the limits get their own tests.
    "OHVAULT_SERVER_ALLOW_REGISTRATION": "true",
    "OHVAULT_SERVER_IP_MAX_REGISTRATIONS": "100000",
    "OHVAULT_SERVER_IP_MAX_REFRESHES": "100000",
    "OHVAULT_SERVER_IP_MAX_LOGIN_FAILURES": "100000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProc:
    workdir: Path
    database_url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(TEST_SERVER_ENV)
        env["OHVAULT_SERVER_SECRET"] = self.secret
        env["OHVAULT_SERVER_DATABASE_URL"] = self.database_url
        env.update(self.env_extra)
        return env

    def start(self, timeout: float = 20.0) -> ServerProc:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ohvault.server", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=log,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not become ready: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, like a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
