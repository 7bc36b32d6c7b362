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

import numpy as np
import polars as pl

from explorer._speed.blocks import blockwise
from explorer._speed.codes import runs
from explorer.binning.cells import cell_centres
from explorer.config import Config
from explorer.reading.device_hash import HASH_SEED
from explorer.summary.mass import (
    mass_of,
    near_null_island,
    near_null_island_mask,
    outside_disk,
    outside_disk_mask,
)
from explorer.summary.tables import ROW_COLUMNS, TABLES, Summary, row_hash

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
        lat, lon = pl.col("lat"), pl.col("lon")
        keep = near_null_island(lat, lon, self.radius_deg)
        if self.lat is not None and self.lon is not None and self.far_km is not None:
            keep = keep | outside_disk(lat, lon, self.lat, self.lon, self.far_km)
        return keep

    def mask(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """:meth:`expr` of numpy arrays, for a row per ping (no polars temporaries)."""
        keep = near_null_island_mask(lat, lon, self.radius_deg)
        if self.lat is not None and self.lon is not None and self.far_km is not None:
            keep |= outside_disk_mask(lat, lon, self.lat, self.lon, self.far_km)
        return keep


def coords_keep(summary: Summary, config: Config | None = None) -> CoordsKeep:
    """The keep rule from a summary whose ``cells`` table is complete (coords not needed)."""
    return keep_rule(summary.tables["cells"], config)


def keep_rule(cells: pl.DataFrame, config: Config | None = None) -> CoordsKeep:
    """The keep rule from a complete ``cells`` table."""
    config = config or Config()
    cells = cells.select("cell", "pings")
    lat, lon = cell_centres(cells["cell"])
    mass = mass_of(cells.with_columns(lat=pl.Series(lat), lon=pl.Series(lon)), config)
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


def reduce_compact(name: str, frames: list[pl.DataFrame], keep: CoordsKeep) -> pl.DataFrame:
    """``compact_table(name, reduce_table(name, frames), keep)``, grouping only what it keeps.

    A row hash or a coordinate that occurs once among the pieces cannot be shared after
    reducing, so only repeated keys (found by sorting), rows a piece already counted
    twice, and rows the keep rule keeps are grouped; the rest is dropped unreduced.
    """
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=_schema(name))
    stacked = pl.concat(frames, how="vertical_relaxed")
    if name == "rows":
        candidates = repeated(stacked["row_hash"].to_numpy()) | (stacked["pings"] > 1)
    else:
        lat, lon = stacked["lat"].to_numpy(), stacked["lon"].to_numpy()
        candidates = repeated(coordinate_keys(stacked["lat"], stacked["lon"]))
        candidates = candidates | pl.Series(keep.mask(lat, lon))
    return compact_table(name, reduce_table(name, [stacked.filter(candidates)]), keep)


def _schema(name: str) -> dict[str, pl.DataType]:
    if name == "coords":
        return {"lat": pl.Float64, "lon": pl.Float64, "device": pl.UInt64, "pings": pl.Int64}
    return {"row_hash": pl.UInt64, "pings": pl.Int64}


#: Rows of a coords table on each row's coordinate: two or more make it shared (kept).
_ROWS_ON_COORDINATE = pl.len().over("lat", "lon")


def compact_table(name: str, frame: pl.DataFrame, keep: CoordsKeep) -> pl.DataFrame:
    """The rows detectors read from one reduced partition (or a whole reduced table)."""
    if name == "rows":
        return frame.filter(pl.col("pings") > 1)
    return frame.filter((_ROWS_ON_COORDINATE >= 2) | keep.expr())


def partition(
    frame: pl.DataFrame, name: str, parts: int, keys: tuple[str, ...] | None = None
) -> dict[int, pl.DataFrame]:
    """Split a table into ``parts`` pieces by a hash of ``keys`` (its partition keys)."""
    if parts <= 1:
        return {0: frame}
    index = _partition_index(frame, keys or PARTITION_KEYS[name], parts)
    split = frame.with_columns(_part=index).partition_by("_part", as_dict=True)
    return {int(key[0]): piece.drop("_part") for key, piece in split.items()}


def _partition_index(frame: pl.DataFrame, keys: tuple[str, ...], parts: int) -> pl.Series:
    """Each row's partition, from the top 32 bits of a 64-bit key of ``keys``.

    A row hash or a device is already a hash, and coordinates are mixed into one key
    (:func:`coordinate_keys`): hashing them again would only add work. The top bits,
    because a round coordinate (40.0) has its low bits all zero, so only the top ones of
    its mixed key differ; they are scaled onto the partitions.
    """
    column = frame[keys[0]] if len(keys) == 1 else None
    if keys == ("lat", "lon"):
        key = coordinate_keys(frame["lat"], frame["lon"])
    elif column is not None and column.dtype == pl.UInt64 and not column.null_count():
        key = column.to_numpy()
    else:
        key = frame.select(pl.struct(keys).hash(HASH_SEED)).to_series().to_numpy()
    top = key >> np.uint64(32)
    top *= np.uint64(parts)
    return pl.Series(top >> np.uint64(32), dtype=pl.UInt32)


def compact(summary: Summary, config: Config | None = None) -> Summary:
    """The summary with ``coords`` and ``rows`` cut to what the detectors read."""
    keep = coords_keep(summary, config)
    tables = dict(summary.tables)
    for name in PARTITION_KEYS:
        tables[name] = compact_table(name, tables[name], keep)
    return replace(summary, tables=tables)


#: Odd 64-bit constants that mix the bits of latitude and longitude into one key.
_MIX_LAT, _MIX_LON = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)


