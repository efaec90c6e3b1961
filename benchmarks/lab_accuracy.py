"""Accuracy of the lab report parser on the synthetic corpus and on real laboratories' reports.

    python -m benchmarks.lab_accuracy [--out FILE.json] [--corpus DIR] [--seed N] [--per-layout N]
    python -m benchmarks.lab_accuracy --holdout [--per-layout N] [--errors]
    python -m benchmarks.lab_accuracy --real [--errors] [--write-docs]

``--real`` scores the redacted real reports in ``../shared/labs/real`` with that folder's own
matching rules (benchmarks/lab_accuracy_real.py); ``run()`` (``make bench``) scores all three sets
and also refreshes the real-report section of docs/lab-parsing.md.

Without ``--corpus`` the corpus is generated into a temporary directory (tests/labs/corpus.py).
``--holdout`` scores the independent hold-out corpus instead (tests/labs/holdout/generate.py:
11 layouts written without looking at the parser; the honest estimate of generalisation).
Reports precision / recall / F1 per layout and overall for

* results: (analyte, date, value, UCUM unit);
* reference ranges: (analyte, date, low, high) over rows that print a numeric range;
* flags: (analyte, date, flag) over abnormal rows;
* collection dates: one per report;

plus the number of wrong values presented as confident (confidence >= 0.8) and how many unknown
test names were reported as unmatched rows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from ohvault.labs.catalog import load_catalog
from ohvault.labs.parser import CONFIDENT, ParsedReport, ParsedResult, parse_pdf

TARGETS = {"results_f1": 0.98, "ranges_f1": 0.95, "dates_f1": 0.95, "confident_wrong": 0}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _unit_ok(pred: ParsedResult, truth: dict[str, Any]) -> bool:
    """Same UCUM code, or two codes the analyte converts 1:1 (``10*3/uL`` and ``10*9/L``).

    When the report prints no unit (specific gravity, pH, INR, qualitative results) the parser may
    leave it empty or fill in the only possible one.
    """
    if pred.unit_ucum == truth["unit_ucum"]:
        return True
    if truth.get("unit") == "" and (pred.unit_ucum or "") in ("", truth["unit_ucum"]):
        return True
    analyte = load_catalog().by_loinc(truth["loinc"])
    a, b = pred.unit_ucum, truth["unit_ucum"]
    if analyte is None or a is None or b is None or not (analyte.accepts(a) and analyte.accepts(b)):
        return False
    return math.isclose(analyte.convert(1.0, a, b), 1.0, rel_tol=1e-12)


def _value_ok(pred: ParsedResult, truth: dict[str, Any]) -> bool:
    tv = truth["value"]
    if truth.get("comparator"):  # censored value such as "<0,35"
        return pred.comparator == truth["comparator"] and _close(pred.value_num, float(tv))
    if isinstance(tv, str):
        return str(pred.value).replace(",", ".").casefold().replace(
            " ", ""
        ) == tv.casefold().replace(" ", "")
    return pred.comparator is None and _close(pred.value_num, float(tv))


class Counter:
    def __init__(self) -> None:
        self.tp = 0
        self.pred = 0
        self.truth = 0

    def add(self, tp: int, pred: int, truth: int) -> None:
        self.tp += tp
        self.pred += pred
        self.truth += truth

    def summary(self) -> dict[str, float | int]:
        p = self.tp / self.pred if self.pred else 1.0
        r = self.tp / self.truth if self.truth else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "predicted": self.pred,
            "truth": self.truth,
        }


def _analyte_key(loinc: str | None) -> str:
    """Results are matched by analyte, so any of an analyte's LOINC codes counts as the same test."""
    if not loinc:
        return ""
    analyte = load_catalog().by_loinc(loinc)
    return analyte.id if analyte is not None else loinc


