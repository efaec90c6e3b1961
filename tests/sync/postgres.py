"""A throwaway PostgreSQL cluster (Debian's `postgresql` package) for server tests.

As root the cluster runs as the `postgres` user (PostgreSQL refuses root). Under
CI=true a missing or failing PostgreSQL fails the tests instead of skipping them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sync.server_proc import free_port


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason} (run `make system-deps`)")
    pytest.skip(f"PostgreSQL not available: {reason}")


class PostgresCluster:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            _unavailable("initdb not found")
        assert bindir is not None
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ohv-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o700)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> str:
        r = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        if r.returncode != 0:
            _unavailable(f"initdb failed: {r.stderr[-500:]}")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "pg.log"),
            "-w",
            "start",
        )
        if r.returncode != 0:
            _unavailable(f"pg_ctl start failed: {r.stderr[-500:]}")
        r = self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "ohvault",
        )
        if r.returncode != 0:
            _unavailable(f"createdb failed: {r.stderr[-500:]}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/ohvault"

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
