"""The tables keyed by cell or by a small number, counted on dense codes.

``cells``, ``cell_hours``, ``cell_weekdays``, ``cell_types``, ``seconds_utc``,
``seconds_local``, ``decimals`` and ``extent``: every key space here is small (a few
thousand cells times 24 hours, 86,400 seconds), so each table is one ``numpy.bincount``
over the codes of :mod:`explorer._speed.codes`, far cheaper than a hash group-by per
table. They equal the plain polars group-bys (``tests/test_summary_devices.py`` checks
that).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer._speed.codes import Coded, as_timestamps, counts_of, first_last, key_of

_HOURS, _WEEKDAYS, _SECONDS = 24, 7, 86_400


def _by_cell(cells: Coded, inner: np.ndarray, size: int, name: str, dtype) -> pl.DataFrame:
    """Pings per (cell, inner key in [0, size))."""
    keys, counts = counts_of(key_of(cells.codes, size, inner), len(cells) * size)
    cell, value = np.divmod(keys, size)
    return pl.DataFrame(
        {
            "cell": pl.Series(cells.values[cell], dtype=pl.UInt64),
            name: pl.Series(value, dtype=dtype),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )


def _cells(frame: pl.DataFrame, cells: Coded) -> pl.DataFrame:
    codes, n = cells.codes, len(cells)
    stamp = frame["timestamp"]
    first, last = first_last(codes, stamp.dt.epoch("us").to_numpy(), n)
    no_device = frame["device"].is_null().to_numpy()
    return pl.DataFrame(
        {
            "cell": pl.Series(cells.values, dtype=pl.UInt64),
            "pings": pl.Series(np.bincount(codes, minlength=n), dtype=pl.Int64),
            "no_device_pings": pl.Series(
                np.bincount(codes[no_device], minlength=n), dtype=pl.Int64
            ),
            "first_seen": as_timestamps(first, stamp.dtype),
            "last_seen": as_timestamps(last, stamp.dtype),
        }
    )


def _seconds(values: pl.Series) -> pl.DataFrame:
    keys, counts = counts_of(values.to_numpy().astype(np.int64), _SECONDS)
    return pl.DataFrame(
        {"second": pl.Series(keys, dtype=pl.Int32), "pings": pl.Series(counts, dtype=pl.Int64)}
    )


def _decimals(frame: pl.DataFrame) -> pl.DataFrame:
    lat = frame["lat_decimals"].to_numpy()  # UInt8: small keys, no 64-bit copies
    lon = frame["lon_decimals"].to_numpy()
    size = int(max(lat.max(initial=0), lon.max(initial=0))) + 1
    key = lat.astype(np.uint16)
    key *= size
    key += lon
    keys, counts = counts_of(key, size * size)
    lat_d, lon_d = np.divmod(keys, size)
    return pl.DataFrame(
        {
            "lat_decimals": pl.Series(lat_d, dtype=pl.UInt8),
            "lon_decimals": pl.Series(lon_d, dtype=pl.UInt8),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )


def place_tables(frame: pl.DataFrame, cells: Coded, types: Coded) -> dict[str, pl.DataFrame]:
    """The tables that need no clock field, of prepared pings: ``cells``, ``cell_types``,
    ``decimals`` and ``extent`` (the frame needs ``device``, ``timestamp``, the
    coordinates and their decimals, not the local clock)."""
    type_table = _by_cell(cells, types.codes, len(types), "_type", pl.Int64)
    return {
        "cells": _cells(frame, cells),
        "cell_types": type_table.select(
            "cell", device_type=types.values.gather(type_table["_type"]), pings="pings"
        ),
        "decimals": _decimals(frame),
        "extent": _extent(frame["lat"], frame["lon"]),
    }


def clock_tables(frame: pl.DataFrame, cells: Coded) -> dict[str, pl.DataFrame]:
    """The tables of prepared pings by local hour and weekday, and by second of the day."""
    return {
        "cell_hours": _by_cell(cells, frame["hour"].to_numpy(), _HOURS, "hour", pl.Int8),
        "cell_weekdays": _by_cell(
            cells, frame["weekday"].to_numpy(), _WEEKDAYS, "weekday", pl.Int8
        ),
        "seconds_utc": _seconds(frame["second_utc"]),
        "seconds_local": _seconds(frame["second_local"]),
    }


def _extent(lat: pl.Series, lon: pl.Series) -> pl.DataFrame:
    """Bounding box (one row; nulls without pings), column by column: a query on the
    whole frame would first copy every column into one chunk when they are chunked
    differently (the input's strings stay in the reader's chunks)."""
    box = {"lat_min": lat.min(), "lat_max": lat.max(), "lon_min": lon.min(), "lon_max": lon.max()}
    return pl.DataFrame(
        {name: [value] for name, value in box.items()}, schema=dict.fromkeys(box, pl.Float64)
    )
