"""Filters on canonical pings: local dates and hours (real zones), device types."""

from __future__ import annotations

import datetime as dt

import polars as pl

from explorer.interactive.filters import (
    HOURS_PER_DAY,
    PingFilter,
    apply_filter,
    filter_options,
    make_filter,
)
from tests.conftest import pings_frame

UTC = dt.UTC


def pings() -> pl.DataFrame:
    """Four pings whose local clocks are worked out by hand (June: NY is UTC-4, London UTC+1)."""
    rows = [
        # 02:30Z -> New York 22:30 on June 2; London 03:30 on June 3.
        ("a", dt.datetime(2024, 6, 3, 2, 30, tzinfo=UTC), 40.75, -73.98, "ios"),
        ("b", dt.datetime(2024, 6, 3, 2, 30, tzinfo=UTC), 51.51, -0.13, "android"),
        # 13:00Z -> New York 09:00 on June 5; London 14:00 on June 5.
        ("c", dt.datetime(2024, 6, 5, 13, 0, tzinfo=UTC), 40.75, -73.98, "android"),
        ("d", dt.datetime(2024, 6, 5, 13, 0, tzinfo=UTC), 51.51, -0.13, "android"),
    ]
    return pings_frame(rows)


def kept(spec: PingFilter) -> list[str]:
    return apply_filter(pings(), spec)["device_id"].to_list()


def test_empty_filter_keeps_everything() -> None:
    assert PingFilter().is_empty
    assert kept(PingFilter()) == ["a", "b", "c", "d"]


def test_hours_are_local_at_each_ping() -> None:
    assert kept(make_filter(hours=(22, 24))) == ["a"]
    assert kept(make_filter(hours=(3, 4))) == ["b"]
    assert kept(make_filter(hours=(9, 15))) == ["c", "d"]
    assert kept(make_filter(hours=(9, 10))) == ["c"]


def test_hour_range_wraps_past_midnight() -> None:
    assert kept(PingFilter(hour_start=22, hour_end=4)) == ["a", "b"]


def test_dates_are_local_and_inclusive() -> None:
    assert kept(make_filter(start=dt.date(2024, 6, 3))) == ["b", "c", "d"]
    assert kept(make_filter(end=dt.date(2024, 6, 2))) == ["a"]
    assert kept(make_filter(dt.date(2024, 6, 3), dt.date(2024, 6, 3))) == ["b"]


def test_device_types_and_combinations() -> None:
    assert kept(make_filter(device_types=["android"])) == ["b", "c", "d"]
    assert kept(make_filter(hours=(9, 24), device_types=["android", "ios"])) == ["a", "c", "d"]
    assert kept(make_filter(device_types=[])) == []


def test_make_filter_clamps_and_treats_an_empty_hour_range_as_the_day() -> None:
    spec = make_filter(hours=(-3, 30))
    assert (spec.hour_start, spec.hour_end) == (0, HOURS_PER_DAY)
    assert make_filter(hours=(5, 5)).is_empty
    assert make_filter(device_types=["ios", "android", "ios"]).device_types == ("android", "ios")


def test_filter_options_give_the_local_date_span_and_types_by_count() -> None:
    options = filter_options(pings())
    assert options.first_date == dt.date(2024, 6, 2)
    assert options.last_date == dt.date(2024, 6, 5)
    assert options.device_types == ("android", "ios")


def test_empty_frames_pass_through() -> None:
    empty = pings().head(0)
    assert apply_filter(empty, make_filter(hours=(1, 2))).height == 0
    assert filter_options(empty).device_types == ()
