"""Accuracy of the lab report parser on real laboratories' reports (``../shared/labs/real``).

    python -m benchmarks.lab_accuracy_real [--real DIR] [--detail] [--write-docs]

The folder holds redacted real reports with hand-labelled truth and the scorer ``score.py`` one
level up. It is not part of the repository (the reports must never be copied into it), so it is
looked for as ``shared/labs/real`` beside the checkout or beside one of its parent folders
(``$OHVAULT_REAL_LABS`` overrides); when it is absent the benchmark says so and scores nothing.

Matching is ``score.py``'s own (imported from that folder, so the two can never disagree): one
to one on (analyte, value, unit), the analyte by LOINC, standard name or printed name. Per report
and overall: results precision/recall/F1, confident-only (>= 0.8) precision, confident results
whose value is wrong, and repeats (a result returned twice).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ohvault.labs.errors import LabParseError
from ohvault.labs.parser import parse_pdf

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "lab-parsing.md"
TITLE = "Accuracy on real laboratories' reports"
TARGETS = {"results_f1": 0.95, "confident_precision": 0.99, "confident_wrong": 0, "repeats": 0}


def real_dir() -> Path | None:
    """``$OHVAULT_REAL_LABS``, else the first ``shared/labs/real`` beside the repo or a parent."""
    env = os.environ.get("OHVAULT_REAL_LABS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    for base in ROOT.parents:
        cand = base / "shared" / "labs" / "real"
        if cand.is_dir():
            return cand
    return None


def _load_scorer(directory: Path) -> ModuleType:
    path = directory.parent / "score.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} (the scorer) is missing")
    spec = importlib.util.spec_from_file_location("_real_labs_score", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate_real(directory: Path, *, detail: bool = False) -> dict[str, Any]:
    """Score every ``NAME.pdf`` that has a ``NAME.truth.json`` with score.py's matching rules."""
    sc = _load_scorer(directory)
    threshold = float(sc.CONFIDENT)
    per: dict[str, dict[str, Any]] = {}
    tot = {"tp": 0, "truth": 0, "got": 0, "ctp": 0, "conf": 0, "wrong": 0, "spur": 0, "rep": 0}
    for pdf in sorted(directory.glob("*.pdf")):
        truth_path = directory / (pdf.stem + ".truth.json")
        if not truth_path.exists():
            continue
        meta = json.loads(truth_path.read_text(encoding="utf-8"))
        truth = meta["results"]
        scanned = meta.get("text_layer") == "none"
        error = None
        try:
            got = [r.to_json() for r in parse_pdf(pdf, ocr=scanned).results]
        except LabParseError as exc:
            got, error = [], str(exc)
        tp, used = sc.match(truth, got)
        conf = [g for g in got if (g.get("confidence") or 0) >= threshold]
        ctp, cused = sc.match(truth, conf)
        wrong, spurious, repeats = sc.confident_wrong(truth, conf, cused, threshold)
        p, r = _ratio(tp, len(got)), _ratio(tp, len(truth))
        row: dict[str, Any] = {
            "truth": len(truth),
            "got": len(got),
            "tp": tp,
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(_f1(p, r), 4),
            "confident": len(conf),
            "confident_tp": ctp,
            "confident_precision": round(_ratio(ctp, len(conf)), 4) if conf else 1.0,
            "confident_wrong": len(wrong),
            "confident_spurious": len(spurious),
            "repeats": len(repeats),
            "scanned": scanned,
        }
        if error:
            row["error"] = error
        if detail:
            row["detail"] = (
                [
                    f"WRONG  {g.get('printed_name')!r} -> {g.get('value')!r} {g.get('unit')!r}"
                    for g in wrong
                ]
                + [
                    f"SPUR   {g.get('printed_name')!r} -> {g.get('value')!r} {g.get('unit')!r}"
                    for g in spurious
                ]
                + [
                    f"REPEAT {g.get('printed_name')!r} -> {g.get('value')!r} {g.get('unit')!r}"
                    for g in repeats
                ]
                + [
                    f"EXTRA  {g.get('printed_name')!r} -> {g.get('value')!r} {g.get('unit')!r}"
                    f" p{g.get('page')} conf {g.get('confidence')}"
                    for i, g in enumerate(got)
                    if i not in used and (g.get("confidence") or 0) < threshold
                ]
                + [
                    f"MISSED {t.get('printed_name')!r} = {t.get('value')!r} {t.get('unit')!r}"
                    for t in truth
                    if not any(sc.same_analyte(t, g) and sc.key(t) == sc.key(g) for g in got)
                ]
            )
        per[pdf.stem] = row
        if scanned:  # scanned reports are scored on their own, as score.py does
            continue
        for k, v in (("tp", tp), ("truth", len(truth)), ("got", len(got)), ("ctp", ctp)):
            tot[k] += v
        tot["conf"] += len(conf)
        tot["wrong"] += len(wrong)
        tot["spur"] += len(spurious)
        tot["rep"] += len(repeats)
    p, r = _ratio(tot["tp"], tot["got"]), _ratio(tot["tp"], tot["truth"])
    cp, cr = _ratio(tot["ctp"], tot["conf"]), _ratio(tot["ctp"], tot["truth"])
    overall = {
        "reports": sum(1 for v in per.values() if not v["scanned"]),
        "truth": tot["truth"],
        "got": tot["got"],
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(_f1(p, r), 4),
        "confident": tot["conf"],
        "confident_precision": round(cp, 4),
        "confident_f1": round(_f1(cp, cr), 4),
        "confident_wrong": tot["wrong"],
        "confident_spurious": tot["spur"],
        "repeats": tot["rep"],
    }
    overall["meets_targets"] = (
        overall["f1"] >= TARGETS["results_f1"]
        and overall["confident_precision"] >= TARGETS["confident_precision"]
        and overall["confident_wrong"] <= TARGETS["confident_wrong"]
        and overall["repeats"] <= TARGETS["repeats"]
    )
    return {"directory": str(directory), "per_report": per, "overall": overall}


