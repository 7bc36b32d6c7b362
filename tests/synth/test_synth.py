"""Tests of the synthetic ping generator: structure of clean data, planted biases, writing."""

from __future__ import annotations

import gzip
import io
import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from explorer.geography.timezones import local_offsets, zone_names
from explorer.synth.pings import BIAS_KINDS, CITIES, SynthResult, generate_pings, write_pings

N = 100_000
SEED = 5
PLACE_KINDS = (
    "coordinate_pileup",
    "density_spike",
    "device_concentration",
    "hour_profile",
    "device_type_skew",
)


def haversine_km(lat, lon, lat0, lon0) -> np.ndarray:
    """Great-circle distance in km (independent of the generator's planar helper)."""
    lat, lon = np.radians(np.asarray(lat)), np.radians(np.asarray(lon))
    lat0, lon0 = np.radians(np.asarray(lat0)), np.radians(np.asarray(lon0))
    a = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def local_seconds_of_day(frame: pl.DataFrame) -> np.ndarray:
    """Seconds since local midnight at each ping's place."""
    offset = local_offsets(frame["timestamp"], zone_names(frame["lat"], frame["lon"]))
    local = frame["timestamp"].dt.epoch("s").to_numpy() + offset.to_numpy().astype(np.int64)
    return local % 86_400


def near(frame: pl.DataFrame, lat: float, lon: float, km: float) -> pl.DataFrame:
    return frame.filter(haversine_km(frame["lat"], frame["lon"], lat, lon) <= km)


def planted(result: SynthResult, kind: str):
    (entry,) = [p for p in result.planted if p.kind == kind]
    return entry


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return generate_pings(200_000, seed=11).pings


@pytest.fixture(scope="module")
def clean_small() -> pl.DataFrame:
    return generate_pings(N, seed=SEED).pings


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    first = generate_pings(20_000, seed=3, biases=BIAS_KINDS)
    again = generate_pings(20_000, seed=3, biases=BIAS_KINDS)
    other = generate_pings(20_000, seed=4, biases=BIAS_KINDS)
    assert first.pings.equals(again.pings)
    assert first.planted == again.planted
    assert not first.pings.equals(other.pings)


def test_canonical_schema_and_size(clean: pl.DataFrame) -> None:
    assert clean.schema == pl.Schema(
        {
            "device_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "lat": pl.Float64,
            "lon": pl.Float64,
            "device_type": pl.String,
        }
    )
    assert abs(clean.height - 200_000) <= 10_000
    assert set(clean["device_type"].unique()) == {"ios", "android"}
    assert clean.null_count().sum_horizontal().item() == 0
    # About one device per 40 pings; a few quiet ones send nothing in two weeks.
    assert 4_000 <= clean["device_id"].n_unique() <= 5_000


def test_unknown_bias_or_city_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bias"):
        generate_pings(1000, biases=("teleportation",))
    with pytest.raises(ValueError, match="unknown city"):
        generate_pings(1000, city="atlantis")


def test_clean_local_day_is_human(clean: pl.DataFrame) -> None:
    hour = local_seconds_of_day(clean) // 3600
    shares = np.bincount(hour, minlength=24) / len(hour)
    assert shares[1:5].sum() < 0.06
    assert shares[18:22].sum() > 5 * shares[1:5].sum()
    assert shares[8] > 3 * shares[3]
    # Weekends wake up later: a smaller share of the day's pings before 9 a.m.
    local_day = clean["timestamp"].dt.convert_time_zone("America/New_York").dt.weekday()
    weekend = (local_day >= 6).to_numpy()
    morning = (hour >= 6) & (hour < 9)
    assert morning[~weekend].mean() > morning[weekend].mean() + 0.02


