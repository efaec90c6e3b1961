"""What the dashboard shows: a tile per test (latest value, change, sparkline) and recent imports.

Computed on the worker from core queries (plain Python, no Qt); the GUI only lays it out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from ohvault.model import DiagnosticReport, Document, Observation, is_out_of_range
from ohvault.reports.trends import build_series, change_since_previous_date, fmt_value, series_key
from ohvault.vault import Vault


@dataclass
class Tile:
    name: str
    key: str
    value: str  # formatted for a tile
    unit: str
    flag: str | None
    effective: date
    change: float | None  # since the previous value, in the latest value's unit
    spark: list[float]
    exact: str = ""  # the value as stored, for the tooltip


@dataclass
class RecentImport:
    title: str
    when: date  # the report's date (collection, else issue), else the day it was imported
    results: int


@dataclass
class Dashboard:
    tiles: list[Tile]
    recent: list[RecentImport]
    counts: dict[str, int]


def dashboard(vault: Vault, profile_id: str) -> Dashboard:
    observations = vault.repo.observations(profile_id)
    by_key: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        by_key[series_key(o)].append(o)
    tiles: list[Tile] = []
    for key, obs in by_key.items():
        obs.sort(key=lambda o: (o.effective, o.created_at))
        latest = obs[-1]
        series = build_series(obs, latest.unit)
        spark = [v for _, v in series.points][-12:] if series else []
        change = change_since_previous_date(series) if latest.value_num is not None else None
        tiles.append(
            Tile(
                name=latest.analyte,
                key=key,
                value=fmt_value(latest.value_num)
                if latest.value_text is None and latest.value_num is not None
                else latest.display_value(),
                exact=latest.display_value(),
                unit=latest.unit or "",
                flag=latest.flag,
                effective=latest.effective,
                change=change,
                spark=spark,
            )
        )
    # Out-of-range first, then the most recently measured.
    tiles.sort(
        key=lambda t: (not is_out_of_range(t.flag), -t.effective.toordinal(), t.name.lower())
    )
    reports = vault.repo.records(DiagnosticReport, profile_id, order="created_at DESC")
    per_report: dict[str | None, int] = defaultdict(int)
    for o in observations:
        per_report[o.report_id] += 1
    recent = [
        RecentImport(
            r.title, r.effective or r.issued or r.created_at.date(), per_report.get(r.id, 0)
        )
        for r in reports[:5]
    ]
    if not recent:
        docs = vault.repo.records(Document, profile_id, order="created_at DESC")
        recent = [RecentImport(d.filename, d.created_at.date(), 0) for d in docs[:5]]
    counts = vault.repo.counts(profile_id)
    return Dashboard(tiles, recent, counts)
