"""The panel views agree with plain computations on the pings, and merge like the tables.

Daily series are recomputed from the raw rows with local days (polars' own time-zone
conversion), hourly series with UTC hours, per-device figures and usable-panel rules by
brute force; summaries of two halves merged give the same views as the whole.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from explorer.errors import PingFileError
from explorer.reading.device_hash import device_hashes
from explorer.summary import merge, summarise
from explorer.summary.panel import (
    daily_series,
    daily_types,
    hourly_pings,
    hourly_series,
    iso_hour,
    median_gaps,
    panel_devices,
    quantiles,
)
from explorer.summary.panel_rule import (
    PanelRule,
    cells_kept,
    kept_devices,
    parse_rule,
    survival_table,
)
from explorer.synth.panel_biases import drop_period, local_midnight
from explorer.synth.pings import generate_pings

RES = 8


@pytest.fixture(
    scope="module", params=[("new_york", "America/New_York"), ("london", "Europe/London")]
)
def city(request):
    key, zone = request.param
    pings = generate_pings(40_000, city=key, seed=4, days=10).pings
    # A hole of a whole local day and a row without a device id.
    hole = local_midnight(dt.date(2024, 6, 8), zone)
    pings = drop_period(pings, hole, hole + dt.timedelta(days=1))
    loose = pings.head(3).with_columns(device_id=pl.lit(None, pl.String))
    pings = pl.concat([pings, loose])
    return pings, zone, summarise(pings, RES)


def _local(pings: pl.DataFrame, zone: str) -> pl.DataFrame:
    return pings.with_columns(
        local=pl.col("timestamp").dt.convert_time_zone(zone),
        device=device_hashes(pings["device_id"]),
    ).with_columns(day=pl.col("local").dt.date(), hour=pl.col("local").dt.hour())


def test_daily_series_equals_local_days_counted_from_the_rows(city):
    pings, zone, summary = city
    rows = _local(pings, zone)
    ours = daily_series(summary)
    expected_pings = rows.group_by("day").agg(pl.len().alias("pings"))
    with_id = rows.filter(pl.col("device").is_not_null())
    devices = with_id.group_by("day").agg(pl.col("device").n_unique().alias("devices"))
    first = with_id.group_by("device").agg(pl.col("day").min().alias("day"))
    new = first.group_by("day").agg(pl.len().alias("new"))
    joined = (
        ours.join(expected_pings, on="day", how="left", suffix="_ref")
        .join(devices, on="day", how="left", suffix="_ref")
        .join(new, on="day", how="left")
        .fill_null(0)
    )
    assert (joined["pings"] == joined["pings_ref"]).all()
    assert (joined["devices"] == joined["devices_ref"]).all()
    assert (joined["new_devices"] == joined["new"]).all()
    assert (joined["returning_devices"] == joined["devices"] - joined["new"]).all()
    # The hole is a day with no pings, not a missing row.
    assert ours.filter(pl.col("day") == dt.date(2024, 6, 8))["pings"].to_list() == [0]
    assert ours["day"].diff().drop_nulls().unique().to_list() == [dt.timedelta(days=1)]


def test_hourly_series_counts_utc_hours_and_keeps_empty_ones(city):
    pings, zone, summary = city
    ours = hourly_series(summary)
    hour = (pl.col("timestamp").dt.epoch("s") // 3600).cast(pl.Int32)
    ref = pings.group_by(hour.alias("hour")).agg(pl.len().alias("ref"))
    joined = ours.join(ref, on="hour", how="left").fill_null(0)
    assert (joined["pings"] == joined["ref"]).all()
    assert ours["hour"].diff().drop_nulls().unique().to_list() == [1]
    hole = local_midnight(dt.date(2024, 6, 8), zone)
    inside = ours.filter(pl.col("start").is_between(hole, hole + dt.timedelta(hours=23)))
    assert inside.height == 24 and inside["pings"].sum() == 0
    assert iso_hour(int(inside["hour"][0])) == hole.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hourly_pings(summary).equals(ours.select("hour", "start", "pings"))


def test_per_device_days_hours_and_types(city):
    pings, zone, summary = city
    rows = _local(pings, zone).filter(pl.col("device").is_not_null())
    per_day = rows.group_by("device", "day").agg(pl.col("hour").n_unique().alias("hours"))
    ref = per_day.group_by("device").agg(
        pl.len().alias("days"), pl.col("hours").mean().alias("hours_ref")
    )
    ours = panel_devices(summary).join(ref, on="device")
    assert ours.height == rows["device"].n_unique()
    assert (ours["active_days"] == ours["days"]).all()
    assert np.allclose(ours["hours_per_day"], ours["hours_ref"])
    types = daily_types(summary)
    assert types["devices"].sum() == per_day.height


def test_median_gap_is_exact_for_sparse_pings_and_even_spacing():
    base = dt.datetime(2024, 6, 3, tzinfo=dt.UTC)
    stamps = (
        # a: one ping every 2 hours (each in its own hour): the gaps are exact, 7,200 s.
        [base + dt.timedelta(hours=2 * i) for i in range(6)]
        # b: 5 pings 60 s apart within one hour, then one 3 hours later: gaps 60 x4, ~3 h.
        + [base + dt.timedelta(seconds=60 * i) for i in range(5)]
        + [base + dt.timedelta(hours=3)]
        + [base]  # c: a single ping, no gap
    )
    frame = pl.DataFrame(
        {
            "device_id": ["a"] * 6 + ["b"] * 6 + ["c"],
            "timestamp": stamps,
            "lat": [40.7] * 13,
            "lon": [-74.0] * 13,
            "device_type": ["ios"] * 13,
        }
    )
    gaps = median_gaps(summarise(frame, RES))
    ids = frame.select(device=device_hashes(frame["device_id"]), id="device_id").unique()
    named = gaps.join(ids, on="device")
    by_device = dict(zip(named["id"], named["median_gap_s"], strict=True))
    assert by_device == {"a": 7_200.0, "b": 60.0}


def test_median_gaps_of_many_devices_come_from_a_fixed_sample(city):
    _, _, summary = city
    every = median_gaps(summary)
    some = median_gaps(summary, sample=50)
    # The sample: the 50 devices of the smallest hashes (those with two pings or more
    # have a gap), with the same gaps as computed for every device.
    cutoff = summary.tables["devices"]["device"].unique().sort()[49]
    expected = every.filter(pl.col("device") <= cutoff).sort("device")
    assert 40 <= some.height <= 50 and every.height > 200
    assert some.sort("device").equals(expected)


def test_survival_table_and_kept_devices_equal_brute_force(city):
    pings, zone, summary = city
    rows = _local(pings, zone).filter(pl.col("device").is_not_null())
    per_day = rows.group_by("device", "day").agg(pl.col("hour").n_unique().alias("hours"))
    totals = rows.group_by("device").agg(pl.len().alias("pings"))
    table = survival_table(summary)
    for n, m, devices, pings_kept in table.select(
        "min_days", "min_hours", "devices", "pings"
    ).iter_rows():
        good = (
            per_day.filter(pl.col("hours") >= m)
            .group_by("device")
            .agg(pl.len().alias("n"))
            .filter(pl.col("n") >= n)
        )
        assert devices == good.height
        assert pings_kept == totals.join(good, on="device")["pings"].sum()
    # Rules are monotone: asking more keeps fewer devices.
    for _, group in table.group_by("min_hours"):
        assert (group.sort("min_days")["devices"].diff().drop_nulls() <= 0).all()
    rule = PanelRule(3, 2)
    kept = set(kept_devices(summary, rule).to_list())
    row = table.filter((pl.col("min_days") == 3) & (pl.col("min_hours") == 2))
    assert len(kept) == row["devices"].item()
    cells = cells_kept(summary, rule)
    assert ((cells["share_lost"] >= 0) & (cells["share_lost"] <= 1)).all()
    assert cells["devices_kept"].sum() == (
        summary.tables["cell_devices"].filter(pl.col("device").is_in(list(kept))).height
    )


def test_views_of_merged_halves_equal_the_whole(city):
    pings, _, whole = city
    half = pings.height // 2
    merged = merge([summarise(pings[:half], RES), summarise(pings[half:], RES)])
    for view in (daily_series, hourly_series, daily_types, panel_devices):
        assert view(merged).equals(view(whole)), view.__name__
    assert survival_table(merged).equals(survival_table(whole))


def test_rules_are_parsed_or_refused_in_one_sentence():
    assert parse_rule(" 3, 4 ") == PanelRule(3, 4)
    assert PanelRule(7, 8).words() == "at least 7 days with 8 or more hours seen"
    assert PanelRule(1, 1).text() == "1,1"
    for bad in ("3", "three,4", "0,4", "3,25", "3,4,5", ""):
        with pytest.raises(PingFileError) as error:
            parse_rule(bad)
        message = str(error.value)
        assert "e.g. 3,4" in message and message.replace("e.g.", "").count(". ") == 0


def test_quantiles_ignore_missing_values():
    assert quantiles(pl.Series([1.0, None, 3.0, float("nan")]))["p50"] == 2.0
    assert quantiles(pl.Series([], dtype=pl.Float64))["p90"] is None


def test_an_empty_summary_gives_empty_views():
    empty = summarise(
        pl.DataFrame(
            schema={
                "device_id": pl.String,
                "timestamp": pl.Datetime("us", "UTC"),
                "lat": pl.Float64,
                "lon": pl.Float64,
                "device_type": pl.String,
            }
        ),
        RES,
    )
    assert daily_series(empty).is_empty() and hourly_series(empty).is_empty()
    assert panel_devices(empty).is_empty()
    assert survival_table(empty)["devices"].sum() == 0
