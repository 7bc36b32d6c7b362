"""Offline zones and local clocks: the per-cell fast path agrees with the direct one."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from explorer._speed import blocks
from explorer.binning.cells import latlng_to_cells
from explorer.geography import timezones
from explorer.geography.timezones import (
    local_offsets,
    local_offsets_by_cell,
    localize_naive,
    localize_naive_at,
    zone_names,
)

PLACES = [(40.71, -74.0), (-33.87, 151.21), (51.5, -0.12), (47.56, -52.71), (28.6, 77.2)]


def instants(n: int, days: int, seed: int) -> pl.Series:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
    seconds = start + rng.integers(0, days * 86_400, n)
    return pl.Series((seconds * 1_000_000).astype(np.int64)).cast(pl.Datetime("us", "UTC"))


@pytest.mark.parametrize("block", [7, None])
def test_fast_path_agrees_with_direct_lookup_across_zones_and_dst(monkeypatch, block):
    """The table is read a block of pings at a time: small blocks (ends included) too."""
    if block is not None:
        monkeypatch.setattr(blocks, "CACHE_BLOCK", block)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(PLACES), 5_000)
    lat = pl.Series([PLACES[i][0] for i in pick])
    lon = pl.Series([PLACES[i][1] for i in pick])
    ts = instants(5_000, 366, 4)
    cells = latlng_to_cells(lat, lon, 9)
    fast = local_offsets_by_cell(ts, cells)
    direct = local_offsets(ts, zone_names(lat, lon))
    assert fast.to_list() == direct.to_list()
    # New York in July is UTC-4, Sydney UTC+10, St John's UTC-2:30, Delhi UTC+5:30.
    assert set(fast.to_list()) >= {-4 * 3600, 10 * 3600, -9000, 19800}


def test_single_zone_and_long_spans_take_other_paths():
    lat = pl.Series([40.71] * 3)
    lon = pl.Series([-74.0] * 3)
    ts = pl.Series(
        [
            dt.datetime(1990, 1, 1, 12, tzinfo=dt.UTC),
            dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC),
            dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC),
        ]
    ).cast(pl.Datetime("us", "UTC"))
    cells = latlng_to_cells(lat, lon, 8)
    assert local_offsets_by_cell(ts, cells).to_list() == [-18000, -14400, -18000]


def test_naive_times_in_gaps_move_forward_and_overlaps_take_the_earlier_instant():
    naive = pl.Series([dt.datetime(2024, 3, 10, 2, 30), dt.datetime(2024, 11, 3, 1, 30)])
    utc = localize_naive(naive, "America/New_York")
    assert utc.to_list() == [
        dt.datetime(2024, 3, 10, 7, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC),
    ]


def test_many_zones_over_decades_join_instead_of_a_table():
    """(zones × quarter hours) beyond the lookup table's size: offsets are joined."""
    rng = np.random.default_rng(8)
    pick = rng.integers(0, len(PLACES), 3_000)
    lat = pl.Series([PLACES[i][0] for i in pick])
    lon = pl.Series([PLACES[i][1] for i in pick])
    ts = instants(3_000, 40 * 366, 9)  # 2024-2064: ~1.4 M quarter hours per zone
    cells = latlng_to_cells(lat, lon, 9)
    fast = local_offsets_by_cell(ts, cells)
    assert fast.to_list() == local_offsets(ts, zone_names(lat, lon)).to_list()
    assert len(set(fast.to_list())) > 4


#: Zones with whole-hour, half-hour and three-quarter-hour offsets and half-hour summer time
#: (Lord Howe), on both hemispheres, and points near a zone border (Indiana, Arizona).
NAIVE_PLACES = [
    *PLACES,
    (27.7, 85.3),  # Kathmandu, +5:45
    (-31.55, 159.08),  # Lord Howe, +10:30 / +11
    (-43.95, -176.55),  # Chatham, +12:45 / +13:45
    (33.45, -112.07),  # Phoenix, no summer time
    (39.77, -86.16),  # Indianapolis
]


@pytest.mark.parametrize("seed", [1, 2])
def test_naive_times_at_their_places_match_the_per_row_zone_names(seed):
    """Codes and a dense table give what per-row zone names and a join give, summer-time
    gaps and overlaps included (the times are drawn on quarter hours around them too)."""
    rng = np.random.default_rng(seed)
    n = 6_000
    pick = rng.integers(0, len(NAIVE_PLACES), n)
    lat = pl.Series([NAIVE_PLACES[i][0] for i in pick]) + rng.normal(0, 0.2, n)
    lon = pl.Series([NAIVE_PLACES[i][1] for i in pick]) + rng.normal(0, 0.2, n)
    naive = instants(n, 366, seed).dt.replace_time_zone(None)
    naive = naive.dt.truncate("15m") if seed == 2 else naive
    naive = naive.scatter([5, 17], None)
    ours = localize_naive_at(naive, lat, lon)
    theirs = localize_naive(naive, zone_names(lat, lon))
    assert ours.dtype == pl.Datetime("us", "UTC")
    assert ours.to_list() == theirs.to_list()
    assert ours.null_count() == 2
    offsets = (naive.dt.replace_time_zone("UTC") - ours).dt.total_seconds().drop_nulls()
    assert {20700, 37800, 39600, 45900, 49500} <= set(offsets.to_list())


def test_naive_times_over_centuries_are_joined_instead(monkeypatch):
    monkeypatch.setattr(timezones, "_MAX_LUT", 10)
    lat, lon = pl.Series([40.71, 51.5, 40.71]), pl.Series([-74.0, -0.12, -74.0])
    naive = pl.Series(
        [dt.datetime(1900, 7, 1, 12), dt.datetime(2024, 7, 1, 12), dt.datetime(2100, 1, 1, 12)]
    )
    ours = localize_naive_at(naive, lat, lon)
    assert ours.to_list() == localize_naive(naive, zone_names(lat, lon)).to_list()
    assert ours[1] == dt.datetime(2024, 7, 1, 11, tzinfo=dt.UTC)