def score_report(report: ParsedReport, truth: dict[str, Any]) -> dict[str, Any]:
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in truth["results"]:
        by_key[(_analyte_key(t["loinc"]), t["date"])].append(t)
    used: set[int] = set()
    res_tp = 0
    wrong_confident: list[dict[str, Any]] = []
    errors: list[str] = []
    rng_tp = rng_pred = 0
    flag_tp = flag_pred = 0
    matched_truth: dict[int, ParsedResult] = {}
    unmapped = [p for p in report.results if p.name is None]
    for p in report.results:
        if p.name is None:
            continue  # an unknown test returned for review: scored below as "reported"
        key = (_analyte_key(p.loinc), p.date.isoformat() if p.date else "")
        cands = [t for t in by_key.get(key, []) if id(t) not in used]
        hit = None
        for t in cands:
            if _value_ok(p, t) and _unit_ok(p, t):
                hit = t
                break
        if hit is not None:
            used.add(id(hit))
            res_tp += 1
            matched_truth[id(hit)] = p
        else:
            errors.append(
                f"{truth['id']}: wrong/extra {p.printed_name!r} = {p.value!r} {p.unit_ucum} ({p.date}) conf={p.confidence:.2f} notes={list(p.notes)}"
            )
            if p.confidence >= CONFIDENT:
                wrong_confident.append(
                    {
                        "report": truth["id"],
                        "printed_name": p.printed_name,
                        "value": p.value,
                        "unit": p.unit_ucum,
                        "confidence": p.confidence,
                    }
                )
        if p.ref_low is not None or p.ref_high is not None:
            rng_pred += 1
        if p.flag is not None:
            flag_pred += 1
    for t in truth["results"]:
        if id(t) not in used:
            errors.append(
                f"{truth['id']}: missed {t['printed_name']!r} = {t['value']!r} {t['unit_ucum']}"
            )
    rng_truth = [
        t for t in truth["results"] if t["ref_low"] is not None or t["ref_high"] is not None
    ]
    for t in rng_truth:
        m = matched_truth.get(id(t))
        if m is not None and _close(m.ref_low, t["ref_low"]) and _close(m.ref_high, t["ref_high"]):
            rng_tp += 1
        elif m is not None:
            errors.append(
                f"{truth['id']}: range {t['printed_name']!r} got {m.ref_low}-{m.ref_high} ({m.ref_text!r}) want {t['ref_low']}-{t['ref_high']}"
            )
    flag_truth = [t for t in truth["results"] if t["flag"] is not None]
    for t in flag_truth:
        m = matched_truth.get(id(t))
        if m is not None and m.flag == t["flag"]:
            flag_tp += 1
        elif m is not None:
            errors.append(
                f"{truth['id']}: flag {t['printed_name']!r} got {m.flag} want {t['flag']}"
            )
    date_ok = (
        report.collection_date is not None
        and report.collection_date.isoformat() == truth["collection_date"]
    )
    if not date_ok:
        errors.append(
            f"{truth['id']}: collection date {report.collection_date} want {truth['collection_date']}"
        )
    unmatched_text = " ".join(
        [u.text for u in report.unmatched] + [p.printed_name for p in unmapped]
    ).casefold()
    unknown_found = sum(
        1 for name in truth.get("unmatched_expected", []) if name.casefold() in unmatched_text
    )
    return {
        "results": (res_tp, len(report.results) - len(unmapped), len(truth["results"])),
        "ranges": (rng_tp, rng_pred, len(rng_truth)),
        "flags": (flag_tp, flag_pred, len(flag_truth)),
        "dates": (int(date_ok), int(report.collection_date is not None), 1),
        "confident_wrong": wrong_confident,
        "unknown": (unknown_found, len(truth.get("unmatched_expected", []))),
        "errors": errors,
    }


