"""The benchmark's realistic shapes are what they claim: four metros, UUID ids, shuffled
rows, and three timestamp texts of the same instants."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from benchmarks.shapes import FORMATS, METROS, SHAPES, ensure_shapes, realistic_pings
from explorer.synth.cities import CITIES
from tests.benchmarks.conftest import SMALL_ROWS

UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
#: Each metro's offsets over March 2024, daylight saving included.
OFFSETS = {
    "new_york": {"-05:00", "-04:00"},
    "sao_paulo": {"-03:00"},
    "london": {"+00:00", "+01:00"},
    "singapore": {"+08:00"},
}


def _read(path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)


def _with_city(frame: pl.DataFrame) -> pl.DataFrame:
    """The metro of each ping by nearest centre (within 100 km; null otherwise)."""
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    centres = np.array([(CITIES[c].lat, CITIES[c].lon) for c in METROS])
    dist = np.hypot(lat[:, None] - centres[:, 0], lon[:, None] - centres[:, 1])
    nearest = np.array(METROS)[dist.argmin(axis=1)]
    city = pl.Series("city", nearest).set(pl.Series(dist.min(axis=1) > 1.0), None)
    return frame.with_columns(city)


@pytest.fixture(scope="module")
def frames(realistic_files) -> dict[tuple[str, str], pl.DataFrame]:
    return {
        (shape, fmt): _read(path)
        for shape, by_format in realistic_files.items()
        for fmt, path in by_format.items()
    }


def test_every_shape_and_format_holds_the_same_pings_but_the_timestamp(frames):
    reference = frames["iso_utc", "parquet"].drop("timestamp")
    assert set(frames) == {(s, f) for s in SHAPES for f in FORMATS}
    for frame in frames.values():
        assert frame.columns == ["device_id", "timestamp", "lat", "lon", "device_type"]
        assert frame["timestamp"].dtype == pl.String  # as vendors write them
        assert frame.drop("timestamp").equals(reference)
    assert SMALL_ROWS <= reference.height < 1.1 * SMALL_ROWS  # planted extras on top


def test_device_ids_are_uuids_one_per_device(frames):
    frame = frames["iso_utc", "csv"]
    assert frame["device_id"].str.contains(UUID4).all()
    devices = frame["device_id"].n_unique()
    assert SMALL_ROWS / 100 < devices < SMALL_ROWS / 10  # one id per device, not per row
    # A device lives in one metro, so each UUID stands for one synthetic device.
    homes = (
        _with_city(frame).drop_nulls("city").group_by("device_id").agg(pl.col("city").n_unique())
    )
    assert (homes["city"] == 1).all()


def test_four_metros_share_the_rows_and_are_shuffled(frames):
    frame = _with_city(frames["iso_utc", "parquet"])
    shares = frame["city"].drop_nulls().value_counts(normalize=True)
    assert sorted(shares["city"]) == sorted(METROS)
    assert shares["proportion"].min() > 0.2
    assert set(frame["city"].head(50).drop_nulls()) == set(METROS)
    instants = frame["timestamp"].str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    assert not instants.is_sorted()
    assert not instants.reverse().is_sorted()
    steps = instants.diff().drop_nulls().dt.total_seconds()
    assert (steps < 0).mean() > 0.4  # a random order goes back in time half the time


def test_the_three_timestamp_texts_are_the_same_instants(frames):
    utc = frames["iso_utc", "csv"]["timestamp"]
    assert utc.str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    instants = utc.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    offset = frames["iso_offset", "csv"]["timestamp"]
    assert offset.str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$").all()
    assert offset.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC").equals(instants)
    naive = _with_city(frames["naive_local", "csv"])
    assert naive["timestamp"].str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").all()
    wall = naive["timestamp"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    for city in METROS:
        rows = (naive["city"] == city).fill_null(False)
        local = wall.filter(rows).dt.replace_time_zone(CITIES[city].zone)
        assert local.dt.convert_time_zone("UTC").equals(instants.filter(rows))


def test_offsets_are_each_citys_real_offset_daylight_saving_included(frames):
    frame = _with_city(frames["iso_offset", "parquet"]).drop_nulls("city")
    for city in METROS:
        text = frame.filter(pl.col("city") == city)["timestamp"]
        instants = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_zone="UTC")
        expected = instants.dt.convert_time_zone(CITIES[city].zone).dt.strftime("%:z")
        assert text.str.slice(19).equals(expected)
        # March 2024 holds the US and the European change to summer time.
        assert set(text.str.slice(19)) == OFFSETS[city]


def test_generation_is_deterministic_and_scales_with_rows():
    small, again = realistic_pings(800), realistic_pings(800)
    assert small.equals(again)
    assert 800 <= small.height < 900
    assert realistic_pings(1_600).height > 1.8 * small.height


def test_files_are_made_once(realistic_files):
    path = realistic_files["iso_utc"]["parquet"]
    stamp = path.stat().st_mtime_ns
    folder = path.parent
    assert ensure_shapes(SMALL_ROWS, ("iso_utc",), folder)["iso_utc"]["parquet"] == path
    assert path.stat().st_mtime_ns == stamp
    assert not list(folder.glob("*.partial.*"))