def coordinate_keys(lat: pl.Series, lon: pl.Series) -> np.ndarray:
    """A 64-bit key per point, equal for equal (lat, lon); -0.0 counts as 0.0.

    Different coordinates rarely share a key, and when they do a caller that groups
    the rows sharing a key exactly only looks at a few rows more.
    """
    keys = np.add(lat.to_numpy(), 0.0).view(np.uint64)  # a new array: safe to work in place
    keys *= _MIX_LAT

    def step(lon: np.ndarray, keys: np.ndarray, scratch: np.ndarray) -> None:
        mixed = np.add(lon, 0.0, out=scratch).view(np.uint64)
        mixed *= _MIX_LON
        keys ^= mixed

    blockwise(step, [lon.to_numpy()], [keys], scratch=[np.float64])
    return keys


def repeated(keys: np.ndarray) -> pl.Series:
    """True where a key occurs more than once (found by sorting, not hashing every row)."""
    ordered = np.sort(keys)
    again = ordered[1:][ordered[1:] == ordered[:-1]]  # sorted, so its runs are its values
    twice = again[runs(again)[0]]
    return pl.Series(keys).is_in(pl.Series(twice).implode())


@dataclass(frozen=True)
class Repeats:
    """Prepared pings' part of the compacted tables that needs no keep rule: which pings'
    coordinate may repeat, those pings grouped as coords rows, and the ``rows`` table."""

    candidates: pl.Series
    grouped: pl.DataFrame
    rows: pl.DataFrame


def repeats_of(frame: pl.DataFrame) -> Repeats:
    """The pings whose coordinate repeats, grouped, and the row hashes seen twice.

    A coordinate on two coords rows is on two pings, so grouping the pings whose
    coordinate repeats (or that the keep rule keeps) finds every compacted row;
    identical rows share their coordinate, so a row hash seen twice is among those same
    pings. Column by column: filtering the whole frame would first copy every column
    into one chunk when they are chunked differently.
    """
    candidates = repeated(coordinate_keys(frame["lat"], frame["lon"]))
    repeats = pl.DataFrame([frame[c].filter(candidates) for c in ROW_COLUMNS])
    rows = _rows_seen_twice(repeats.select(row_hash()).to_series().to_numpy())
    return Repeats(candidates, _grouped_repeats(frame, candidates), rows)


def compacted_tables(frame: pl.DataFrame, repeats: Repeats, keep: CoordsKeep) -> dict:
    """``coords`` and ``rows`` of prepared pings, equal to ``compact_table`` of the full
    tables: :func:`repeats_of` and the pings of their own that ``keep`` keeps."""
    return {
        "coords": _coords(frame, repeats.candidates, repeats.grouped, keep),
        "rows": repeats.rows,
    }


def compacted_pings(frames: list[pl.DataFrame], keep: CoordsKeep) -> dict[str, pl.DataFrame]:
    """:func:`compacted_tables` of pings given as ``lat``, ``lon``, ``device`` and their
    ``row_hash`` (the chunked engine spills them so, partitioned by coordinate: identical
    rows share a coordinate, hence a partition)."""
    frames = [f for f in frames if f.height]
    if not frames:
        return {name: pl.DataFrame(schema=_schema(name)) for name in PARTITION_KEYS}
    frame = pl.concat(frames, how="vertical")
    candidates = repeated(coordinate_keys(frame["lat"], frame["lon"]))
    rows = _rows_seen_twice(frame["row_hash"].filter(candidates).to_numpy())
    grouped = _grouped_repeats(frame, candidates)
    return {"coords": _coords(frame, candidates, grouped, keep), "rows": rows}


def _rows_seen_twice(hashes: np.ndarray) -> pl.DataFrame:
    """The ``rows`` table of row hashes: those seen more than once, with their count."""
    hashes = np.sort(hashes)
    starts, counts = runs(hashes)
    many = counts > 1
    return pl.DataFrame(
        {
            "row_hash": pl.Series(hashes[starts[many]], dtype=pl.UInt64),
            "pings": pl.Series(counts[many], dtype=pl.Int64),
        }
    )


def _grouped_repeats(frame: pl.DataFrame, candidates: pl.Series) -> pl.DataFrame:
    """The coords rows of the pings whose coordinate may repeat, each with how many coords
    rows share its coordinate (``_rows``)."""
    points = pl.DataFrame([frame[c].filter(candidates) for c in ("lat", "lon", "device")])
    return _grouped(points).with_columns(_ROWS_ON_COORDINATE.alias("_rows"))


def _coords(
    frame: pl.DataFrame, candidates: pl.Series, grouped: pl.DataFrame, keep: CoordsKeep
) -> pl.DataFrame:
    """The compacted ``coords`` table: the ``grouped`` repeats on a shared coordinate or
    kept by ``keep``; the other pings ``keep`` keeps have a coordinate of their own, so
    each joins as a row of one ping, shared with no other."""
    columns = [frame["lat"], frame["lon"], frame["device"]]
    alone = ~candidates.to_numpy() & keep.mask(frame["lat"].to_numpy(), frame["lon"].to_numpy())
    single_rows = pl.DataFrame(columns).filter(pl.Series(alone))
    return pl.concat(
        [
            grouped.filter((pl.col("_rows") >= 2) | keep.expr()).drop("_rows"),
            single_rows.with_columns(pings=pl.lit(1, dtype=pl.Int64)),
        ]
    )


def _grouped(points: pl.DataFrame) -> pl.DataFrame:
    """The coords rows of pings given as ``lat``, ``lon`` and ``device``."""
    return points.group_by("lat", "lon", "device").agg(pl.len().cast(pl.Int64).alias("pings"))