def test_clean_activity_is_heavy_tailed(clean: pl.DataFrame) -> None:
    per_device = clean.group_by("device_id").len()["len"].sort(descending=True).to_numpy()
    top = per_device[: max(1, len(per_device) // 100)]
    assert top.sum() / per_device.sum() > 0.08
    assert np.median(per_device) / 14 < 3
    assert per_device[0] / 14 > 100


def test_clean_rows_look_measured(clean: pl.DataFrame) -> None:
    assert clean.is_duplicated().sum() == 0
    assert clean.filter((pl.col("lat").abs() < 1) & (pl.col("lon").abs() < 1)).height == 0
    lat = clean["lat"].to_numpy()
    assert np.mean(np.round(lat, 5) != lat) > 0.99
    seconds = clean["timestamp"].dt.epoch("s").to_numpy()
    by_second = np.bincount(seconds % 60, minlength=60)
    assert by_second.max() < 1.2 * by_second.mean()
    assert np.mean(local_seconds_of_day(clean) == 0) < 0.001


def test_clean_pings_follow_home_and_work(clean: pl.DataFrame) -> None:
    city = CITIES["new_york"]
    hour = local_seconds_of_day(clean) // 3600
    local_day = clean["timestamp"].dt.convert_time_zone("America/New_York").dt.weekday()
    frame = clean.with_columns(
        dist=haversine_km(clean["lat"], clean["lon"], city.lat, city.lon),
        office=(local_day <= 5).to_numpy() & (hour >= 10) & (hour < 16),
        night=hour < 5,
    )
    per_device = frame.group_by("device_id").agg(
        office=pl.col("dist").filter("office").median(),
        night=pl.col("dist").filter("night").median(),
        home_lat=pl.col("lat").filter("night").median(),
        home_lon=pl.col("lon").filter("night").median(),
        nights=pl.col("night").sum(),
    )
    # Workplaces crowd the centre more than homes do (one vote per device).
    assert per_device["office"].median() < 0.8 * per_device["night"].median()
    # At night a device sits at home: its night pings stay within GPS jitter of one spot.
    sleepers = per_device.filter(pl.col("nights") >= 5)
    night = frame.filter("night").join(sleepers, on="device_id")
    spread = haversine_km(night["lat"], night["lon"], night["home_lat"], night["home_lon"])
    assert np.mean(spread < 0.15) > 0.8
    assert np.quantile(frame["dist"], 0.99) < city.radius_km * 1.3


def test_os_mix_varies_smoothly_and_each_device_has_one_os(clean: pl.DataFrame) -> None:
    assert (
        clean.group_by("device_id").agg(pl.col("device_type").n_unique())["device_type"].max() == 1
    )
    squares = (
        clean.with_columns(gx=(pl.col("lon") / 0.05).floor(), gy=(pl.col("lat") / 0.05).floor())
        .unique(["device_id", "gx", "gy"])
        .group_by("gx", "gy")
        .agg(devices=pl.len(), ios=(pl.col("device_type") == "ios").mean())
        .filter(pl.col("devices") >= 300)
    )
    assert squares.height >= 5
    assert squares["ios"].min() >= 0.30
    assert squares["ios"].max() <= 0.65
    assert squares["ios"].max() - squares["ios"].min() > 0.06
    overall = clean.unique("device_id")["device_type"].eq("ios").mean()
    assert 0.40 <= overall <= 0.52


def test_null_island(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["null_island"])
    frame = result.pings
    at_zero = frame.filter((pl.col("lat").abs() <= 1e-4) & (pl.col("lon").abs() <= 1e-4))
    assert 0.0045 <= at_zero.height / frame.height <= 0.0055
    assert at_zero.filter((pl.col("lat") == 0) & (pl.col("lon") == 0)).height > at_zero.height / 2
    entry = planted(result, "null_island")
    assert (entry.lat, entry.lon, entry.rows) == (0.0, 0.0, at_zero.height)
    assert frame.height == clean_small.height


def test_duplicate_pings(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["duplicate_pings"])
    copies = result.pings.height - result.pings.unique().height
    assert copies == result.pings.height - clean_small.height
    assert 0.019 <= copies / clean_small.height <= 0.021
    assert planted(result, "duplicate_pings").rows == copies


def test_timestamp_heaping(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["timestamp_heaping"])
    midnight = np.mean(local_seconds_of_day(result.pings) == 0)
    assert 0.019 <= midnight <= 0.0215
    assert np.mean(local_seconds_of_day(clean_small) == 0) < 0.0005


def test_coordinate_precision() -> None:
    result = generate_pings(N, seed=SEED, biases=["coordinate_precision"])

    def at_most_3_decimals(col: str) -> pl.Expr:
        scaled = pl.col(col) * 1000
        return (scaled - scaled.round()).abs() < 1e-6

    per_device = result.pings.group_by("device_id").agg(
        coarse=(at_most_3_decimals("lat") & at_most_3_decimals("lon")).all()
    )
    assert 0.23 <= per_device["coarse"].mean() <= 0.27
    entry = planted(result, "coordinate_precision")
    assert entry.lat is None and entry.rows > 0


def test_coordinate_pileup() -> None:
    result = generate_pings(N, seed=SEED, biases=["coordinate_pileup"])
    top = (
        result.pings.group_by("lat", "lon")
        .agg(pings=pl.len(), devices=pl.col("device_id").n_unique())
        .sort("pings", descending=True)
        .row(0, named=True)
    )
    entry = planted(result, "coordinate_pileup")
    assert (top["lat"], top["lon"]) == (entry.lat, entry.lon)
    assert 0.02 <= top["pings"] / result.pings.height <= 0.03
    assert top["devices"] >= 200
    city = CITIES["new_york"]
    assert 2 <= haversine_km(entry.lat, entry.lon, city.lat, city.lon) <= 8


def test_density_spike(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["density_spike"])
    entry = planted(result, "density_spike")
    frame = result.pings
    cell_km = math.sqrt(0.737 / math.pi)  # radius of a disk as large as an H3 res-8 cell
    in_cell = near(frame, entry.lat, entry.lon, cell_km).height / 0.737
    ring = (
        near(frame, entry.lat, entry.lon, 1.5).height
        - near(frame, entry.lat, entry.lon, cell_km).height
    )
    around = ring / (math.pi * (1.5**2 - cell_km**2))
    assert 8 <= in_cell / around <= 25
    venue = near(frame, entry.lat, entry.lon, 0.1)
    assert venue["device_id"].n_unique() >= 50
    assert venue.height > 20 * near(clean_small, entry.lat, entry.lon, 0.1).height


def test_device_concentration() -> None:
    result = generate_pings(200_000, seed=SEED, biases=["device_concentration"])
    entry = planted(result, "device_concentration")
    counts = result.pings.group_by("device_id").len().sort("len", descending=True)
    top_id, top_count = counts.row(0)
    assert 14_000 <= top_count <= 16_000
    assert top_count > 100 * counts["len"].median()
    mine = result.pings.filter(pl.col("device_id") == top_id)
    assert near(mine, entry.lat, entry.lon, 0.1).height == mine.height


def test_hour_profile(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["hour_profile"])
    entry = planted(result, "hour_profile")
    area = near(result.pings, entry.lat, entry.lon, 0.5)
    hour = local_seconds_of_day(area) // 3600
    assert np.all((hour >= 1) & (hour < 4))
    assert area["device_id"].n_unique() >= 50
    before = local_seconds_of_day(near(clean_small, entry.lat, entry.lon, 0.5)) // 3600
    assert np.mean((before >= 1) & (before < 4)) < 0.1


def test_device_type_skew(clean_small: pl.DataFrame) -> None:
    result = generate_pings(N, seed=SEED, biases=["device_type_skew"])
    entry = planted(result, "device_type_skew")
    devices = near(result.pings, entry.lat, entry.lon, 0.5).unique("device_id")
    assert devices.height >= 50
    assert devices["device_type"].eq("ios").mean() >= 0.82
    overall = result.pings.unique("device_id")["device_type"].eq("ios").mean()
    assert 0.40 <= overall <= 0.55
    before = near(clean_small, entry.lat, entry.lon, 0.5).unique("device_id")
    assert before["device_type"].eq("ios").mean() <= 0.65


@pytest.mark.parametrize(("city", "hours"), [("new_york", 4), ("sao_paulo", 3), ("london", -1)])
def test_timezone_shift(city: str, hours: int) -> None:
    clean = generate_pings(5_000, city=city, seed=2).pings
    result = generate_pings(5_000, city=city, seed=2, biases=["timezone_shift"])
    shift = (result.pings["timestamp"] - clean["timestamp"]).dt.total_seconds()
    assert (shift == hours * 3600).all()
    entry = planted(result, "timezone_shift")
    assert entry.lat is None and entry.rows == clean.height
    assert f"{hours:+d} h" in entry.description


def test_places_are_recorded_and_apart() -> None:
    result = generate_pings(N, seed=SEED, biases=BIAS_KINDS)
    assert [p.kind for p in result.planted] == list(BIAS_KINDS)
    places = {p.kind: (p.lat, p.lon) for p in result.planted if p.kind in PLACE_KINDS}
    assert set(places) == set(PLACE_KINDS)
    for (a, pa), (b, pb) in itertools.combinations(places.items(), 2):
        assert haversine_km(pa[0], pa[1], *pb) >= 3.0, (a, b)
    for entry in result.planted:
        assert entry.rows > 0 and entry.description
        if entry.kind not in PLACE_KINDS and entry.kind != "null_island":
            assert entry.lat is None and entry.lon is None


def _read_back(path, suffix: str) -> pl.DataFrame:
    if suffix == ".parquet":
        return pl.from_arrow(pq.read_table(path))
    raw = path.read_bytes()
    if suffix == ".csv.gz":
        raw = gzip.decompress(raw)
    return pl.read_csv(io.BytesIO(raw), schema_overrides={"device_id": pl.String})


def _instants(column: pl.Series, time_format: str) -> list[datetime]:
    values = column.to_list()
    if time_format == "epoch_ms":
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return [epoch + timedelta(milliseconds=v) for v in values]
    if time_format == "iso_utc":
        assert all(v.endswith("Z") and "T" in v for v in values)
        return [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values]
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    return [datetime.fromisoformat(v).replace(tzinfo=zone) for v in values]


@pytest.mark.parametrize(
    ("time_format", "suffix"),
    list(
        itertools.product(("epoch_ms", "iso_utc", "naive_local"), (".csv", ".csv.gz", ".parquet"))
    ),
)
def test_write_pings_round_trips(tmp_path, time_format: str, suffix: str) -> None:
    result = generate_pings(3_000, seed=9, biases=["coordinate_precision", "duplicate_pings"])
    path = tmp_path / f"pings{suffix}"
    write_pings(result, path, time_format=time_format)
    back = _read_back(path, suffix)
    original = result.pings
    assert back.columns == ["device_id", "timestamp", "lat", "lon", "device_type"]
    for name in ("device_id", "lat", "lon", "device_type"):
        assert back[name].to_list() == original[name].to_list(), name
    assert _instants(back["timestamp"], time_format) == original["timestamp"].to_list()


def test_write_pings_accepts_a_frame_and_refuses_unknown_suffix(tmp_path) -> None:
    frame = generate_pings(500, seed=1).pings
    write_pings(frame, tmp_path / "p.csv", time_format="iso_utc")
    first = (tmp_path / "p.csv").read_text().splitlines()[1].split(",")[1]
    expected = frame["timestamp"][0].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first == expected
    with pytest.raises(ValueError, match="format"):
        write_pings(frame, tmp_path / "p.json")