def evaluate(corpus: Path) -> dict[str, Any]:
    per_layout: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    wrong_by_layout: dict[str, int] = defaultdict(int)
    overall: dict[str, Counter] = defaultdict(Counter)
    confident_wrong: list[dict[str, Any]] = []
    errors: list[str] = []
    unknown = [0, 0]
    n = 0
    for truth_path in sorted(corpus.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        report = parse_pdf(truth_path.with_suffix(".pdf"))
        s = score_report(report, truth)
        n += 1
        for metric in ("results", "ranges", "flags", "dates"):
            per_layout[truth["layout"]][metric].add(*s[metric])
            overall[metric].add(*s[metric])
        confident_wrong.extend(s["confident_wrong"])
        wrong_by_layout[truth["layout"]] += len(s["confident_wrong"])
        errors.extend(s["errors"])
        unknown[0] += s["unknown"][0]
        unknown[1] += s["unknown"][1]
    out: dict[str, Any] = {
        "reports": n,
        "overall": {m: c.summary() for m, c in overall.items()},
        "per_layout": {
            lay: {m: c.summary() for m, c in ms.items()} | {"confident_wrong": wrong_by_layout[lay]}
            for lay, ms in sorted(per_layout.items())
        },
        "confident_wrong": confident_wrong,
        "unknown_tests_reported_unmatched": {"found": unknown[0], "expected": unknown[1]},
        "errors": errors,
    }
    o = out["overall"]
    out["targets"] = TARGETS
    out["meets_targets"] = (
        o["results"]["f1"] >= TARGETS["results_f1"]
        and o["ranges"]["f1"] >= TARGETS["ranges_f1"]
        and o["dates"]["f1"] >= TARGETS["dates_f1"]
        and len(confident_wrong) <= TARGETS["confident_wrong"]
    )
    return out


def _row(name: str, ms: dict[str, Any]) -> str:
    r = ms["results"]
    return (
        f"{name:<14} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f}"
        f" {ms['ranges']['f1']:>6.3f} {ms['flags']['f1']:>7.3f} {ms['dates']['f1']:>7.3f}"
        f" {ms['confident_wrong']:>10}"
    )


TITLE = "Lab report parsing accuracy"


def _generate(directory: Path, holdout: bool, seed: int | None, per_layout: int | None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if holdout:
        from tests.labs.holdout.generate import generate_holdout

        generate_holdout(directory, seed or 7031, per_layout or 4)
    else:
        from tests.labs.corpus import generate_corpus

        generate_corpus(directory, seed or 20240305, per_layout or 5)


def run() -> dict[str, Any]:
    """Both synthetic sets (the corpus the parser was built on, and the hold-out set) and the
    real reports when ``../shared/labs/real`` is there; refreshes docs/lab-parsing.md's section."""
    from benchmarks import lab_accuracy_real

    out: dict[str, Any] = {}
    for name, holdout in (("corpus", False), ("holdout", True)):
        with tempfile.TemporaryDirectory() as tmp:
            _generate(Path(tmp), holdout, None, None)
            result = evaluate(Path(tmp))
        result.pop("errors", None)
        out[name] = result
    out["real"] = lab_accuracy_real.run()
    if "skipped" not in out["real"]:
        lab_accuracy_real.write_docs(out["real"])
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = [
        "Precision/recall/F1 on (analyte, value, unit); F1 on reference ranges, flags and collection "
        "dates; results shown as confident (≥ 0.8) whose value is wrong. Targets: results F1 ≥ 0.98, "
        "ranges and dates ≥ 0.95, no confident wrong value. Both sets are synthetic; the hold-out set "
        "was written without looking at the parser, which was then improved against it (see "
        "docs/lab-parsing.md), so neither is an estimate for real laboratories' reports.",
        "",
    ]
    for name, label in (("corpus", "development corpus"), ("holdout", "hold-out set")):
        res = r[name]
        o = res["overall"]
        u = res["unknown_tests_reported_unmatched"]
        lines += [
            f"**{label}**: {res['reports']} reports, {o['results']['truth']} results; "
            f"unknown tests reported as unmatched: {u['found']}/{u['expected']}.",
            "",
            "| layout | results P | results R | results F1 | ranges F1 | flags F1 | dates F1 | confident & wrong |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        rows = dict(res["per_layout"])
        rows["**overall**"] = o | {"confident_wrong": len(res["confident_wrong"])}
        for lay, ms in rows.items():
            rr = ms["results"]
            lines.append(
                f"| {lay} | {rr['precision']:.3f} | {rr['recall']:.3f} | {rr['f1']:.3f} | "
                f"{ms['ranges']['f1']:.3f} | {ms['flags']['f1']:.3f} | {ms['dates']['f1']:.3f} | "
                f"{ms['confident_wrong']} |"
            )
        lines.append("")
    if "real" in r:
        from benchmarks import lab_accuracy_real

        lines += ["**real reports**:", "", lab_accuracy_real.markdown(r["real"])]
    return "\n".join(lines)


def write_docs(result: dict[str, Any]) -> None:
    from benchmarks.run_all import write_section

    write_section("lab_accuracy", TITLE, markdown(result))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Lab parser accuracy on the synthetic corpus")
    ap.add_argument("--out", type=Path, help="write the full JSON report here")
    ap.add_argument("--corpus", type=Path, help="existing corpus directory (default: generate)")
    ap.add_argument("--holdout", action="store_true", help="score the independent hold-out set")
    ap.add_argument("--seed", type=int, help="default 20240305 (corpus) / 7031 (hold-out)")
    ap.add_argument("--per-layout", type=int, help="default 5 (corpus) / 4 (hold-out)")
    ap.add_argument("--errors", action="store_true", help="print every mismatch")
    ap.add_argument("--real", action="store_true", help="score ../shared/labs/real instead")
    ap.add_argument("--write-docs", action="store_true", help="with --real: docs/lab-parsing.md")
    args = ap.parse_args(argv)
    if args.real:
        from benchmarks import lab_accuracy_real

        return lab_accuracy_real.main(
            (["--detail"] if args.errors else []) + (["--write-docs"] if args.write_docs else [])
        )
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp)
            _generate(corpus, args.holdout, args.seed, args.per_layout)
        result = evaluate(corpus)
    result["corpus"] = "holdout" if args.holdout else "corpus"
    print(
        f"{'layout':<14} {'res P':>6} {'res R':>6} {'res F1':>6} {'rng F1':>6} {'flag F1':>7}"
        f" {'date F1':>7} {'conf.wrong':>10}"
    )
    for lay, ms in result["per_layout"].items():
        print(_row(lay, ms))
    o = result["overall"]
    print(_row("OVERALL", o | {"confident_wrong": len(result["confident_wrong"])}))
    print(
        f"results P={o['results']['precision']:.4f} R={o['results']['recall']:.4f} ({o['results']['truth']} truth rows, {result['reports']} reports)"
    )
    print(f"wrong values presented as confident: {len(result['confident_wrong'])}")
    u = result["unknown_tests_reported_unmatched"]
    print(f"unknown tests reported as unmatched: {u['found']}/{u['expected']}")
    if args.errors:
        for e in result["errors"]:
            print("  " + e)
    if args.out:
        args.out.write_text(
            json.dumps(result, indent=1, ensure_ascii=False, default=str), encoding="utf-8"
        )
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
