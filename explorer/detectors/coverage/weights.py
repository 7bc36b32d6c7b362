"""Post-stratification weights as tables a user can join to their own counts: per
region, and per device (by hash, or under the user's own device ids).

The weights themselves are made in :func:`explorer.detectors.coverage.rates.region_weights`
(residents per home device, capped at ``max_weight_to_median`` times the median
device's weight, scaled to mean 1 over devices); this module lays them out.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from explorer.config import Config
from explorer.detectors.coverage.rates import CoverageTable, coverage_table, device_homes
from explorer.reading.device_hash import device_hashes
from explorer.summary.tables import Summary

#: Columns of the per-region weights table, in order.
REGION_COLUMNS = (
    "id",
    "name",
    "residents",
    "home_devices",
    "rate",
    "rate_low",
    "rate_high",
    "weight",
    "weight_capped",
)


def region_weights_frame(table: CoverageTable) -> pl.DataFrame:
    """Per region: id, name, residents, home devices, rate per 1,000 residents with its
    interval, weight and whether it was capped (null weight: no homes or residents)."""
    return table.regions.rename({"region_id": "id"}).select(REGION_COLUMNS)


def device_weights(summary: Summary, reference: Any, config: Config) -> pl.DataFrame:
    """Per device with a confident home inside a region: ``device`` (hash),
    ``region_id`` and ``weight`` (its region's; null when the region has no residents).
    Devices without a confident home, or with a home outside every region, get none."""
    table = coverage_table(summary, reference, config)
    homes = device_homes(summary, reference, config).filter(pl.col("region_id").is_not_null())
    return (
        homes.join(table.regions.select("region_id", "weight"), on="region_id", how="left")
        .select("device", "region_id", "weight")
        .sort("device")
    )


def device_weights_by_id(
    summary: Summary, reference: Any, config: Config, device_ids: pl.Series
) -> pl.DataFrame:
    """:func:`device_weights` under the user's own ids: ``device_id``, ``region_id``,
    ``weight``, one row per distinct id of ``device_ids`` (the pings' id column) that
    has a weight. Ids are matched by the same hash the summaries count devices by."""
    weights = device_weights(summary, reference, config)
    ids = pl.DataFrame({"device_id": device_ids.drop_nulls().cast(pl.String).unique()})
    ids = ids.with_columns(device=device_hashes(ids["device_id"]))
    joined = ids.join(weights, on="device", how="inner").sort("device_id")
    return joined.select("device_id", "region_id", "weight")
