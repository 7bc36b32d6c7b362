"""The generator's coastal and antimeridian cities and its several-metros files."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import polars as pl
import pytest
from shapely import contains_xy
from shapely.geometry import Polygon

from explorer.synth.pings import (
    BIAS_KINDS,
    CITIES,
    METROS,
    TRAVELLER_SHARE,
    generate_metros,
    generate_pings,
)

N = 60_000


def digest(frame: pl.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(frame["lat"].to_numpy().tobytes())
    h.update(frame["lon"].to_numpy().tobytes())
    h.update(frame["timestamp"].dt.epoch("us").to_numpy().tobytes())
    h.update("\n".join(frame["device_id"]).encode())
    h.update("\n".join(frame["device_type"]).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    ("city", "seed", "biases", "expected"),
    [
        ("new_york", 0, (), "54bb898fafa3334f"),
        ("sao_paulo", 1, (), "fc9b2296298921a7"),
        ("london", 3, BIAS_KINDS, "ec269517966491e9"),
        ("new_york", 4, BIAS_KINDS, "ef213db76e4a3269"),
    ],
)
def test_existing_cities_and_seeds_give_the_data_they_always_gave(city, seed, biases, expected):
    # Pinned before the coastal and antimeridian cities were added.
    assert digest(generate_pings(20_000, city=city, seed=seed, biases=biases).pings) == expected


def lon_gap(lon: np.ndarray, lon0: float) -> np.ndarray:
    return (np.asarray(lon) - lon0 + 180.0) % 360.0 - 180.0


def land_polygon(key: str) -> Polygon:
    """The city's land outline in (lon, lat), longitudes unwrapped around its centre."""
    city = CITIES[key]
    return Polygon([(city.lon + lon_gap(lon, city.lon), lat) for lat, lon in city.land])


def share_on_land(pings: pl.DataFrame, key: str) -> float:
    city = CITIES[key]
    lon = city.lon + lon_gap(pings["lon"].to_numpy(), city.lon)
    return float(contains_xy(land_polygon(key), lon, pings["lat"].to_numpy()).mean())


@pytest.mark.parametrize("key", ["singapore", "taveuni"])
def test_a_coastal_city_lives_on_land_with_a_little_gps_noise_offshore(key, monkeypatch):
    # Homes, workplaces and other places are on land; commutes and GPS noise stray
    # a few metres past the (conservative) outline.
    assert share_on_land(generate_pings(N, city=key, seed=2).pings, key) > 0.98
    # Without its outline the city's density gradient spills into the sea.
    monkeypatch.setitem(CITIES, "open_sea", dataclasses.replace(CITIES[key], land=()))
    assert share_on_land(generate_pings(N, city="open_sea", seed=2).pings, key) < 0.9


def test_the_antimeridian_city_wraps_its_longitudes():
    pings = generate_pings(N, city="taveuni", seed=1, biases=BIAS_KINDS).pings
    lon = pings["lon"].to_numpy()
    real = ~((pings["lat"].abs() < 1e-3) & (pings["lon"].abs() < 1e-3)).to_numpy()
    assert ((lon >= -180.0) & (lon < 180.0)).all()
    assert (lon[real] > 179.0).mean() > 0.05 and (lon[real] < -179.0).mean() > 0.5
    # Every real ping lies within ~25 km of the centre the short way round.
    dx = lon_gap(lon[real], CITIES["taveuni"].lon) * 106.5
    dy = (pings["lat"].to_numpy()[real] - CITIES["taveuni"].lat) * 110.6
    assert np.hypot(dx, dy).max() < 25


def test_several_metros_share_the_pings_and_the_seed_fixes_the_data():
    result = generate_metros(N, seed=4)
    again = generate_metros(N, seed=4)
    assert result.city == "+".join(METROS)
    assert digest(result.pings) == digest(again.pings)
    assert digest(generate_metros(N, seed=5).pings) != digest(result.pings)
    near = nearest_metro(result.pings)
    shares = np.bincount(near, minlength=len(METROS)) / len(near)
    assert shares == pytest.approx(np.full(len(METROS), 1 / len(METROS)), abs=0.04)


def nearest_metro(pings: pl.DataFrame, metros=METROS) -> np.ndarray:
    lat, lon = pings["lat"].to_numpy(), pings["lon"].to_numpy()
    km = np.stack(
        [
            np.hypot(
                lon_gap(lon, CITIES[k].lon) * 111.3 * np.cos(np.radians(CITIES[k].lat)),
                (lat - CITIES[k].lat) * 110.6,
            )
            for k in metros
        ]
    )
    assert km.min(axis=0).max() < 60  # every ping is in some metro
    return km.argmin(axis=0)


def test_devices_stay_in_their_metro_except_a_few_travellers_at_airliner_speeds():
    pings = generate_metros(150_000, seed=6).pings
    pings = pings.with_columns(metro=pl.Series(nearest_metro(pings)))
    per_device = pings.group_by("device_id").agg(pl.col("metro").n_unique().alias("metros"))
    travellers = per_device.filter(pl.col("metros") > 1)
    assert 1 <= travellers.height <= 3 * TRAVELLER_SHARE * per_device.height
    assert travellers["metros"].max() == 2  # one flight each
    trips = (
        pings.filter(pl.col("device_id").is_in(travellers["device_id"].implode()))
        .sort("device_id", "timestamp")
        .with_columns(
            moved=pl.col("metro") != pl.col("metro").shift(1).over("device_id"),
            hours=(
                pl.col("timestamp") - pl.col("timestamp").shift(1).over("device_id")
            ).dt.total_seconds()
            / 3600,
        )
        .filter(pl.col("moved"))
    )
    assert trips.height == travellers.height
    # New York–London is the shortest hop (5,570 km): at least 7 hours door to door.
    assert trips["hours"].min() > 5_570 / 900


def test_unknown_metros_are_refused():
    with pytest.raises(ValueError, match="unknown cities"):
        generate_metros(1_000, cities=("new_york", "atlantis"))
