"""The period table of a summary: pings per UTC hour of the period and local day.

The panel over time (:mod:`explorer.summary.panel`) needs every ping, those without a
device id too, on the real time line: hours with no pings inside the period are gaps.
Keyed by the UTC hour and the local day, so both the hourly series (instants) and the
daily series (days as people live them at each ping's place) come from one table.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer._speed.codes import counts_of, runs

_HOUR_S = 3_600

_EMPTY = pl.DataFrame(schema={"hour": pl.Int32, "day": pl.Date, "pings": pl.Int64})


def period_hours(frame: pl.DataFrame) -> pl.DataFrame:
    """Pings per (UTC hour since the epoch, local day) of prepared pings."""
    if frame.is_empty():
        return _EMPTY
    hour = pl.col("timestamp").dt.epoch("s") // _HOUR_S
    day = pl.col("day").to_physical().cast(pl.Int64)
    ends = frame.select(
        hour.min().alias("first_hour"),
        hour.max().alias("last_hour"),
        day.min().alias("first_day"),
        day.max().alias("last_day"),
    ).row(0, named=True)
    first_hour, first_day = ends["first_hour"], ends["first_day"]
    n_days = ends["last_day"] - first_day + 1
    # One pass of polars' elementwise expressions: no input-sized numpy temporaries.
    key = frame.select((hour - first_hour) * n_days + (day - first_day)).to_series().to_numpy()
    space = (ends["last_hour"] - first_hour + 1) * n_days
    if space <= 2 * key.size + 1_000_000:
        keys, counts = counts_of(key, space)
    else:  # timestamps years apart: sort instead of a mostly empty dense array
        key = np.sort(key)
        starts, counts = runs(key)
        keys = key[starts]
    hour_offset, day_offset = np.divmod(keys, n_days)
    return pl.DataFrame(
        {
            "hour": pl.Series(hour_offset + first_hour, dtype=pl.Int32),
            "day": pl.Series(day_offset + first_day, dtype=pl.Int32).cast(pl.Date),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )
