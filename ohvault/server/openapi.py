"""Write the API's OpenAPI document: `python -m ohvault.server.openapi docs/openapi.json`.

tests/sync/test_openapi.py fails when the committed document differs from the app.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

from ohvault.server.config import ServerConfig


def document() -> dict[str, Any]:
    from ohvault.server.app import create_app

    # Only the routes matter here; nothing is started and no database is opened.
    config = ServerConfig(secret=secrets.token_urlsafe(48), database_url="sqlite://")
    spec: dict[str, Any] = create_app(config).openapi()
    return spec


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
