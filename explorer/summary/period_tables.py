"""The period table of a summary: pings per UTC hour of the period and local day.

The panel over time (:mod:`explorer.summary.panel`) needs every ping, those without a
device id too, on the real time line: hours with no pings inside the period are gaps.
Keyed by the UTC hour and the local day, so both the hourly series (instants) and the
daily series (days as people live them at each ping's place) come from one table.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import polars as pl

from explorer._speed.blocks import blockwise
from explorer._speed.codes import runs

_HOUR_US = 3_600_000_000
#: (hour, day) key spaces up to this size are counted in one dense array, block by block
#: (four weeks of hours times local days is about 20,000); wider ones (timestamps years
#: apart) are sorted.
_DENSE_SPACE = 4_000_000

_EMPTY = pl.DataFrame(schema={"hour": pl.Int32, "day": pl.Date, "pings": pl.Int64})


def period_hours(frame: pl.DataFrame) -> pl.DataFrame:
    """Pings per (UTC hour since the epoch, local day) of prepared pings."""
    if frame.is_empty():
        return _EMPTY
    utc_us = frame["timestamp"].dt.epoch("us")
    day = frame["day"].to_physical()
    # Floor division: the hour of half a second before 1970 is -1, not 0.
    first_hour, last_hour = (int(t) // _HOUR_US for t in (utc_us.min(), utc_us.max()))
    first_day, last_day = int(day.min()), int(day.max())
    n_days = last_day - first_day + 1
    space = (last_hour - first_hour + 1) * n_days
    key = partial(_key_block, first_hour=first_hour, first_day=first_day, n_days=n_days)
    utc_us, day = utc_us.to_numpy(), day.to_numpy()
    if space <= _DENSE_SPACE:
        # Counted a cache-sized block at a time: no key array the size of the pings.
        counts = np.zeros(space, dtype=np.int64)

        def count(us: np.ndarray, days: np.ndarray, keys: np.ndarray) -> None:
            key(us, days, keys)
            counts[:] += np.bincount(keys, minlength=space)

        blockwise(count, [utc_us, day], [], scratch=[np.int64])
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:  # timestamps years apart: sort instead of a mostly empty dense array
        keys = np.empty(utc_us.size, dtype=np.int64)
        key(utc_us, day, keys)
        keys.sort()
        starts, counts = runs(keys)
        keys = keys[starts]
    hour_offset, day_offset = np.divmod(keys, n_days)
    return pl.DataFrame(
        {
            "hour": pl.Series(hour_offset + first_hour, dtype=pl.Int32),
            "day": pl.Series(day_offset + first_day, dtype=pl.Int32).cast(pl.Date),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )


def _key_block(
    utc_us: np.ndarray,
    day: np.ndarray,
    key: np.ndarray,
    *,
    first_hour: int,
    first_day: int,
    n_days: int,
) -> None:
    """Each ping's (hour, day) key: hours since ``first_hour`` times ``n_days`` plus days
    since ``first_day``, written into ``key``."""
    np.floor_divide(utc_us, _HOUR_US, out=key)
    key -= first_hour
    key *= n_days
    key += day
    key -= first_day
