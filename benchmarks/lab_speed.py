"""Speed and memory of the lab report parser.

    python -m benchmarks.lab_speed [--out FILE.json] [--corpus DIR] [--big-pages N] [--repeat N]

* pages/s of ``parse_pdf`` over the synthetic corpus, and the ratio of that time to plain
  pdfplumber ``extract_text`` over the same pages (target <= 1.5x);
* peak memory (RSS, in a child process) and time for one generated N-page report (default 500),
  which the parser reads page by page, releasing each page.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pdfplumber

from ohvault.labs.parser import parse_pdf

TARGET_RATIO = 1.5


def _baseline(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        n = 0
        for page in pdf.pages:
            page.extract_text()
            page.close()
            n += 1
        return n


def measure_corpus(corpus: Path, repeat: int = 3) -> dict[str, Any]:
    files = [p.read_bytes() for p in sorted(corpus.glob("*.pdf"))]
    pages = 0
    best_parse = best_base = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        pages = sum(parse_pdf(d).pages for d in files)
        best_parse = min(best_parse, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for d in files:
            _baseline(d)
        best_base = min(best_base, time.perf_counter() - t0)
    return {
        "files": len(files),
        "pages": pages,
        "parse_seconds": round(best_parse, 3),
        "extract_text_seconds": round(best_base, 3),
        "pages_per_second": round(pages / best_parse, 1),
        "ratio_to_extract_text": round(best_parse / best_base, 3),
        "target_ratio": TARGET_RATIO,
    }


def measure_big(pages: int) -> dict[str, Any]:
    """Parse a generated `pages`-page report in a fresh process: wall time and peak RSS.

    The report is generated here and handed over as a file, so the child's peak is the
    interpreter, the libraries and the parse alone; untraced, the time is what a user waits.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.labs.corpus import big_report

    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "big.pdf"
        pdf.write_bytes(big_report(pages))
        script = f"""
import json, resource, time
from pathlib import Path
from ohvault.labs.parser import parse_pdf
import pdfplumber  # loaded before the baseline, so that the growth is the parse's own
data = Path({str(pdf)!r}).read_bytes()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
rep = parse_pdf(data)
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"pages": rep.pages, "file_mb": round(len(data) / 1e6, 2), "results": len(rep.results),
    "seconds": round(elapsed, 1), "pages_per_second": round(rep.pages / elapsed, 2),
    "peak_rss_mb": round(peak / 1024, 1), "rss_growth_mb": round((peak - base) / 1024, 1)}}))
"""
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


TITLE = "Lab report parsing speed and memory"


def run(big_pages: int = 500, repeat: int = 3) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.labs.corpus import generate_corpus

    with tempfile.TemporaryDirectory() as tmp:
        generate_corpus(Path(tmp))
        result: dict[str, Any] = {"corpus": measure_corpus(Path(tmp), repeat)}
    if big_pages:
        result["big"] = measure_big(big_pages)
    return result


def markdown(r: dict[str, Any]) -> str:
    c = r["corpus"]
    lines = [
        "| measurement | result | target |",
        "| --- | --- | --- |",
        f"| synthetic corpus: {c['files']} reports, {c['pages']} pages | {c['pages_per_second']} pages/s | — |",
        f"| full parse time ÷ plain pdfplumber `extract_text` of the same pages | {c['ratio_to_extract_text']}× | ≤ {c['target_ratio']}× |",
    ]
    if "big" in r:
        b = r["big"]
        lines += [
            f"| {b['pages']}-page report ({b['file_mb']} MB, {b['results']} results): time | {b['seconds']} s ({b['pages_per_second']} pages/s) | bounded, cancellable |",
            f"| {b['pages']}-page report: peak memory (RSS) of the whole parsing process | {b['peak_rss_mb']} MB | bounded |",
        ]
    return "\n".join(lines)


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("lab_speed", TITLE, markdown(result))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Lab parser speed and memory")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--big-pages", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.labs.corpus import generate_corpus

            corpus = Path(tmp)
            generate_corpus(corpus)
        result = {"corpus": measure_corpus(corpus, args.repeat)}
    if args.big_pages:
        result["big"] = measure_big(args.big_pages)
    c = result["corpus"]
    print(
        f"corpus: {c['files']} files, {c['pages']} pages, {c['pages_per_second']} pages/s, "
        f"{c['ratio_to_extract_text']}x plain extract_text (target <= {TARGET_RATIO}x)"
    )
    if "big" in result:
        b = result["big"]
        print(
            f"{b['pages']}-page file ({b['file_mb']} MB): {b['seconds']} s, peak RSS {b['peak_rss_mb']} MB, "
            f"{b['results']} results"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0 if c["ratio_to_extract_text"] <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
