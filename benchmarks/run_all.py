"""Run every benchmark and refresh its section of docs/performance.md.

    make bench                                    # all of them
    make bench BENCH="vault_bench lab_speed"      # some of them

Each benchmark module exposes TITLE, run() -> dict and markdown(dict) -> str, and
owns the part of docs/performance.md between its `<!-- NAME:begin -->` and
`<!-- NAME:end -->` markers; a module run on its own with --write-docs refreshes
the same section. Raw results also go to benchmarks/results/latest.json.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
MODULES = [
    "benchmarks.vault_bench",
    "benchmarks.lab_accuracy",
    "benchmarks.lab_accuracy_real",
    "benchmarks.ocr_accuracy",
    "benchmarks.lab_speed",
    "benchmarks.gui_startup",
    "benchmarks.bundle_throughput",
    "benchmarks.sync_bench",
    "benchmarks.baselines",
]
PREAMBLE = (
    "# Performance\n\n"
    "Every section below is written by a benchmark (`make bench`, or the module named in its\n"
    "heading with `--write-docs`); do not edit by hand. Each section says when and on what\n"
    "machine it was measured.\n"
)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, title: str, body: str, path: Path = DOC) -> None:
    """Replace (or append) the section between NAME's markers."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if "python -m" not in title:
        title = f"{title} (`python -m benchmarks.{name}`)"
    stamp = f"_Measured {datetime.now(UTC).strftime('%Y-%m-%d')} on {machine()}._"
    section = f"{begin}\n## {title}\n\n{stamp}\n\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else PREAMBLE
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    only = set(argv)
    raw: dict[str, Any] = {}
    for name in MODULES:
        short = name.rsplit(".", 1)[1]
        if only and short not in only:
            continue
        module = importlib.import_module(name)
        print(f"running {short} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = module.run()
        raw[short] = result
        write_section(short, module.TITLE, module.markdown(result))
        own_doc = getattr(module, "DOC", None)
        if own_doc is not None and Path(own_doc) != DOC:
            module.write_docs(result)  # its section in the doc it belongs to as well
        print(f"  {short}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / "latest.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