def run() -> dict[str, Any]:
    directory = real_dir()
    if directory is None:
        return {"skipped": "no shared/labs/real folder beside the checkout"}
    return evaluate_real(directory)


def markdown(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"Not measured: {r['skipped']}."
    o = r["overall"]
    lines = [
        "Real reports, redacted and hand-labelled (`../shared/labs/real`, not in the repository), "
        "scored with that folder's `score.py` matching: (analyte, value, unit) one to one. "
        f"Targets: results F1 ≥ {TARGETS['results_f1']}, confident-only precision ≥ "
        f"{TARGETS['confident_precision']}, no confident wrong value, no repeat.",
        "",
        "| report | truth | returned | P | R | F1 | confident | confident P | confident & wrong | repeats |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, m in r["per_report"].items():
        lines.append(
            f"| {name}{' (scan, OCR)' if m['scanned'] else ''} | {m['truth']} | {m['got']} | "
            f"{m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['confident']} | "
            f"{m['confident_precision']:.3f} | {m['confident_wrong']} | {m['repeats']} |"
        )
    lines.append(
        f"| **overall** ({o['reports']} reports) | {o['truth']} | {o['got']} | {o['precision']:.3f} | "
        f"{o['recall']:.3f} | **{o['f1']:.3f}** | {o['confident']} | "
        f"**{o['confident_precision']:.3f}** | **{o['confident_wrong']}** | **{o['repeats']}** |"
    )
    return "\n".join(lines) + "\n"


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("lab_accuracy_real", TITLE, markdown(result), path=DOC)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Lab parser accuracy on real reports")
    ap.add_argument(
        "--real", type=Path, help="folder of real reports (default: found beside the repo)"
    )
    ap.add_argument("--detail", action="store_true", help="print every miss and wrong result")
    ap.add_argument("--write-docs", action="store_true", help="refresh docs/lab-parsing.md")
    args = ap.parse_args(argv)
    directory = args.real or real_dir()
    if directory is None or not directory.is_dir():
        print("real reports not found (../shared/labs/real); nothing scored", file=sys.stderr)
        return 0
    result = evaluate_real(directory, detail=args.detail)
    for name, m in result["per_report"].items():
        print(
            f"{name}: truth {m['truth']} got {m['got']} tp {m['tp']} P {m['precision']:.2f} "
            f"R {m['recall']:.2f} | confident {m['confident']} tp {m['confident_tp']} "
            f"wrong-value {m['confident_wrong']} spurious {m['confident_spurious']} "
            f"repeats {m['repeats']}"
        )
        for line in m.get("detail", []):
            print("    " + line)
    o = result["overall"]
    print(
        f"confident only: P {o['confident_precision']:.3f} F1 {o['confident_f1']:.3f}; "
        f"confident wrong values {o['confident_wrong']}, spurious {o['confident_spurious']}, "
        f"repeats {o['repeats']}"
    )
    print(
        f"F1 {o['f1']:.3f} (P {o['precision']:.3f}, R {o['recall']:.3f}) over {o['reports']} reports"
    )
    if args.write_docs:
        write_docs(result)
    return 0 if o["meets_targets"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
