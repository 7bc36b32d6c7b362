"""Usable-panel rules: which devices can be followed, and what a rule keeps.

A rule asks for at least N active days on each of which a device covers at least M
distinct local hours (the vendors' "days seen" and "hours seen per day", mobilkit's and
trackintel's thresholds). Read from ``device_days`` (pings and the bitmask of local
hours per device and day), so it merges like every table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.errors import PingFileError
from explorer.summary.tables import Summary

#: Days and hours a survival table tries: the rules people quote, from "seen once" to
#: four weeks, and from one hour a day to Geopath's "about 8 hours" and beyond.
DAYS_GRID = (1, 2, 3, 5, 7, 14, 21, 28)
HOURS_GRID = (1, 2, 4, 6, 8, 12)
_HOURS = 24


@dataclass(frozen=True)
class PanelRule:
    """Keep devices active on at least ``min_days`` days with ``min_hours`` distinct
    local hours each."""

    min_days: int = 1
    min_hours: int = 1

    def __post_init__(self) -> None:
        if self.min_days < 1 or not 1 <= self.min_hours <= _HOURS:
            raise ValueError(f"A panel rule needs days >= 1 and hours in 1-24, not {self}.")

    def words(self) -> str:
        """The rule in words: "at least 3 days with 4 or more hours seen"."""
        days = "day" if self.min_days == 1 else "days"
        hours = "hour" if self.min_hours == 1 else "hours"
        return f"at least {self.min_days} {days} with {self.min_hours} or more {hours} seen"

    def text(self) -> str:
        """The rule as ``N,M``, as the command line and share links write it."""
        return f"{self.min_days},{self.min_hours}"


def parse_rule(text: str) -> PanelRule:
    """``"N,M"`` (active days, hours a day) as a rule; a clear error otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise PingFileError(
            f"The panel rule {text!r} is not two whole numbers N,M; write e.g. 3,4 for "
            "devices seen on at least 3 days with 4 or more hours each."
        )
    days, hours = (int(p) for p in parts)
    if days < 1 or not 1 <= hours <= _HOURS:
        raise PingFileError(
            f"The panel rule {text!r} needs at least 1 day and 1 to 24 hours a day; write e.g. 3,4."
        )
    return PanelRule(days, hours)


def _day_hours(summary: Summary) -> pl.DataFrame:
    """Per device and local day: pings and distinct local hours seen."""
    return summary.tables["device_days"].select(
        "device", "pings", hours=pl.col("hour_mask").bitwise_count_ones().cast(pl.Int64)
    )


def qualifying_days(summary: Summary, hours_grid: tuple[int, ...] = HOURS_GRID) -> pl.DataFrame:
    """Per device: its pings and, for each M of ``hours_grid``, the days with M or more
    local hours seen (columns ``days_h{M}``)."""
    day_hours = _day_hours(summary)
    return day_hours.group_by("device").agg(
        pl.col("pings").sum(),
        *((pl.col("hours") >= m).sum().cast(pl.Int64).alias(f"days_h{m}") for m in hours_grid),
    )


def kept_devices(summary: Summary, rule: PanelRule) -> pl.Series:
    """The device hashes that meet ``rule``."""
    per_device = qualifying_days(summary, (rule.min_hours,))
    kept = per_device.filter(pl.col(f"days_h{rule.min_hours}") >= rule.min_days)
    return kept["device"]


def survival_table(
    summary: Summary,
    days_grid: tuple[int, ...] = DAYS_GRID,
    hours_grid: tuple[int, ...] = HOURS_GRID,
    per_device: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """What each rule of the grid keeps: min_days, min_hours, devices, device_share,
    pings, ping_share (of the pings with a device id). Days beyond the period's are
    left out of the grid (no device could meet them). ``per_device`` is
    :func:`qualifying_days` of the summary for (at least) ``hours_grid``, if already
    derived."""
    if per_device is None:
        per_device = qualifying_days(summary, hours_grid)
    total_devices, total_pings = per_device.height, int(per_device["pings"].sum() or 0)
    n_days = summary.tables["device_days"]["day"].n_unique()
    grid = [d for d in days_grid if d <= max(n_days, 1)]
    pings = per_device["pings"].to_numpy()
    rows = []
    for m in hours_grid:
        days = per_device[f"days_h{m}"].to_numpy()
        for n in grid:
            kept = days >= n
            kept_pings = int(pings[kept].sum())
            rows.append(
                {
                    "min_days": n,
                    "min_hours": m,
                    "devices": int(kept.sum()),
                    "device_share": _share(int(kept.sum()), total_devices),
                    "pings": kept_pings,
                    "ping_share": _share(kept_pings, total_pings),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "min_days": pl.Int64,
            "min_hours": pl.Int64,
            "devices": pl.Int64,
            "device_share": pl.Float64,
            "pings": pl.Int64,
            "ping_share": pl.Float64,
        },
    )


def cells_kept(summary: Summary, rule: PanelRule) -> pl.DataFrame:
    """Per cell: devices, devices_kept by ``rule`` and share_lost (of the cell's
    devices): the areas a rule empties most."""
    kept = kept_devices(summary, rule).to_frame("device").with_columns(kept=pl.lit(True))
    return (
        summary.tables["cell_devices"]
        .select("cell", "device")
        .join(kept, on="device", how="left")
        .group_by("cell")
        .agg(
            devices=pl.len().cast(pl.Int64),
            devices_kept=pl.col("kept").fill_null(False).sum().cast(pl.Int64),
        )
        .with_columns(share_lost=1.0 - pl.col("devices_kept") / pl.col("devices"))
        .sort("cell")
    )


def _share(part: int, whole: int) -> float:
    return float(np.divide(part, whole)) if whole else 0.0
