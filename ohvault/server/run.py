"""Starting the server under uvicorn (`ohvault serve`, `python -m ohvault.server`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ohvault.server.config import ConfigError, ServerConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port (default 8443)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--ssl-certfile", metavar="PEM", help="TLS certificate chain (PEM)")
    p.add_argument("--ssl-keyfile", metavar="PEM", help="TLS private key (PEM)")
    p.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="ADDRS",
        help="reverse proxies whose X-Forwarded-For names the client (default 127.0.0.1)",
    )
    p.add_argument("--check-config", action="store_true", help="validate the environment and exit")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def serve(args: argparse.Namespace) -> int:
    try:
        config = ServerConfig.from_env()  # fail before uvicorn starts, with a clear message
    except ConfigError as exc:
        sys.stderr.write(f"ohvault serve: {exc}\n")
        return 2
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        sys.stderr.write("ohvault serve: --ssl-certfile and --ssl-keyfile go together.\n")
        return 2
    if args.check_config:
        print(f"configuration ok ({config.database_url.split(':', 1)[0]} database)")
        return 0
    if not args.ssl_certfile and args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.stderr.write(
            "ohvault serve: warning: listening beyond localhost without TLS; "
            "put a TLS proxy in front or pass --ssl-certfile/--ssl-keyfile.\n"
        )
    import uvicorn

    uvicorn.run(
        "ohvault.server.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        log_level=args.log_level,
        access_log=False,  # ours is JSON, with request ids and without query strings
        log_config=None,
        server_header=False,
        # Per-address rate limits need the client's address, not the proxy's.
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ohvault-server", description="the ohvault sync server")
    add_arguments(p)
    return serve(p.parse_args(argv))
