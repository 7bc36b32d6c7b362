"""Panel faults planted in any canonical pings, generated or real: holes in the feed,
a panel that changes from one day on, a delivery cut short, devices that cannot be
followed.

Each function takes canonical pings (``device_id``, ``timestamp`` as a UTC datetime,
``lat``, ``lon``, ``device_type``) and returns new pings; the instants are UTC. They work
on frames rather than on the generator's arrays so that the panel checks are tested on
real files and on every generator alike.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

#: Pings are copied with a time shift up to this many seconds either way (densify).
_COPY_SHIFT_S = 900
#: Copies move up to about this many metres (1e-4 degrees of latitude is 11 m).
_COPY_JITTER_DEG = 2e-4


def _utc(instant: dt.datetime) -> pl.Expr:
    if instant.tzinfo is None:
        raise ValueError("Give the instant with its zone (UTC), not a naive datetime.")
    return pl.lit(instant.astimezone(dt.UTC)).cast(pl.Datetime("us", "UTC"))


def _stamps(pings: pl.DataFrame) -> pl.Expr:
    return pl.col("timestamp").cast(pl.Datetime("us", "UTC"))


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    """The UTC instant a local day starts at in ``zone`` (e.g. ``America/New_York``)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(0), ZoneInfo(zone)).astimezone(dt.UTC)


def drop_period(pings: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Every ping in [start, end) removed: a hole in the feed."""
    stamp = _stamps(pings)
    return pings.filter(~((stamp >= _utc(start)) & (stamp < _utc(end))))


def thin_period(
    pings: pl.DataFrame, start: dt.datetime, end: dt.datetime, keep: float, seed: int = 0
) -> pl.DataFrame:
    """In [start, end) only a ``keep`` share of the pings (drawn at random) remains: a
    feed that delivered part of its pings."""
    rng = np.random.default_rng(seed)
    stamp = _stamps(pings)
    inside = pings.select((stamp >= _utc(start)) & (stamp < _utc(end))).to_series().to_numpy()
    kept = ~inside | (rng.random(pings.height) < keep)
    return pings.filter(pl.Series(kept))


def cut_after(pings: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """Only the pings before ``instant``: a delivery made before its last day ended."""
    return pings.filter(_stamps(pings) < _utc(instant))


def cut_before(pings: pl.DataFrame, instant: dt.datetime) -> pl.DataFrame:
    """Only the pings from ``instant`` on: an export that starts mid-day."""
    return pings.filter(_stamps(pings) >= _utc(instant))


def densify_after(
    pings: pl.DataFrame, instant: dt.datetime, factor: float, seed: int = 0
) -> pl.DataFrame:
    """From ``instant`` on, each device sends ``factor`` times the pings (factor > 1:
    copies a few minutes and metres apart; factor < 1: a random share kept): denser or
    sparser tracking per device, as after an SDK release."""
    if factor <= 0:
        raise ValueError("factor must be positive")
    rng = np.random.default_rng(seed)
    after = pings.filter(_stamps(pings) >= _utc(instant))
    before = pings.filter(_stamps(pings) < _utc(instant))
    if factor < 1:
        return pl.concat([before, after.filter(pl.Series(rng.random(after.height) < factor))])
    extra = int(round((factor - 1) * after.height))
    rows = rng.integers(0, max(after.height, 1), extra) if after.height else np.array([], int)
    copies = after[rows]
    shift = pl.Series(rng.integers(-_COPY_SHIFT_S, _COPY_SHIFT_S + 1, extra) * 1_000_000)
    moved = copies.with_columns(
        timestamp=pl.max_horizontal(
            (_stamps(copies) + pl.duration(microseconds=shift)), _utc(instant)
        ).cast(pings.schema["timestamp"]),
        lat=pl.col("lat") + pl.Series(rng.uniform(-_COPY_JITTER_DEG, _COPY_JITTER_DEG, extra)),
        lon=pl.col("lon") + pl.Series(rng.uniform(-_COPY_JITTER_DEG, _COPY_JITTER_DEG, extra)),
    )
    return pl.concat([pings, moved]).sort("timestamp", maintain_order=True)


def drop_devices_after(
    pings: pl.DataFrame,
    instant: dt.datetime,
    share: float,
    seed: int = 0,
    device_type: str | None = None,
) -> pl.DataFrame:
    """From ``instant`` on, a ``share`` of the devices (of ``device_type`` only, if
    given) sends nothing: a supplier dropped, or an OS whose pings stopped."""
    rng = np.random.default_rng(seed)
    candidates = (
        pings if device_type is None else pings.filter(pl.col("device_type") == device_type)
    )
    ids = candidates["device_id"].drop_nulls().unique().sort()
    gone = ids.filter(pl.Series(rng.random(len(ids)) < share))
    late = _stamps(pings) >= _utc(instant)
    return pings.filter(~(late & pl.col("device_id").is_in(gone.implode())))


def churn_ids(pings: pl.DataFrame, share: float, seed: int = 0) -> pl.DataFrame:
    """A ``share`` of the devices gets a new id every UTC day (an id reset daily, as
    with rotating ad ids or a supplier that cannot keep ids): they cannot be followed."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].drop_nulls().unique().sort()
    rotating = ids.filter(pl.Series(rng.random(len(ids)) < share))
    day = _stamps(pings).dt.date().cast(pl.String)
    return pings.with_columns(
        device_id=pl.when(pl.col("device_id").is_in(rotating.implode()))
        .then(pl.col("device_id") + "~" + day)
        .otherwise(pl.col("device_id"))
    )
