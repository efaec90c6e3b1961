"""docs/performance.md holds only figures the benchmarks generate.

Every section names the benchmark that wrote it (`python -m benchmarks.NAME`), that
module exists and renders its results with markdown(); sections a benchmark rewrites in
place sit between its `<!-- NAME:begin -->` / `<!-- NAME:end -->` markers. A hand-typed
table with no generator fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"


def _sections(text: str) -> list[str]:
    return [s for s in re.split(r"^## ", text, flags=re.M)[1:]]


def test_every_section_names_an_existing_benchmark_that_renders_it() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = _sections(text)
    assert sections, "docs/performance.md has no benchmark sections"
    for section in sections:
        heading = section.splitlines()[0]
        m = re.search(r"python -m (benchmarks\.\w+)", section[:400])
        assert m, f"section '{heading}' does not say which benchmark generated it"
        module = importlib.import_module(m.group(1))
        renders = [a for a in ("markdown", "write_docs") if callable(getattr(module, a, None))]
        assert renders, f"{m.group(1)} cannot have written this section (no markdown/write_docs)"


def test_make_bench_regenerates_every_section() -> None:
    """`make bench` (benchmarks/run_all.py) rewrites the whole file from the modules it knows:
    a section whose benchmark it skips would be lost, not refreshed."""
    from benchmarks.run_all import MODULES

    text = DOC.read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r"python -m (benchmarks\.\w+)", text))):
        assert name in MODULES, f"run_all does not run {name}"
        module = importlib.import_module(name)
        missing = [a for a in ("TITLE", "run", "markdown") if not hasattr(module, a)]
        assert not missing, f"run_all skips {name}: it has no {', '.join(missing)}"


def test_in_place_sections_have_matching_markers() -> None:
    text = DOC.read_text(encoding="utf-8")
    begins = re.findall(r"<!-- (\w+):begin -->", text)
    ends = re.findall(r"<!-- (\w+):end -->", text)
    assert begins == ends
    for name in begins:
        assert (ROOT / "benchmarks" / f"{name}.py").exists(), name
        block = text.split(f"<!-- {name}:begin -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
        assert f"benchmarks.{name}" in block


def test_tables_are_inside_generated_sections() -> None:
    text = DOC.read_text(encoding="utf-8")
    preamble = re.split(r"^## ", text, flags=re.M)[0]
    assert "|" not in preamble, "a table before the first generated section"
