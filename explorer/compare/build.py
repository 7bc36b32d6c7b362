"""Comparing two analyses: the checks run in order, and the comparison as data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from explorer.analysis import Analysis
from explorer.binning.cells import cells_to_str
from explorer.compare.areas import choose_areas, detect_area_shares
from explorer.compare.changes import Change, rank_changes
from explorer.compare.matching import Match, finding_changes
from explorer.compare.mixes import detect_area_mixes
from explorer.compare.panel import detect_panel, panel_figures
from explorer.config import Config
from explorer.engines.choose import analyze_source
from explorer.summary.panel import daily_series

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Comparison:
    """Two analyses at one resolution, and what changed from the first to the second."""

    before: Analysis
    after: Analysis
    area_resolution: int
    changes: list[Change]
    matches: list[Match]
    #: Every area seen on either side: devices whose main area it is, shares, p-value.
    areas: pl.DataFrame
    #: Devices per day and pings per device of both sides, with intervals (or None).
    panel: dict[str, Any] = field(default_factory=dict)

    @property
    def resolution(self) -> int:
        return self.before.resolution


def compare_analyses(before: Analysis, after: Analysis, config: Config | None = None) -> Comparison:
    """What changed from ``before`` to ``after`` (analysed at the same resolution)."""
    if before.resolution != after.resolution:
        raise ValueError(
            f"Both analyses need one resolution to be compared, not {before.resolution} "
            f"and {after.resolution}; analyse both at the same --resolution."
        )
    settings = (config or after.config).compare
    areas = choose_areas(before.summary, after.summary, settings)
    share_changes, table = detect_area_shares(areas, settings)
    skipped_after = {s.check: s.reason for s in after.skipped}
    found, matches = finding_changes(before.findings, after.findings, skipped_after, settings)
    times = (before.profile()["time"], after.profile()["time"])
    changes = (
        found
        + share_changes
        + detect_area_mixes(before.summary, after.summary, areas.resolution, settings)
        + detect_panel(before.summary, after.summary, times, settings)
    )
    return Comparison(
        before=before,
        after=after,
        area_resolution=areas.resolution,
        changes=rank_changes(changes, settings.max_changes_per_kind),
        matches=matches,
        areas=table,
        panel=panel_figures(before.summary, after.summary),
    )


def compare_sources(
    before: str | Path | bytes,
    after: str | Path | bytes,
    *,
    resolution: int | None = None,
    before_columns: Mapping[str, str] | None = None,
    after_columns: Mapping[str, str] | None = None,
    before_tz: str | None = None,
    after_tz: str | None = None,
    config: Config | None = None,
    engine: str = "auto",
    chunk_rows: int | None = None,
    progress: Progress = _quiet,
) -> Comparison:
    """Analyse both sources (files, folders, globs or bytes) at one resolution, by
    default the one suggested for ``after``, and compare them."""
    config = config or Config()
    options = {"config": config, "engine": engine, "chunk_rows": chunk_rows, "progress": progress}
    progress("analysing the after delivery")
    analysed_after = analyze_source(
        after, resolution=resolution, columns=after_columns, tz=after_tz, **options
    )
    progress(f"analysing the before delivery at resolution {analysed_after.resolution}")
    analysed_before = analyze_source(
        before,
        resolution=analysed_after.resolution,
        columns=before_columns,
        tz=before_tz,
        **options,
    )
    progress("comparing")
    return compare_analyses(analysed_before, analysed_after, config)


def daily_points(analysis: Analysis) -> list[dict[str, Any]]:
    """The side's daily series (day, pings, devices, pings_per_device) as JSON rows."""
    series = daily_series(analysis.summary)
    return [
        {
            "day": row["day"].isoformat(),
            "pings": int(row["pings"] or 0),
            "devices": int(row["devices"] or 0),
            "pings_per_device": row["pings_per_device"],
        }
        for row in series.select("day", "pings", "devices", "pings_per_device").iter_rows(
            named=True
        )
    ]


def side_dict(analysis: Analysis) -> dict[str, Any]:
    """One side of the comparison: where it came from, what was read, when, its panel."""
    profile = analysis.profile()
    devices = analysis.summary.tables["devices"]
    return {
        "source": analysis.source,
        "provenance": analysis.provenance(),
        "rows": profile["rows"],
        "time": profile["time"],
        "suggested_resolution": analysis.suggested_resolution,
        "devices": int(devices["device"].n_unique()) if devices.height else 0,
        "findings": {
            level: sum(f.severity == level for f in analysis.findings)
            for level in ("high", "medium", "low")
        },
        "daily": daily_points(analysis),
    }


def area_rows(table: pl.DataFrame) -> list[dict[str, Any]]:
    """Every area's devices and shares on both sides (for a diff map)."""
    cells = cells_to_str(table["area"].to_list())
    return [
        {
            "cell": cell,
            "before_devices": int(row["before"]),
            "after_devices": int(row["after"]),
            "before_share": float(row["before_share"]),
            "after_share": float(row["after_share"]),
            "p_value": float(row["p_value"]),
        }
        for cell, row in zip(cells, table.iter_rows(named=True))
    ]


def unchanged_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """Findings in both deliveries that did not change enough to be told."""
    told = {
        (c.evidence.get("before_finding") or {}).get("id")
        for c in comparison.changes
        if c.kind == "finding_changed"
    }
    return [
        {
            "kind": m.before.kind,
            "before_id": m.before.id,
            "after_id": m.after.id,
            "before_severity": m.before.severity,
            "after_severity": m.after.severity,
            "cells": list(m.after.cells),
        }
        for m in comparison.matches
        if m.before.id not in told
    ]
