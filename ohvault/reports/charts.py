"""Trend charts with matplotlib (imported lazily: it costs start-up time).

Plain matplotlib `Figure` objects (no Qt here), so the same drawing serves the
GUI's embedded canvas (GUI thread), the visit summary PDF (worker thread or CLI,
Agg) and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ohvault.model import is_out_of_range
from ohvault.reports.trends import MedicationSpan, Series
from ohvault.ucum import display_unit


@dataclass(frozen=True)
class Palette:
    text: str
    muted: str
    grid: str
    background: str
    line: str
    band: str
    high: str
    low: str
    med: str


LIGHT = Palette(
    "#1d2a30",
    "#60727a",
    "#e3e8ea",
    "#ffffff",
    "#1f8a7d",
    "#2e8b57",
    "#c8372d",
    "#2a6fdb",
    "#8a5cc2",
)
DARK = Palette(
    "#e6eaec",
    "#98a6ad",
    "#333a40",
    "#1f2428",
    "#3cb7a6",
    "#58c08a",
    "#ff6b5e",
    "#6ea8ff",
    "#b48ef0",
)


@dataclass
class Plotted:
    axes: Any
    series: Series
    dates: list[date]
    values: list[float]


def _in_range(d: date, since: date | None, until: date | None) -> bool:
    return (since is None or d >= since) and (until is None or d <= until)


def draw_trends(
    fig: Any,
    series_list: list[Series],
    medications: list[MedicationSpan] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    palette: Palette = LIGHT,
) -> list[Plotted]:
    """One panel per analyte (units differ), sharing the time axis."""
    import matplotlib.dates as mdates

    fig.clear()
    fig.set_facecolor(palette.background)
    plotted: list[Plotted] = []
    if not series_list:
        return plotted
    n = len(series_list)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, series in zip(axes, series_list, strict=True):
        pts = [
            (d, v, f)
            for (d, v), f in zip(series.points, series.flags, strict=True)
            if _in_range(d, since, until)
        ]
        dates = [p[0] for p in pts]
        values = [p[1] for p in pts]
        ax.set_facecolor(palette.background)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color(palette.grid)
        ax.tick_params(colors=palette.muted, labelsize=8)
        ax.grid(True, axis="y", color=palette.grid, linewidth=0.7)
        if values:
            # Limits from the data and the reference range, so an open-ended range ("< 100")
            # does not drag the axis to zero.
            bounds = [*values, *(r for r in (series.ref_low, series.ref_high) if r is not None)]
            lo_v, hi_v = min(bounds), max(bounds)
            pad = (hi_v - lo_v) * 0.12 or abs(hi_v) * 0.1 or 1.0
            ax.set_ylim(lo_v - pad, hi_v + pad)
        if series.ref_low is not None or series.ref_high is not None:
            lo = series.ref_low if series.ref_low is not None else -1e12
            hi = series.ref_high if series.ref_high is not None else 1e12
            ax.axhspan(lo, hi, color=palette.band, alpha=0.12, linewidth=0, label="reference range")
        ax.plot(
            dates, values, color=palette.line, linewidth=1.8, marker="o", markersize=4, zorder=3
        )
        out = [
            (d, v)
            for d, v, f in pts
            if is_out_of_range(f)
            or (series.ref_high is not None and v > series.ref_high)
            or (series.ref_low is not None and v < series.ref_low)
        ]
        if out:
            ax.scatter(
                [d for d, _ in out],
                [v for _, v in out],
                s=46,
                color=palette.high,
                zorder=4,
                edgecolors=palette.background,
                linewidths=1.2,
                label="out of range",
            )
        unit = display_unit(series.unit)
        title = f"{series.name}" + (f"  ({unit})" if unit else "")
        ax.set_title(title, loc="left", fontsize=10, color=palette.text, fontweight="bold")
        plotted.append(Plotted(ax, series, dates, values))
    events = sorted(
        (
            (when, med.name, verb, style)
            for med in medications or []
            for when, verb, style in ((med.start, "started", "-"), (med.end, "stopped", "--"))
            if when is not None and _in_range(when, since, until)
        ),
        key=lambda e: e[0],
    )
    for marker, (when, name, verb, style) in enumerate(events):
        for ax in axes:
            ax.axvline(when, color=palette.med, linewidth=1, linestyle=style, alpha=0.8, zorder=2)
        # Staggered so that markers close in time do not print over each other.
        axes[0].annotate(
            f"{name} {verb}",
            xy=(when, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2 - 10 * (marker % 3)),
            textcoords="offset points",
            fontsize=7,
            color=palette.med,
            va="top",
            bbox={
                "boxstyle": "round,pad=0.15",
                "fc": palette.background,
                "ec": "none",
                "alpha": 0.85,
            },
        )
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if since or until:
        lo_d = since or min((p.dates[0] for p in plotted if p.dates), default=None)
        hi_d = until or max((p.dates[-1] for p in plotted if p.dates), default=None)
        if lo_d and hi_d and lo_d < hi_d:
            axes[-1].set_xlim(lo_d, hi_d)
    fig.tight_layout(h_pad=1.6)
    return plotted


def nearest_point(
    plotted: list[Plotted], ax: Any, x_px: float, y_px: float, radius: float = 12.0
) -> tuple[Plotted, int] | None:
    """The plotted point nearest to a mouse position (display pixels), within `radius`."""
    import matplotlib.dates as mdates

    best: tuple[float, Plotted, int] | None = None
    for p in plotted:
        if p.axes is not ax or not p.dates:
            continue
        xy = p.axes.transData.transform(
            [(mdates.date2num(d), v) for d, v in zip(p.dates, p.values, strict=True)]
        )
        for i, (px, py) in enumerate(xy):
            dist = ((px - x_px) ** 2 + (py - y_px) ** 2) ** 0.5
            if dist <= radius and (best is None or dist < best[0]):
                best = (dist, p, i)
    return (best[1], best[2]) if best else None


def new_figure(width_in: float = 8.0, height_in: float = 5.0, dpi: int = 100) -> Any:
    """A Figure not tied to pyplot (safe on a worker thread)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=dpi)
