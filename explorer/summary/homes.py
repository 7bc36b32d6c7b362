"""Home inference: the cell where each device spends most of its nights, or none.

Read from ``device_nights`` (night pings per device, cell and night), so it merges like
every table. A device's home is the cell, at a stated resolution, holding the most of
its nights (then the most night pings; then the smallest id, so ties are decided the
same way in every run). It counts only when the device was seen on enough nights and
the home holds a clear share of them; other devices are counted, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from explorer.binning.cells import cells_to_parent
from explorer.summary.tables import Summary

#: Why a device has no confident home (in the order they are checked).
NO_NIGHTS, FEW_NIGHTS, UNCLEAR = "no_nights", "too_few_nights", "no_clear_home"


@dataclass(frozen=True)
class HomeRule:
    """A home is a cell at ``resolution`` holding at least ``min_share`` of a device's
    nights, seen on at least ``min_nights`` nights."""

    resolution: int = 8
    min_nights: int = 3
    min_share: float = 0.5


def home_table(summary: Summary, rule: HomeRule) -> pl.DataFrame:
    """One row per device seen at night: device, home (its most-slept cell at
    ``min(rule.resolution, summary's)``), nights, home_nights, home_share, and
    ``reason`` (null when the home is confident, else FEW_NIGHTS or UNCLEAR)."""
    nights = summary.tables["device_nights"]
    if nights.is_empty():
        return pl.DataFrame(
            schema={
                "device": pl.UInt64,
                "home": pl.UInt64,
                "nights": pl.Int64,
                "home_nights": pl.Int64,
                "home_share": pl.Float64,
                "reason": pl.String,
            }
        )
    resolution = min(rule.resolution, summary.resolution)
    coarse = nights.with_columns(home=cells_to_parent(nights["cell"], resolution))
    per_cell = coarse.group_by("device", "home").agg(
        home_nights=pl.col("night").n_unique().cast(pl.Int64),
        night_pings=pl.col("pings").sum(),
    )
    best = (
        per_cell.sort(
            ["device", "home_nights", "night_pings", "home"], descending=[False, True, True, False]
        )
        .group_by("device", maintain_order=True)
        .first()
    )
    total = nights.group_by("device").agg(nights=pl.col("night").n_unique().cast(pl.Int64))
    share = pl.col("home_nights") / pl.col("nights")
    reason = (
        pl.when(pl.col("nights") < rule.min_nights)
        .then(pl.lit(FEW_NIGHTS))
        .when(share < rule.min_share)
        .then(pl.lit(UNCLEAR))
        .otherwise(pl.lit(None, pl.String))
    )
    return (
        best.join(total, on="device")
        .select("device", "home", "nights", "home_nights", home_share=share, reason=reason)
        .sort("device")
    )


def home_counts(summary: Summary, rule: HomeRule) -> dict[str, int]:
    """Devices by what home inference made of them: ``devices`` (all with an id),
    ``with_home`` and one count per reason for the others (NO_NIGHTS: never seen at
    night)."""
    table = home_table(summary, rule)
    devices = summary.tables["devices"]["device"].n_unique()
    reasons = table["reason"].value_counts()
    by_reason = dict(zip(reasons["reason"].to_list(), reasons["count"].to_list(), strict=True))
    return {
        "devices": int(devices),
        "with_home": int(by_reason.get(None, 0)),
        NO_NIGHTS: int(devices - table.height),
        FEW_NIGHTS: int(by_reason.get(FEW_NIGHTS, 0)),
        UNCLEAR: int(by_reason.get(UNCLEAR, 0)),
    }


def homes_per_cell(summary: Summary, rule: HomeRule) -> pl.DataFrame:
    """Devices with a confident home per home cell (cell, home_devices)."""
    table = home_table(summary, rule).filter(pl.col("reason").is_null())
    return (
        table.group_by(pl.col("home").alias("cell"))
        .agg(home_devices=pl.len().cast(pl.Int64))
        .sort("cell")
    )
