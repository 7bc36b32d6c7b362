"""Compacting the two O(pings) tables of a summary to what the detectors read.

``coords`` (exact coordinate × device) and ``rows`` (row hashes) have about one row per
ping. The detectors use only part of them:

- ``coords``: coordinates on two or more rows (pile-ups, venue snapping: every
  coordinate shared by two devices is on two rows), rows within the null-island radius
  (null island, precision's exact zeros), and rows outside the disk around the data's
  main mass (distant points, swapped coordinates; the disk test is the detectors' own
  cheap superset, they measure exact distances on what is kept);
- ``rows``: hashes seen more than once (duplicates); the total is the number of pings
  used, kept by the summary itself.

A compacted summary gives the same findings as the full one under the same
configuration (the main mass and the null-island radius come from it). The tables are
hash-partitioned by the keys that decide what is kept — (lat, lon) for coords, the row
hash for rows — so each partition can be reduced and compacted on its own, on disk or
on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from explorer.config import Config
from explorer.summary import HASH_SEED, TABLES, Summary

#: The tables compacted, and the keys their partitions are cut by.
PARTITION_KEYS: dict[str, tuple[str, ...]] = {"coords": ("lat", "lon"), "rows": ("row_hash",)}


@dataclass(frozen=True)
class CoordsKeep:
    """Which coords rows to keep besides shared coordinates (plain numbers: picklable)."""

    radius_deg: float
    lat: float | None = None
    lon: float | None = None
    far_km: float | None = None

    def expr(self) -> pl.Expr:
        from explorer.detectors.places_common import near_null_island, outside_disk

        lat, lon = pl.col("lat"), pl.col("lon")
        keep = near_null_island(lat, lon, self.radius_deg)
        if self.lat is not None and self.lon is not None and self.far_km is not None:
            keep = keep | outside_disk(lat, lon, self.lat, self.lon, self.far_km)
        return keep


def coords_keep(summary: Summary, config: Config | None = None) -> CoordsKeep:
    """The keep rule from a summary whose cell tables are complete (coords not needed)."""
    from explorer.detectors.context import Context
    from explorer.detectors.places_common import main_mass

    config = config or Config()
    mass = main_mass(Context(summary, config))
    radius = config.places.null_island_radius_deg
    if mass is None:
        return CoordsKeep(radius)
    return CoordsKeep(radius, mass.lat, mass.lon, mass.far_km)


def reduce_table(name: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Rows of one table from several partial summaries, combined by key."""
    keys, values = TABLES[name]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=_schema(name))
    stacked = pl.concat(frames, how="vertical_relaxed")
    return stacked.group_by(list(keys)).agg(pl.col(v).sum() for v in values)


def _schema(name: str) -> dict[str, pl.DataType]:
    if name == "coords":
        return {"lat": pl.Float64, "lon": pl.Float64, "device": pl.UInt64, "pings": pl.Int64}
    return {"row_hash": pl.UInt64, "pings": pl.Int64}


def compact_table(name: str, frame: pl.DataFrame, keep: CoordsKeep) -> pl.DataFrame:
    """The rows detectors read from one reduced partition (or a whole reduced table)."""
    if name == "rows":
        return frame.filter(pl.col("pings") > 1)
    shared = pl.len().over("lat", "lon") >= 2
    return frame.filter(shared | keep.expr())


def partition(frame: pl.DataFrame, name: str, parts: int) -> dict[int, pl.DataFrame]:
    """Split a table into ``parts`` pieces by a hash of its partition keys."""
    if parts <= 1:
        return {0: frame}
    index = pl.struct(PARTITION_KEYS[name]).hash(HASH_SEED) % parts
    split = frame.with_columns(_part=index.cast(pl.Int64)).partition_by("_part", as_dict=True)
    return {int(key[0]): piece.drop("_part") for key, piece in split.items()}


def compact(summary: Summary, config: Config | None = None) -> Summary:
    """The summary with ``coords`` and ``rows`` cut to what the detectors read."""
    keep = coords_keep(summary, config)
    tables = dict(summary.tables)
    for name in PARTITION_KEYS:
        tables[name] = compact_table(name, tables[name], keep)
    return replace(summary, tables=tables)
