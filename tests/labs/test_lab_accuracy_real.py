"""The real-report benchmark's plumbing, without the real reports (they never enter the repo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import lab_accuracy_real
from tests.labs.patterns import BUILDERS

# A scorer with score.py's interface (exact printed name, value and unit), written for this test:
# the benchmark imports whatever scorer sits beside the folder of reports.
SCORER = """
CONFIDENT = 0.8
def same_analyte(t, g):
    return t["printed_name"].casefold() == (g.get("printed_name") or "").casefold()
def key(r):
    v = r.get("value")
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = str(v).replace(" ", "").lower()
    return (v, (r.get("unit") or "").lower())
def match(truth, got):
    used, tp = set(), 0
    for t in truth:
        for i, g in enumerate(got):
            if i not in used and same_analyte(t, g) and key(t) == key(g):
                used.add(i); tp += 1; break
    return tp, used
def confident_wrong(truth, got, used, threshold):
    wrong, spurious, repeats = [], [], []
    for i, g in enumerate(got):
        if i in used or (g.get("confidence") or 0) < threshold:
            continue
        if any(same_analyte(t, g) and key(t) == key(g) for t in truth):
            repeats.append(g)
        elif any(same_analyte(t, g) for t in truth):
            wrong.append(g)
        else:
            spurious.append(g)
    return wrong, spurious, repeats
"""


def test_absent_folder_is_skipped_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OHVAULT_REAL_LABS", str(tmp_path / "missing"))
    result = lab_accuracy_real.run()
    assert "skipped" in result
    assert lab_accuracy_real.markdown(result).startswith("Not measured")


def test_scores_each_report_with_the_folders_scorer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = tmp_path / "labs" / "real"
    real.mkdir(parents=True)
    (tmp_path / "labs" / "score.py").write_text(SCORER, encoding="utf-8")
    data, expected = BUILDERS["monospace_classic"]()
    (real / "mono.pdf").write_bytes(data)
    truth = [{"printed_name": e.printed_name, "value": e.value, "unit": e.unit} for e in expected]
    truth.append({"printed_name": "Ferritin", "value": 50, "unit": "ng/mL"})  # not in the PDF
    (real / "mono.truth.json").write_text(json.dumps({"results": truth}), encoding="utf-8")
    monkeypatch.setenv("OHVAULT_REAL_LABS", str(real))
    result = lab_accuracy_real.run()
    row = result["per_report"]["mono"]
    n = len(expected)
    assert (row["truth"], row["got"], row["tp"]) == (n + 1, n, n)
    assert row["confident_wrong"] == 0 and row["repeats"] == 0
    assert result["overall"]["recall"] == round(n / (n + 1), 4)
    assert result["overall"]["precision"] == 1.0
    assert "| mono |" in lab_accuracy_real.markdown(result)
