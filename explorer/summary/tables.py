"""The summary's tables: what each holds, keys and how its values merge.

A :class:`Summary` is a set of keyed count tables plus row counts. Every table merges
by grouping on its keys and combining its values (sum, min, max, bitwise or), so
``summarise(A ∪ B) == merge(summarise(A), summarise(B))`` holds exactly: the same code
serves one frame, a stream of chunks and a Dask cluster. Detectors read summaries only.

Device ids are replaced by 64-bit hashes (``device`` columns); the chance that two of a
million devices collide is about 3e-8. Rows without a device id count in every
per-ping table but in no per-device one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import polars as pl

from explorer.reading.device_hash import HASH_SEED
from explorer.reading.pings import REJECT_REASONS

#: The rejection reasons of reading, in the order they are checked.
REJECTION_REASONS = REJECT_REASONS

_SUM, _MIN, _MAX, _OR = "sum", "min", "max", "or"

#: table name -> (key columns, {value column: how it merges})
TABLES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "cells": (
        ("cell",),
        {"pings": _SUM, "no_device_pings": _SUM, "first_seen": _MIN, "last_seen": _MAX},
    ),
    "cell_hours": (("cell", "hour"), {"pings": _SUM}),
    "cell_weekdays": (("cell", "weekday"), {"pings": _SUM}),
    "cell_types": (("cell", "device_type"), {"pings": _SUM}),
    "cell_devices": (("cell", "device"), {"pings": _SUM, "hour_mask": _OR}),
    "devices": (
        ("device", "device_type"),
        {"pings": _SUM, "coarse_pings": _SUM, "first_seen": _MIN, "last_seen": _MAX},
    ),
    # Per device and local day: pings and the bitmask of local hours seen (bit h = hour h),
    # so that hours covered per day, and panel rules on them, merge exactly.
    "device_days": (("device", "day"), {"pings": _SUM, "hour_mask": _OR}),
    # Every ping (those without a device id too) per UTC hour since the epoch and local
    # day: the period's hourly and daily series, gaps included.
    "period_hours": (("hour", "day"), {"pings": _SUM}),
    # Per device, UTC hour (since the epoch) and coarse place (an H3 cell at resolution
    # min(5, the summary's)): where a device was when, to the second at each end, so that
    # jumps faster than any vehicle show (first_seen/last_seen are epoch seconds).
    "device_moments": (
        ("device", "hour", "place"),
        {"pings": _SUM, "first_seen": _MIN, "last_seen": _MAX},
    ),
    # Night pings (local 22:00-05:59) per device, cell and night (dated by its evening):
    # where each device sleeps, for home inference.
    "device_nights": (("device", "cell", "night"), {"pings": _SUM}),
    "coords": (("lat", "lon", "device"), {"pings": _SUM}),
    "rows": (("row_hash",), {"pings": _SUM}),
    "seconds_utc": (("second",), {"pings": _SUM}),
    "seconds_local": (("second",), {"pings": _SUM}),
    "decimals": (("lat_decimals", "lon_decimals"), {"pings": _SUM}),
    "extent": ((), {"lat_min": _MIN, "lat_max": _MAX, "lon_min": _MIN, "lon_max": _MAX}),
}


@dataclass(frozen=True)
class Summary:
    """Partial aggregates of pings at one H3 resolution (see ``TABLES``)."""

    resolution: int
    tables: dict[str, pl.DataFrame]
    rows_read: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    time_interpretation: str = ""
    naive_timestamps: bool = False

    @property
    def rows_rejected(self) -> int:
        return int(sum(self.rejected_by_reason.values()))

    @property
    def rows_used(self) -> int:
        return int(self.tables["cells"]["pings"].sum() or 0)

    def canonical(self) -> Summary:
        """The same summary with every table sorted by its keys (for comparisons)."""
        tables = {}
        for name, frame in self.tables.items():
            keys = list(TABLES[name][0])
            tables[name] = frame.sort(keys, nulls_last=True) if keys else frame
        return replace(self, tables=tables)


#: The five canonical columns, the device as its hash: equal rows over these are exact
#: duplicates. The hash rather than the id, so that a reader may hash the ids as it
#: decodes them and never make their strings (see :func:`explorer.reading.pings.read_pings`); two
#: rows of different devices share a row only if their devices share a hash (about 3e-8
#: for a million devices).
ROW_COLUMNS = ("device", "timestamp", "lat", "lon", "device_type")


def row_hash() -> pl.Expr:
    """A 64-bit hash of the five canonical columns (types as text: Categorical codes differ
    between processes); equal rows share it. The frame needs ``device``
    (:func:`~explorer.reading.device_hash.device_hashes`), not the ids; compaction hashes
    only the pings whose coordinate repeats.
    """
    columns = [pl.col(c).cast(pl.String) if c == "device_type" else pl.col(c) for c in ROW_COLUMNS]
    return pl.struct(columns).hash(HASH_SEED).alias("row_hash")


def merge_table(name: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One table of several partial summaries, combined by key (no columns if all empty)."""
    keys, values = TABLES[name]
    frames = [f for f in frames if f.height]
    if not frames:
        return next(iter(frames), None) or pl.DataFrame()
    stacked = pl.concat(frames, how="vertical_relaxed")
    ops = {
        _SUM: lambda c: pl.col(c).sum(),
        _MIN: lambda c: pl.col(c).min(),
        _MAX: lambda c: pl.col(c).max(),
        _OR: lambda c: pl.col(c).bitwise_or(),
    }
    aggs = [ops[how](col).alias(col) for col, how in values.items()]
    if not keys:
        return stacked.select(aggs)
    return stacked.group_by(list(keys)).agg(aggs)


def merge(summaries: Iterable[Summary]) -> Summary:
    """Combine partial summaries of disjoint sets of pings into one."""
    parts = list(summaries)
    if not parts:
        raise ValueError("merge() needs at least one summary.")
    resolutions = {s.resolution for s in parts}
    if len(resolutions) != 1:
        raise ValueError(f"Cannot merge summaries at different resolutions: {sorted(resolutions)}.")
    tables = {}
    for name in TABLES:
        frames = [s.tables[name] for s in parts]
        merged = merge_table(name, frames)
        tables[name] = merged if merged.width else frames[0]
    rejected = {
        reason: sum(s.rejected_by_reason.get(reason, 0) for s in parts)
        for reason in REJECTION_REASONS
    }
    interpretations = sorted({s.time_interpretation for s in parts if s.time_interpretation})
    return Summary(
        resolution=parts[0].resolution,
        tables=tables,
        rows_read=sum(s.rows_read for s in parts),
        rejected_by_reason=rejected,
        time_interpretation="; ".join(interpretations),
        naive_timestamps=any(s.naive_timestamps for s in parts),
    )
