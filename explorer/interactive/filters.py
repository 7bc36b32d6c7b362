"""Filters on canonical pings: local date range, local hour range and device types.

Dates and hours are local at each ping's place (the zone comes from its coordinates,
as in :mod:`explorer.geography.timezones`), so "9 to 5" means office hours everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from explorer.geography.timezones import local_offsets, zone_names

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class PingFilter:
    """Which pings to keep; ``None`` (or the full 0..24 hour range) keeps everything.

    ``start``/``end`` are local dates, both inclusive. ``hour_start``/``hour_end`` are
    local hours with ``hour_start <= hour < hour_end``; a range with
    ``hour_start > hour_end`` wraps past midnight (22..6 keeps the night).
    ``device_types`` are normalised types (``ios``, ``android`` …).
    """

    start: dt.date | None = None
    end: dt.date | None = None
    hour_start: int = 0
    hour_end: int = HOURS_PER_DAY
    device_types: tuple[str, ...] | None = None

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every ping."""
        return (
            self.start is None
            and self.end is None
            and self.hour_start == 0
            and self.hour_end == HOURS_PER_DAY
            and self.device_types is None
        )


def local_clock(pings: pl.DataFrame) -> pl.DataFrame:
    """Local date and hour (Int8) of every ping, in the real zone at its coordinates."""
    if pings.is_empty():
        return pl.DataFrame(schema={"local_date": pl.Date, "local_hour": pl.Int8})
    zone = zone_names(pings["lat"], pings["lon"])
    offset_us = local_offsets(pings["timestamp"], zone).cast(pl.Int64) * 1_000_000
    local = (pings["timestamp"].dt.epoch("us") + offset_us).cast(pl.Datetime("us"))
    return pl.DataFrame(
        {"local_date": local.dt.date(), "local_hour": local.dt.hour().cast(pl.Int8)}
    )


def _hour_mask(hour: pl.Series, start: int, end: int) -> pl.Series:
    if start <= end:
        return (hour >= start) & (hour < end)
    return (hour >= start) | (hour < end)


def _needs_clock(spec: PingFilter) -> bool:
    full_day = spec.hour_start == 0 and spec.hour_end == HOURS_PER_DAY
    return spec.start is not None or spec.end is not None or not full_day


def apply_filter(pings: pl.DataFrame, spec: PingFilter) -> pl.DataFrame:
    """The pings that pass ``spec`` (same columns, original order)."""
    if spec.is_empty or pings.is_empty():
        return pings
    keep = pl.Series("keep", [True] * pings.height, dtype=pl.Boolean)
    if _needs_clock(spec):
        clock = local_clock(pings)
        if spec.start is not None:
            keep = keep & (clock["local_date"] >= spec.start)
        if spec.end is not None:
            keep = keep & (clock["local_date"] <= spec.end)
        if not (spec.hour_start == 0 and spec.hour_end == HOURS_PER_DAY):
            keep = keep & _hour_mask(clock["local_hour"], spec.hour_start, spec.hour_end)
    if spec.device_types is not None:
        keep = keep & pings["device_type"].is_in(list(spec.device_types))
    return pings.filter(keep)


@dataclass(frozen=True)
class FilterOptions:
    """What a filter form can offer for one data set: local date span and device types."""

    first_date: dt.date | None
    last_date: dt.date | None
    device_types: tuple[str, ...]


def filter_options(pings: pl.DataFrame) -> FilterOptions:
    """Local date span and the device types present, most pings first."""
    if pings.is_empty():
        return FilterOptions(None, None, ())
    clock = local_clock(pings)
    types = (
        pings.group_by("device_type")
        .agg(pl.len().alias("n"))
        .sort(["n", "device_type"], descending=[True, False])
    )
    return FilterOptions(
        first_date=clock["local_date"].min(),
        last_date=clock["local_date"].max(),
        device_types=tuple(types["device_type"].to_list()),
    )


def make_filter(
    start: dt.date | None = None,
    end: dt.date | None = None,
    hours: tuple[int, int] = (0, HOURS_PER_DAY),
    device_types: Collection[str] | None = None,
) -> PingFilter:
    """A :class:`PingFilter` with the hour range clamped to 0..24 and types sorted.

    An empty hour range (start == end) means the whole day, as a slider collapsed to
    one point does not mean "no pings".
    """
    h0 = min(max(int(hours[0]), 0), HOURS_PER_DAY)
    h1 = min(max(int(hours[1]), 0), HOURS_PER_DAY)
    if h0 == h1:
        h0, h1 = 0, HOURS_PER_DAY
    types = None if device_types is None else tuple(sorted(set(device_types)))
    return PingFilter(start, end, h0, h1, types)
