"""The panel over time, derived from a summary: series per day and per hour of the
period, and per-device figures (days seen, pings and hours per active day, gaps).

Everything here is a view of mergeable tables (``period_hours``, ``device_days``,
``device_moments``, ``devices``), so chunked and Dask engines give the same panel.
Days are local days at each ping's place, as the hour profile; hours are UTC hours of
the real time line, so a hole in the feed is a run of empty hours. Rules on which
devices a user keeps live in :mod:`explorer.summary.panel_rule`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from explorer.summary.tables import Summary
from explorer.summary.views import device_types

_HOUR_S = 3_600
#: Median gaps are computed for at most this many devices (those of the smallest hashes,
#: a fixed, engine-independent sample): their distribution is then known to about a
#: percent, without sorting every device's moments (cost in docs/performance.md).
GAP_SAMPLE = 20_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def hour_start(hour: int) -> dt.datetime:
    """The UTC instant an hour of the period (hours since the epoch) starts at."""
    return _EPOCH + dt.timedelta(hours=int(hour))


def iso_hour(hour: int) -> str:
    """An hour of the period as an ISO 8601 UTC instant (``2024-06-03T05:00:00Z``)."""
    return hour_start(hour).strftime("%Y-%m-%dT%H:%M:%SZ")


def daily_series(summary: Summary) -> pl.DataFrame:
    """One row per local day from the first to the last, empty days included.

    Columns: day, pings (all, those without a device id too), devices, device_pings,
    pings_per_device (null on a day without devices), new_devices (first seen that
    day), returning_devices (seen on an earlier day too).
    """
    period = summary.tables["period_hours"]
    days = period.group_by("day").agg(pl.col("pings").sum())
    presence = _presence(summary.tables["device_days"].select("device", "day", "pings"), "day")
    if days.is_empty():
        return _empty_series("day", pl.Date)
    first, last = days["day"].min(), days["day"].max()
    frame = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    return _joined(frame, "day", days, presence)


def hourly_series(summary: Summary) -> pl.DataFrame:
    """One row per UTC hour from the first ping's to the last's, empty hours included.

    Columns: hour (hours since the epoch), start (the hour's UTC instant) and the
    counts of :func:`daily_series` per hour.
    """
    period = summary.tables["period_hours"]
    hours = period.group_by("hour").agg(pl.col("pings").sum())
    moments = summary.tables["device_moments"]
    pairs = moments.group_by("device", "hour").agg(pl.col("pings").sum())
    presence = _presence(pairs, "hour")
    if hours.is_empty():
        return _empty_series("hour", pl.Int32).with_columns(
            start=pl.lit(None, pl.Datetime("us", "UTC"))
        )
    first, last = int(hours["hour"].min()), int(hours["hour"].max())
    frame = pl.DataFrame({"hour": pl.int_range(first, last + 1, dtype=pl.Int32, eager=True)})
    out = _joined(frame, "hour", hours, presence)
    start = (pl.col("hour").cast(pl.Int64) * _HOUR_S * 1_000_000).cast(pl.Datetime("us", "UTC"))
    return out.with_columns(start=start).select("hour", "start", *out.columns[1:])


def hourly_pings(summary: Summary) -> pl.DataFrame:
    """Pings per UTC hour of the period, empty hours included (hour, start, pings): the
    part of :func:`hourly_series` that needs no device counts, which cost a pass over
    every device's hours."""
    hours = summary.tables["period_hours"].group_by("hour").agg(pl.col("pings").sum())
    if hours.is_empty():
        return pl.DataFrame(
            schema={"hour": pl.Int32, "start": pl.Datetime("us", "UTC"), "pings": pl.Int64}
        )
    first, last = int(hours["hour"].min()), int(hours["hour"].max())
    frame = pl.DataFrame({"hour": pl.int_range(first, last + 1, dtype=pl.Int32, eager=True)})
    start = (pl.col("hour").cast(pl.Int64) * _HOUR_S * 1_000_000).cast(pl.Datetime("us", "UTC"))
    return frame.join(hours, on="hour", how="left").select(
        "hour", start=start, pings=pl.col("pings").fill_null(0).cast(pl.Int64)
    )


def daily_types(summary: Summary) -> pl.DataFrame:
    """Devices per local day and main device type (day, device_type, devices)."""
    pairs = summary.tables["device_days"].select("device", "day")
    types = device_types(summary).select("device", "device_type")
    return (
        pairs.join(types, on="device", how="left")
        .group_by("day", "device_type")
        .agg(devices=pl.len().cast(pl.Int64))
        .sort("day", "device_type")
    )


def panel_devices(summary: Summary) -> pl.DataFrame:
    """One row per device: device_type (main), active_days, pings, pings_per_day,
    hours_per_day (distinct local hours per active day, on average), first_seen,
    last_seen and median_gap_s (see :func:`median_gaps`: null for devices outside its
    sample when there are more than ``GAP_SAMPLE``)."""
    days = summary.tables["device_days"]
    per_device = days.group_by("device").agg(
        active_days=pl.len().cast(pl.Int64),
        pings=pl.col("pings").sum(),
        hours_per_day=pl.col("hour_mask").bitwise_count_ones().cast(pl.Float64).mean(),
    )
    seen = (
        summary.tables["devices"]
        .group_by("device")
        .agg(pl.col("first_seen").min(), pl.col("last_seen").max())
    )
    types = device_types(summary).select("device", "device_type")
    return (
        per_device.join(types, on="device", how="left")
        .join(seen, on="device", how="left")
        .join(median_gaps(summary), on="device", how="left")
        .with_columns(pings_per_day=pl.col("pings") / pl.col("active_days"))
        .select(
            "device",
            "device_type",
            "active_days",
            "pings",
            "pings_per_day",
            "hours_per_day",
            "first_seen",
            "last_seen",
            "median_gap_s",
        )
        .sort("device")
    )


def median_gaps(summary: Summary, sample: int = GAP_SAMPLE) -> pl.DataFrame:
    """Each device's median gap between consecutive pings, in seconds (device,
    median_gap_s; devices with one ping have none), for the ``sample`` devices of the
    smallest hashes when there are more.

    Read from ``device_moments`` (per device, hour and place: pings, first and last
    second), so it merges like the rest: the gaps between a device's moments are exact,
    and the gaps inside a moment are taken as even (its span over its pings less one).
    """
    moments = summary.tables["device_moments"]
    devices = summary.tables["devices"]["device"].unique()
    if devices.len() > sample:
        cutoff = np.partition(devices.to_numpy(), sample - 1)[sample - 1]
        moments = moments.filter(pl.col("device") <= cutoff)
    moments = moments.sort("device", "first_seen", "last_seen")
    if moments.is_empty():
        return pl.DataFrame(schema={"device": pl.UInt64, "median_gap_s": pl.Float64})
    inside = moments.filter(pl.col("pings") > 1).select(
        "device",
        gap=(pl.col("last_seen") - pl.col("first_seen")) / (pl.col("pings") - 1),
        weight=pl.col("pings") - 1,
    )
    between = (
        moments.with_columns(
            next_first=pl.col("first_seen").shift(-1),
            next_device=pl.col("device").shift(-1),
        )
        .filter(pl.col("next_device") == pl.col("device"))
        .select(
            "device",
            gap=(pl.col("next_first") - pl.col("last_seen")).clip(0).cast(pl.Float64),
            weight=pl.lit(1, pl.Int64),
        )
    )
    gaps = pl.concat([inside, between]).sort("device", "gap")
    return (
        gaps.with_columns(
            below=pl.col("weight").cum_sum().over("device"),
            total=pl.col("weight").sum().over("device"),
        )
        .filter(2 * pl.col("below") >= pl.col("total"))
        .group_by("device")
        .agg(median_gap_s=pl.col("gap").first())
    )


def quantiles(values: pl.Series, probs: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict:
    """Quantiles of a per-device figure by name (``p10`` …), None without values."""
    clean = values.drop_nulls().drop_nans() if values.dtype.is_float() else values.drop_nulls()
    if clean.is_empty():
        return {f"p{round(100 * p)}": None for p in probs}
    array = clean.to_numpy().astype(np.float64)
    return {f"p{round(100 * p)}": float(np.quantile(array, p)) for p in probs}


def _presence(pairs: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Per ``unit`` (day or hour) from (device, unit, pings) pairs: devices, their
    pings, and how many were new (first seen in that unit) or returning."""
    if pairs.is_empty():
        return pl.DataFrame(
            schema={
                unit: pairs.schema.get(unit, pl.Int32),
                "devices": pl.Int64,
                "device_pings": pl.Int64,
                "new_devices": pl.Int64,
            }
        )
    first = pl.col(unit).min().over("device")
    return (
        pairs.with_columns(new=pl.col(unit) == first)
        .group_by(unit)
        .agg(
            devices=pl.len().cast(pl.Int64),
            device_pings=pl.col("pings").sum().cast(pl.Int64),
            new_devices=pl.col("new").sum().cast(pl.Int64),
        )
    )


def _joined(
    frame: pl.DataFrame, unit: str, totals: pl.DataFrame, presence: pl.DataFrame
) -> pl.DataFrame:
    counts = ("pings", "devices", "device_pings", "new_devices")
    out = (
        frame.join(totals, on=unit, how="left")
        .join(presence, on=unit, how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
    )
    return out.select(
        unit,
        "pings",
        "devices",
        "device_pings",
        pings_per_device=pl.when(pl.col("devices") > 0).then(
            pl.col("device_pings") / pl.col("devices")
        ),
        new_devices="new_devices",
        returning_devices=pl.col("devices") - pl.col("new_devices"),
    )


def _empty_series(unit: str, dtype: pl.DataType) -> pl.DataFrame:
    schema = {unit: dtype}
    schema |= dict.fromkeys(("pings", "devices", "device_pings"), pl.Int64)
    schema |= {"pings_per_device": pl.Float64}
    schema |= dict.fromkeys(("new_devices", "returning_devices"), pl.Int64)
    return pl.DataFrame(schema=schema)
