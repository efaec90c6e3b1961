"""Trend series and dashboard tiles from a real vault, without Qt."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from ohvault import demo
from ohvault.model import Observation
from ohvault.reports.dashboard import dashboard
from ohvault.reports.trends import (
    Series,
    build_series,
    change_since_previous_date,
    fmt_value,
    trend_data,
)
from tests.conftest import MakeVault


def test_reports_import_no_qt() -> None:
    """The CLI and headless tests use these modules; Qt stays in ohvault/gui."""
    code = (
        "import sys, ohvault.reports.summary, ohvault.reports.dashboard, ohvault.demo, "
        "ohvault.analytes, ohvault.cli.bundle_commands;"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'ohvault.gui')));"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tile_values_keep_printed_precision_and_drop_float_noise() -> None:
    assert [fmt_value(v) for v in (14.6, 0.95, 6.1, 162.0, 5.67)] == [
        "14.6", "0.95", "6.1", "162", "5.67",
    ]  # fmt: skip
    assert fmt_value(108.8812) == "108.9" and fmt_value(0.30000000000000004) == "0.3"
    assert fmt_value(0.012345) == "0.0123" and fmt_value(12345.6) == "12346"


def test_dashboard_change_compares_with_an_earlier_date_never_a_repeat() -> None:
    s = Series("k", "Glucose", "mg/dL", points=[(date(2025, 1, 1), 90.0)])
    assert change_since_previous_date(s) is None
    s.points += [(date(2025, 3, 1), 99.0), (date(2025, 3, 1), 99.0)]
    assert change_since_previous_date(s) == 9.0  # not "unchanged" against its own repeat


def test_trend_points_use_the_canonical_value_stored_on_import() -> None:
    stored = Observation(
        profile_id="p", analyte="Glucose", loinc="2345-7", value_num=5.5, unit="mmol/L",
        value_canonical=99.1, unit_canonical="mg/dL", effective=date(2025, 1, 1),
    )  # fmt: skip
    typed = Observation(
        profile_id="p", analyte="Glucose", loinc="2345-7", value_num=5.5, unit="mmol/L",
        effective=date(2025, 2, 1),
    )  # fmt: skip
    series = build_series([stored, typed], "mg/dL")
    assert series is not None
    assert series.points[0] == (date(2025, 1, 1), 99.1)
    assert series.points[1][1] == pytest.approx(99.1, abs=0.05)  # converted with the catalog


def test_series_in_the_canonical_unit_and_a_point_it_cannot_convert_is_left_out() -> None:
    rows = [
        Observation(
            profile_id="p",
            analyte="Glucose",
            loinc="2345-7",
            value_num=v,
            unit=u,
            effective=date(2025, m, 1),
        )
        for v, u, m in ((5.0, "mmol/L", 1), (100.0, "mg/dL", 2), (3.0, "furlongs", 3))
    ]
    series = build_series(rows)
    assert series is not None and series.unit == "mg/dL"
    assert [d.month for d, _ in series.points] == [1, 2] and series.skipped == 1
    assert series.points[0][1] == pytest.approx(90.1, abs=0.1)


def test_trend_data_and_dashboard_from_a_real_vault(make_vault: MakeVault) -> None:
    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    demo.populate(vault, pid)
    data = trend_data(vault, pid)
    ldl = next(s for s in data.series.values() if s.name == "LDL cholesterol")
    assert len(ldl.points) == 7 and ldl.unit == "mg/dL" and ldl.ref_high == 100.0
    assert [m.name for m in data.medications] == ["Atorvastatin", "Vitamin D3", "Ibuprofen"]
    dash = dashboard(vault, pid)
    # 7 visits of 10 tests, TSH every other visit (3 skipped).
    assert len(dash.tiles) == 10 and dash.counts["observation"] == 7 * 10 - 3
    # Out of range first; each tile's sparkline is its series, at most 12 points.
    flagged = [t.flag not in (None, "N") for t in dash.tiles]
    assert flagged == sorted(flagged, reverse=True) and any(flagged)
    assert dash.recent[0].title == "Annual check-up panel" and dash.recent[0].results == 10


def test_charts_read_the_stored_canonical_value_and_convert_only_rows_without_one(
    make_vault: MakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ohvault.manual_entry import enrich_from_catalog
    from ohvault.reports import trends

    vault, _ = make_vault()
    pid = vault.repo.profiles()[0].id
    for month, value in ((1, 5.5), (2, 6.0)):  # typed in mmol/L, as the CLI and the app do
        typed = Observation(
            profile_id=pid, analyte="glucose", value_num=value, unit="mmol/L",
            effective=date(2025, month, 1),
        )  # fmt: skip
        vault.repo.add(enrich_from_catalog(typed))
    stored = vault.repo.observations(pid)
    assert {o.unit_canonical for o in stored} == {"mg/dL"}
    conversions: list[str | None] = []
    real = trends._convert

    def counted(
        value: float, from_unit: str | None, to_unit: str | None, name: str
    ) -> float | None:
        conversions.append(from_unit)
        return real(value, from_unit, to_unit, name)

    monkeypatch.setattr(trends, "_convert", counted)
    series = build_series(stored)
    assert series is not None and series.unit == "mg/dL"
    assert [round(v, 1) for _, v in series.points] == [99.1, 108.1]
    assert conversions == ["mmol/L", "mmol/L"]  # the reference range's two bounds, no point
    old = Observation(
        profile_id=pid, analyte="Glucose", loinc="14749-6", value_num=5.0, unit="mmol/L",
        effective=date(2025, 3, 1),
    )  # fmt: skip
    conversions.clear()
    series = build_series([*stored, old])  # a row from before v6: converted
    assert series is not None and round(series.points[-1][1], 1) == 90.1
    assert conversions
