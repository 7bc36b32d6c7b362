"""``partial_period``: the first or last day cut short, a delivery made before the day
ended (or an export that starts mid-day).

Days are read in two conventions: UTC days, and local days at each ping's place. In
each, a day's usual profile over its hours (a trimmed mean of whole days' shares) says
how much of a day falls after the last ping (or before the first): an edge is cut when
those hours expected clearly more than nothing and the day would have held a good
share more. A delivery that ends on a midnight of either convention is complete in its
own days: exports by UTC days of a city in another zone make the local edge days short
by construction, so an edge is only cut when it is cut in both conventions. It is then
told in the convention in which the other edge is whole (the delivery's own), or else
in the kinder one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from explorer.detectors.context import Context
from explorer.detectors.needs import SEVERAL_DAYS, check
from explorer.detectors.panel.expected import (
    expected_range,
    hourly_model,
    rolling_median,
    shortfall_p,
    trimmed_mean,
    usable_days,
)
from explorer.findings import Finding
from explorer.summary.panel import hour_start, iso_hour
from explorer.text import count, pct

CONVENTIONS = ("utc", "local")
_WORDS = {"utc": "UTC days", "local": "local days at each ping's place"}


@dataclass(frozen=True)
class DayGrid:
    """Pings per day and hour of the day in one day convention: ``counts[d, p]`` holds
    the pings of day ``first_day + d`` in UTC hour ``24 * day + first_pos + p``."""

    convention: str
    counts: np.ndarray
    first_day: int
    first_pos: int
    shares: np.ndarray
    #: A usual whole day's pings next to the first and to the last day.
    typical_days: tuple[float, float]

    def hour(self, day: int, pos: int) -> int:
        """The UTC hour (since the epoch) of position ``pos`` of grid row ``day``."""
        return 24 * (self.first_day + day) + self.first_pos + pos


@dataclass(frozen=True)
class Edge:
    """One edge of the delivery read in one convention."""

    convention: str
    seen: float
    missing: float
    present: float
    p_value: float
    grid: DayGrid
    row: int
    typical_day: float


@check("partial_period", SEVERAL_DAYS)
def detect_partial_period(ctx: Context) -> list[Finding]:
    """The first or last day cut short in both day conventions."""
    settings = ctx.config.panel_gaps
    period = ctx.summary.tables["period_hours"].filter(pl.col("pings") > 0)
    if period.is_empty():
        return []
    model = hourly_model(ctx.hourly, ctx.summary.tables["period_hours"], settings)
    dispersion = model.dispersion if model is not None else 1.0
    grids = [g for c in CONVENTIONS if (g := day_grid(period, c, settings)) is not None]
    if len(grids) < len(CONVENTIONS):
        return []
    start, end = int(period["hour"].min()), int(period["hour"].max()) + 1
    edges = {
        "start": [_edge(g, start, "start", dispersion) for g in grids],
        "end": [_edge(g, end, "end", dispersion) for g in grids],
    }
    alpha = ctx.config.severity.fdr
    whole = {
        side: {e.convention for e in found if not _cut(e, settings.partial_day_share, alpha)}
        for side, found in edges.items()
    }
    findings = []
    for side, other in (("start", "end"), ("end", "start")):
        if whole[side]:
            continue
        told = _told(edges[side], edges[other], whole[other])
        findings.append(_finding(told, side, start if side == "start" else end, settings))
    return findings


def day_grid(period: pl.DataFrame, convention: str, settings) -> DayGrid | None:
    """The (day, hour of the day) grid of ``period_hours`` rows in ``convention``, with
    the usual share of a day per position and a typical whole day's pings."""
    hour = period["hour"].to_numpy().astype(np.int64)
    if convention == "utc":
        day = hour // 24
    else:
        day = period["day"].cast(pl.Int32).to_numpy().astype(np.int64)
    pos = hour - 24 * day
    first_day, first_pos = int(day.min()), int(pos.min())
    counts = np.zeros((int(day.max()) - first_day + 1, int(pos.max()) - first_pos + 1))
    np.add.at(counts, (day - first_day, pos - first_pos), period["pings"].to_numpy())
    kept = _without_strays(counts.sum(axis=1), settings.stray_day_share)
    counts, first_day = counts[kept], first_day + int(kept[0]) if kept.size else first_day
    inner = counts[1:-1]
    if inner.shape[0] < settings.min_whole_days:
        return None
    totals = inner.sum(axis=1)
    usable = usable_days(totals, settings) & (totals > 0)
    if not usable.any():
        return None
    shares = inner[usable] / totals[usable, None]
    profile = np.array(
        [trimmed_mean(shares[:, p], settings.trim_share) for p in range(shares.shape[1])]
    )
    profile = profile / max(profile.sum(), 1e-12)
    levels = rolling_median(np.where(usable, totals, np.nan), settings.level_window_days // 2)
    return DayGrid(convention, counts, first_day, first_pos, profile, (levels[0], levels[-1]))


def _without_strays(totals: np.ndarray, stray_share: float) -> np.ndarray:
    """Row numbers from the first to the last day holding at least ``stray_share`` of
    a usual day (a traveller's few pings on the next local date are not a day)."""
    usual = float(np.median(totals[1:-1])) if totals.size > 2 else float(np.median(totals))
    real = np.flatnonzero(totals >= stray_share * usual)
    return np.arange(real[0], real[-1] + 1) if real.size else np.arange(0)


def _edge(grid: DayGrid, instant: int, side: str, dispersion: float) -> Edge:
    """How much of the edge day in ``grid`` lies beyond the delivery's edge ``instant``
    (its first hour for the start, the hour after its last for the end)."""
    row = 0 if side == "start" else grid.counts.shape[0] - 1
    positions = np.array([grid.hour(row, p) for p in range(grid.shares.size)])
    beyond = positions < instant if side == "start" else positions >= instant
    seen = float(grid.counts[row].sum())
    typical = grid.typical_days[0 if side == "start" else 1]
    missing = float(grid.shares[beyond].sum()) * typical
    present = seen / (seen + missing) if seen + missing > 0 else 1.0
    p_value = float(shortfall_p(np.array([0.0]), np.array([missing]), dispersion)[0])
    return Edge(grid.convention, seen, missing, present, p_value, grid, row, typical)


def _cut(edge: Edge, partial_share: float, alpha: float) -> bool:
    return edge.present < partial_share and edge.p_value < alpha


def _told(edges: list[Edge], others: list[Edge], whole_other: set[str]) -> Edge:
    """The edge as told: in the delivery's own convention, the one in which its other
    edge is whole (the most whole, if both), else in the kinder convention."""
    other_present = {e.convention: e.present for e in others}
    return max(
        edges,
        key=lambda e: (e.convention in whole_other, other_present[e.convention], e.present),
    )


def _finding(edge: Edge, side: str, instant: int, settings) -> Finding:
    evidence = _evidence(edge, side, instant)
    present = evidence["present_share"]
    severity = "medium" if present < settings.medium_partial_share else "low"
    positions = [edge.grid.hour(edge.row, p) for p in np.flatnonzero(edge.grid.shares > 0)]
    if side == "end":
        period = {"start": iso_hour(instant - 1), "end": iso_hour(max(positions) + 1)}
    else:
        period = {"start": iso_hour(min(positions)), "end": iso_hour(instant + 1)}
    title, story = _words(evidence, side, instant)
    score = round(100.0 * (1.0 - present), 4)
    return Finding("partial_period", severity, score, title, story, (), evidence, period)


def _evidence(edge: Edge, side: str, instant: int) -> dict[str, Any]:
    grid, row = edge.grid, edge.row
    low, high = expected_range(edge.missing, 1.0)
    expected = grid.shares * edge.typical_day
    day = dt.date(1970, 1, 1) + dt.timedelta(days=grid.first_day + row)
    return {
        "edge": side,
        "day": day.isoformat(),
        "day_convention": edge.convention,
        "cut_at": iso_hour(instant),
        "pings_seen": int(edge.seen),
        "pings_missing_expected": round(edge.missing, 1),
        "pings_missing_low": round(low, 1),
        "pings_missing_high": round(high, 1),
        "pings_typical_day": round(edge.typical_day, 1),
        "present_share": round(edge.present, 4),
        "p_value": edge.p_value,
        "day_hours": {
            "hours": [iso_hour(grid.hour(row, p)) for p in range(grid.shares.size)],
            "observed": [int(v) for v in grid.counts[row]],
            "expected": [round(float(v), 1) for v in expected],
        },
    }


def _when(hour: int) -> str:
    instant = hour_start(hour)
    return f"{instant.day} {instant:%B %H:%M} UTC"


def _words(evidence: dict[str, Any], side: str, instant: int) -> tuple[str, str]:
    share = pct(evidence["present_share"])
    missing = count(evidence["pings_missing_expected"])
    days = _WORDS[evidence["day_convention"]]
    if side == "end":
        title = f"The last day stops at {_when(instant)}: {share} of a day delivered"
        what = f"The data stops at {_when(instant)}, before its last day ({days}) ended"
    else:
        title = f"The first day starts at {_when(instant)}: {share} of a day delivered"
        what = f"The data starts at {_when(instant)}, after its first day ({days}) began"
    story = (
        f"{what}: that day holds {share} of a usual day's pings, about {missing} short. "
        "Daily counts and trends that include it read a drop that did not happen. "
        "Leave the day out, or ask whether a later delivery completes it."
    )
    return title, story
