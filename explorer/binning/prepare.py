"""Each ping's derived columns, the binning stage: device hash, cell, coordinate
decimals, coarse flag and local clock.

In: canonical pings. Out: the same frame with the columns every summary table groups
on. :func:`prepare` runs the steps one after the other; the summary runs the same step
functions as steps of its own schedule, beside the counting that needs only some of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer._speed.blocks import blockwise
from explorer._speed.codes import Coded, factorize
from explorer.binning.cells import latlng_to_cells
from explorer.binning.decimals import COARSE_DECIMALS, coordinate_decimals
from explorer.geography.timezones import local_offsets_by_cell
from explorer.reading.device_hash import device_hashes

_DAY_S = 86_400
#: Day 0 of the Unix epoch (1970-01-01) was a Thursday: weekday 3 with Monday = 0.
_THURSDAY = 3


def prepare(pings: pl.DataFrame, resolution: int) -> pl.DataFrame:
    """Add the per-ping derived columns every table groups on.

    Adds: device (hash, null without id), UTC second of day, coordinate decimals, cell,
    local hour/weekday/day/second, coarse flag. Clock fields come from integer
    arithmetic on epoch seconds (floor division, so instants before 1970 are right too).
    """
    pings = with_device_hashes(pings)
    cells = cells_of(pings, resolution)
    placed = placed_frame(pings, cells, decimals_of(pings))
    return clocked_frame(placed, factorize(cells))


def with_device_hashes(pings: pl.DataFrame) -> pl.DataFrame:
    """The pings with their ``device`` hash column (read so, or hashed from the ids)."""
    if "device" in pings.columns:
        return pings
    return pings.with_columns(device_hashes(pings["device_id"]))


def cells_of(pings: pl.DataFrame, resolution: int) -> pl.Series:
    """Each ping's H3 cell at ``resolution``."""
    return latlng_to_cells(pings["lat"], pings["lon"], resolution)


@dataclass(frozen=True)
class Decimals:
    """Each ping's coordinate decimals, and whether both are coarse."""

    lat: np.ndarray
    lon: np.ndarray
    coarse: np.ndarray


def decimals_of(pings: pl.DataFrame) -> Decimals:
    """How many decimals each ping's coordinates were written with."""
    lat = coordinate_decimals(pings["lat"].to_numpy())
    lon = coordinate_decimals(pings["lon"].to_numpy())
    return Decimals(lat, lon, (lat <= COARSE_DECIMALS) & (lon <= COARSE_DECIMALS))


def placed_frame(pings: pl.DataFrame, cells: pl.Series, decimals: Decimals) -> pl.DataFrame:
    """The pings (with ``device``) with every derived column but the local clock's."""
    return pings.with_columns(
        lat_decimals=pl.Series(decimals.lat, dtype=pl.UInt8),
        lon_decimals=pl.Series(decimals.lon, dtype=pl.UInt8),
        cell=cells,
        coarse=pl.Series(decimals.coarse, dtype=pl.Boolean),
    )


def clocked_frame(placed: pl.DataFrame, cells: Coded) -> pl.DataFrame:
    """:func:`placed_frame`'s pings with their local clock (the zone from each cell)."""
    offset = local_offsets_by_cell(placed["timestamp"], placed["cell"], cells)
    utc_us = placed["timestamp"].dt.epoch("us").to_numpy()
    return placed.with_columns(**_clock(utc_us, offset.to_numpy())).select(
        pl.exclude(_DERIVED), *_DERIVED
    )


#: The derived columns of a prepared frame, in order, after the input's and ``device``.
_DERIVED = (
    *("second_utc", "lat_decimals", "lon_decimals", "cell"),
    *("hour", "weekday", "day", "second_local", "coarse"),
)


def _clock(utc_us: np.ndarray, offset_s: np.ndarray) -> dict[str, pl.Series]:
    """UTC second of day and local hour, weekday, day and second of epoch microseconds
    and each one's UTC offset in seconds."""
    n = utc_us.size
    second_utc, second_local, day = (np.empty(n, dtype=np.int32) for _ in range(3))
    hour, weekday = np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int8)
    blockwise(
        _clock_block,
        [utc_us, offset_s],
        [second_utc, second_local, day, hour, weekday],
        scratch=[np.int64] * 3,
    )
    return {
        "second_utc": pl.Series(second_utc, dtype=pl.Int32),
        "hour": pl.Series(hour, dtype=pl.Int8),
        "weekday": pl.Series(weekday, dtype=pl.Int8),
        "day": pl.Series(day, dtype=pl.Int32).cast(pl.Date),
        "second_local": pl.Series(second_local, dtype=pl.Int32),
    }


def _clock_block(
    utc_us: np.ndarray,
    offset_s: np.ndarray,
    second_utc: np.ndarray,
    second_local: np.ndarray,
    day: np.ndarray,
    hour: np.ndarray,
    weekday: np.ndarray,
    local: np.ndarray,
    days: np.ndarray,
    other: np.ndarray,
) -> None:
    np.floor_divide(utc_us, 1_000_000, out=local)  # floor: right before 1970 too
    np.remainder(local, _DAY_S, out=other)
    second_utc[:] = other
    local += offset_s
    np.floor_divide(local, _DAY_S, out=days)
    day[:] = days
    np.multiply(days, _DAY_S, out=other)
    local -= other  # the local second of the day
    second_local[:] = local
    np.floor_divide(local, 3600, out=other)
    hour[:] = other
    np.add(days, _THURSDAY, out=other)
    np.remainder(other, 7, out=other)  # 0 = Monday
    weekday[:] = other
