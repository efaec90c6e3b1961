"""docs/security.md cites tests for each threat and safeguard: every cited test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_cited_in_the_security_model_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)((?:::\w+)?)`", text)
    assert len(cited) >= 20
    for path, name in cited:
        source = (ROOT / path).read_text(encoding="utf-8")
        if name:
            assert re.search(rf"^def {name[2:]}\(", source, re.M), (
                f"{path}{name} is cited but missing"
            )
    # Bare `::name` citations refer to a file cited beside them.
    for name in re.findall(r"`::(\w+)`", text):
        assert any(
            re.search(rf"^def {name}\(", (ROOT / p).read_text(encoding="utf-8"), re.M)
            for p, _ in cited
        ), f"::{name} is cited but missing"
