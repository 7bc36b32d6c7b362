"""The offline land mask: land and water where a map has them, distances to the coast."""

import math
import time

import numpy as np
import pytest
from global_land_mask import globe

from explorer.geography.land import is_land, km_to_land


@pytest.mark.parametrize(
    ("lat", "lon", "land"),
    [
        (48.86, 2.35, True),  # Paris
        (-23.55, -46.63, True),  # São Paulo
        (43.5, -87.0, True),  # Lake Michigan: lakes count as land
        (30.0, -40.0, False),  # mid-Atlantic
        (25.5, -90.0, False),  # Gulf of Mexico
        (-33.85, 151.24, False),  # Sydney Harbour
        (40.68, -74.03, False),  # New York Harbor
        (-17.8, 177.97, True),  # Viti Levu, Fiji, next to the antimeridian
        (-16.0, -179.99, False),  # the Pacific just east of the antimeridian
    ],
)
def test_places_are_land_or_water_as_on_a_map(lat, lon, land):
    assert is_land(lat, lon).tolist() == [land]


def test_agrees_with_the_packages_own_lookup_everywhere():
    rng = np.random.default_rng(11)
    lat = rng.uniform(-89.99, 89.99, 100_000)
    lon = rng.uniform(-180, 179.999, 100_000)
    assert np.array_equal(is_land(lat, lon), globe.is_land(lat, lon))
    # Roughly 29 % of the Earth's surface is land (more of it without polar oceans).
    assert 0.25 < is_land(lat, lon).mean() < 0.40


def test_distances_to_land_are_great_circle_km_and_capped():
    # Mid-Atlantic, the middle of the Gulf of Mexico, Long Island Sound, New York Harbor.
    lat = np.array([30.0, 25.5, 41.05, 40.68, 48.86, math.nan])
    lon = np.array([-40.0, -90.0, -73.1, -74.03, 2.35, 0.0])
    km = km_to_land(lat, lon, max_km=2_000.0)
    assert 1_000 < km[0] < 2_000
    assert 250 < km[1] < 400
    assert 3 < km[2] < 15
    assert 0 < km[3] < 3
    assert km[4] == 0.0 and math.isnan(km[5])
    capped = km_to_land(lat, lon, max_km=50.0)
    assert capped[0] == capped[1] == 50.0
    assert capped[2] == pytest.approx(km[2])


def test_a_point_offshore_by_a_known_distance_is_measured_within_two_km():
    # Due west of Cabo da Roca (38.78 N, 9.50 W, mainland Europe's westernmost point) the
    # nearest land is the cape itself, so the distance is the offset.
    for offset_km in (5.0, 20.0, 50.0):
        lon = -9.500 - offset_km / (111.32 * math.cos(math.radians(38.78)))
        (km,) = km_to_land(38.78, lon, max_km=500.0)
        assert km == pytest.approx(offset_km, abs=2.0)


def test_is_land_is_fast_on_a_million_points():
    rng = np.random.default_rng(5)
    lat = rng.uniform(-60, 70, 1_000_000)
    lon = rng.uniform(-180, 180, 1_000_000)
    is_land(lat[:1], lon[:1])  # the mask loads once
    km_to_land(lat[:1], lon[:1], 50.0)  # the coast tree builds once

    start = time.perf_counter()
    is_land(lat, lon)
    km_to_land(lat, lon, 50.0)
    # Measured 0.07 s and 1.1 s on the reference machine; a generous bound for CI.
    assert time.perf_counter() - start < 15.0
