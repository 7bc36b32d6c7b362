"""Summaries: hand-computed fixtures, time zones, and mergeability."""

import datetime as dt

import h3
import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.summary import REJECTION_REASONS, TABLES, merge, summarise
from explorer.summary import views as derived

UTC = dt.UTC


def frame(rows):
    """Canonical pings from (device_id, datetime UTC, lat, lon, device_type) tuples."""
    return pl.DataFrame(
        {
            "device_id": [r[0] for r in rows],
            "timestamp": [r[1] for r in rows],
            "lat": [float(r[2]) for r in rows],
            "lon": [float(r[3]) for r in rows],
            "device_type": [r[4] for r in rows],
        },
        schema={
            "device_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "lat": pl.Float64,
            "lon": pl.Float64,
            "device_type": pl.String,
        },
    )


NY = (40.7128, -74.0060)
NY_CELL = h3.str_to_int(h3.latlng_to_cell(*NY, 8))
SYD = (-33.8688, 151.2093)

FIXTURE = frame(
    [
        ("a", dt.datetime(2024, 7, 1, 23, 30, tzinfo=UTC), *NY, "ios"),  # 19:30 EDT, Monday
        ("a", dt.datetime(2024, 7, 1, 23, 30, tzinfo=UTC), *NY, "ios"),  # exact duplicate
        (
            "b",
            dt.datetime(2024, 7, 2, 12, 0, 5, tzinfo=UTC),
            *NY,
            "android",
        ),  # 08:00:05 EDT, Tuesday
        (None, dt.datetime(2024, 7, 2, 13, 0, tzinfo=UTC), *NY, "unknown"),  # no device id
        ("c", dt.datetime(2024, 1, 15, 1, 0, tzinfo=UTC), 40.7, -74.0, "ios"),  # 20:00 EST Sunday
        ("d", dt.datetime(2024, 7, 1, 2, 0, tzinfo=UTC), *SYD, "android"),  # 12:00 AEST Monday
    ]
)


def test_hand_computed_cell_counts():
    s = summarise(FIXTURE, 8)
    cells = s.tables["cells"].sort("pings", descending=True)
    ny = cells.filter(pl.col("cell") == NY_CELL)
    assert ny["pings"].item() == 4 and ny["no_device_pings"].item() == 1
    cf = derived.cell_frame(s).filter(pl.col("cell") == NY_CELL)
    assert cf["devices"].item() == 2  # a and b; the id-less row counts in no device statistic
    hours = cf["hour_pings"].item().to_list()
    assert hours[19] == 2 and hours[8] == 1 and hours[9] == 1 and sum(hours) == 4
    assert cf["hour_devices"].item().to_list()[19] == 1
    assert s.rows_used == 6 and s.rows_read == 6


def test_new_york_july_2330_utc_is_hour_19():
    s = summarise(FIXTURE[:1], 8)
    assert s.tables["cell_hours"]["hour"].to_list() == [19]
    assert s.tables["cell_weekdays"]["weekday"].to_list() == [0]  # still Monday locally


def test_daylight_saving_and_southern_hemisphere():
    s = summarise(FIXTURE[4:], 8)
    hours = dict(
        zip(s.tables["cell_hours"]["cell"].to_list(), s.tables["cell_hours"]["hour"].to_list())
    )
    syd_cell = h3.str_to_int(h3.latlng_to_cell(*SYD, 8))
    assert hours[syd_cell] == 12  # AEST is UTC+10 in July (winter)
    assert 20 in hours.values()  # New York in January is UTC-5


def test_dataset_tables():
    s = summarise(FIXTURE, 8)
    rows = s.tables["rows"]
    assert rows.filter(pl.col("pings") > 1)["pings"].to_list() == [2]
    coords = s.tables["coords"]
    ny = coords.filter((pl.col("lat") == NY[0]) & (pl.col("lon") == NY[1]))
    assert ny["pings"].sum() == 4 and ny.height == 3  # devices a, b and the missing id
    secs = dict(
        zip(s.tables["seconds_utc"]["second"].to_list(), s.tables["seconds_utc"]["pings"].to_list())
    )
    assert secs[23 * 3600 + 30 * 60] == 2 and secs[12 * 3600 + 5] == 1
    dec = s.tables["decimals"]
    assert (
        dec.filter((pl.col("lat_decimals") == 4) & (pl.col("lon_decimals") == 3))["pings"].sum()
        == 4
    )  # -74.006
    assert (
        dec.filter((pl.col("lat_decimals") == 4) & (pl.col("lon_decimals") == 4))["pings"].sum()
        == 1
    )  # Sydney
    assert (
        dec.filter((pl.col("lat_decimals") == 1) & (pl.col("lon_decimals") == 0))["pings"].sum()
        == 1
    )  # 40.7, -74.0
    ext = s.tables["extent"]
    assert ext["lat_min"].item() == SYD[0] and ext["lon_max"].item() == SYD[1]
    devices = derived.device_frame(s)
    a = devices.filter(pl.col("pings") == 2)
    assert a["active_days"].item() == 1 and a["device_type"].item() == "ios"
    assert set(s.rejected_by_reason) == set(REJECTION_REASONS)


def random_pings(n, seed):
    rng = np.random.default_rng(seed)
    base = 1_717_400_000_000_000
    return frame(
        [
            (
                None if rng.random() < 0.05 else f"dev{rng.integers(0, 30)}",
                dt.datetime.fromtimestamp(
                    (base + int(rng.integers(0, 20 * 86400)) * 1_000_000) / 1e6, UTC
                ),
                round(40.6 + rng.random() * 0.3, int(rng.integers(2, 7))),
                round(-74.1 + rng.random() * 0.4, int(rng.integers(2, 7))),
                str(rng.choice(["ios", "android", "unknown"])),
            )
            for _ in range(n)
        ]
    )


POOL = random_pings(400, 7)
POOL = pl.concat([POOL, POOL[:20]])  # exact duplicates that may land in different parts


def assert_summaries_equal(a, b):
    a, b = a.canonical(), b.canonical()
    assert a.rows_read == b.rows_read and a.rejected_by_reason == b.rejected_by_reason
    for name in TABLES:
        assert a.tables[name].equals(b.tables[name]), name


@given(
    st.lists(st.integers(0, len(POOL)), min_size=1, max_size=4), st.randoms(use_true_random=False)
)
@settings(max_examples=25, deadline=None)
def test_merge_of_parts_equals_summary_of_whole(cuts, rnd):
    order = list(range(len(POOL)))
    rnd.shuffle(order)
    shuffled = POOL[order]
    bounds = [0, *sorted(cuts), len(POOL)]
    parts = [shuffled[a:b] for a, b in zip(bounds, bounds[1:])]
    whole = summarise(POOL, 7)
    merged = merge(summarise(p, 7) for p in parts)
    assert_summaries_equal(whole, merged)


def test_merge_refuses_mixed_resolutions():
    import pytest

    with pytest.raises(ValueError, match="different resolutions"):
        merge([summarise(FIXTURE, 7), summarise(FIXTURE, 8)])


def test_summarise_refuses_an_unknown_option():
    import pytest

    pings = frame([("a", "2024-06-01T10:00:00", 40.7, -74.0, "ios")])
    with pytest.raises(TypeError):
        summarise(pings, 8, rows_red=5)
    assert summarise(pings, 8, rows_read=5).rows_read == 5
