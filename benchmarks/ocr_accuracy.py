"""Accuracy of `--ocr` on realistic scans of the synthetic corpus.

    python -m benchmarks.ocr_accuracy [--per-layout N] [--profiles a,b] [--seed N] [--out FILE.json]
    python -m benchmarks.ocr_accuracy --raw   # pages as Tesseract reads them: no cleaning, no repair

Each synthetic report (tests/labs/corpus.py) is "printed and scanned" with every scan profile of
tests/labs/scans.py (150-300 dpi, skew, blur, JPEG artefacts, a fax header, a stamp over the
text), read with ``parse_pdf(..., ocr=True)`` and scored with the rules of
benchmarks/lab_accuracy.py (analyte, date, value, UCUM unit). Reports results precision, recall
and F1 per profile and overall, how many OCR results were presented as confident (those whose
name, value, unit, range and flag agree: labs/ocr.py `settle`) and how many of those were
wrong. Target: results F1 >= 0.85 overall, 0 confident wrong values.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lab_accuracy import Counter, score_report
from ohvault.labs.errors import LabParseError
from ohvault.labs.parser import CONFIDENT, parse_pdf
from tests.labs.corpus import generate_corpus
from tests.labs.scans import PROFILES, scan_pdf

TARGET_F1 = 0.85
TITLE = "Scanned reports: `--ocr` on realistic scans of the synthetic corpus"


def evaluate(corpus: Path, profiles: list[str], seed: int) -> dict[str, Any]:
    per_profile: dict[str, Counter] = {}
    confident_by_profile: dict[str, list[int]] = {}  # [confident, confident and wrong]
    overall = Counter()
    confident = 0
    confident_wrong: list[dict[str, Any]] = []
    failures: list[str] = []
    seconds = 0.0
    pages = 0
    for profile in (p for p in PROFILES if p.name in profiles):
        counter = per_profile.setdefault(profile.name, Counter())
        sure = confident_by_profile.setdefault(profile.name, [0, 0])
        for truth_path in sorted(corpus.glob("*.json")):
            truth = json.loads(truth_path.read_text(encoding="utf-8"))
            scanned = scan_pdf(truth_path.with_suffix(".pdf").read_bytes(), profile, seed)
            started = time.perf_counter()
            try:
                report = parse_pdf(scanned, ocr=True)
            except LabParseError as exc:
                failures.append(f"{profile.name} {truth['id']}: {exc}")
                counter.add(0, 0, len(truth["results"]))
                overall.add(0, 0, len(truth["results"]))
                continue
            seconds += time.perf_counter() - started
            pages += report.pages
            scored = score_report(report, truth)
            counter.add(*scored["results"])
            overall.add(*scored["results"])
            n_sure = sum(1 for r in report.results if r.confidence >= CONFIDENT)
            confident += n_sure
            sure[0] += n_sure
            sure[1] += len(scored["confident_wrong"])
            confident_wrong += [{**w, "profile": profile.name} for w in scored["confident_wrong"]]
    o = {**overall.summary(), "confident": confident, "confident_wrong": len(confident_wrong)}
    return {
        "reports_per_profile": len(list(corpus.glob("*.json"))),
        "per_profile": {
            name: {
                **c.summary(),
                "confident": confident_by_profile[name][0],
                "confident_wrong": confident_by_profile[name][1],
            }
            for name, c in per_profile.items()
        },
        "overall": o,
        "confident_ocr_results": confident,
        "confident_wrong": confident_wrong,
        "failures": failures,
        "seconds_per_page": round(seconds / pages, 2) if pages else None,
        "target_f1": TARGET_F1,
        "meets_target": o["f1"] >= TARGET_F1 and not confident_wrong,
    }


def run(per_layout: int = 1, seed: int = 1) -> dict[str, Any]:
    """The default measurement (`make bench`): every scan profile, one report per layout."""
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work)
        generate_corpus(corpus, per_layout=per_layout)
        return evaluate(corpus, [p.name for p in PROFILES], seed)


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Target: results F1 >= {TARGET_F1} overall, no confident wrong value. "
        f"{result['seconds_per_page']} s per page.",
        "",
        "| scan profile | precision | recall | F1 | confident | confident wrong |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, m in [*result["per_profile"].items(), ("overall", result["overall"])]:
        lines.append(
            f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {m['confident']} of {m['predicted']} | {m['confident_wrong']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--per-layout", type=int, default=1)
    ap.add_argument("--profiles", default=",".join(p.name for p in PROFILES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--raw", action="store_true", help="skip page cleaning and unit repair")
    args = ap.parse_args(argv)
    if args.raw:  # the comparison: what Tesseract makes of the page on its own
        from ohvault.labs import ocr

        ocr.preprocess = lambda image: image  # type: ignore[assignment]
        ocr.repair_unit = lambda token: token  # type: ignore[assignment]
        ocr.repair_power = lambda token: None  # type: ignore[assignment]
        ocr.repair_labels = lambda texts: texts  # type: ignore[assignment]
        ocr.repair_header = lambda texts: texts  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work)
        generate_corpus(corpus, per_layout=args.per_layout)
        result = evaluate(corpus, args.profiles.split(","), args.seed)
    print(markdown(result))
    print(
        f"confident OCR results: {result['confident_ocr_results']} "
        f"({len(result['confident_wrong'])} wrong); "
        f"{result['seconds_per_page']} s per page; failures: {len(result['failures'])}"
    )
    for failure in result["failures"]:
        print("  " + failure, file=sys.stderr)
    for wrong in result["confident_wrong"]:
        print(f"  confident but wrong: {wrong}", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
