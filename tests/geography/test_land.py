"""The offline land mask: land and water where a map has them, distances to the coast."""

import math

import numpy as np
import pytest
from global_land_mask import globe

from explorer.geography import land
from explorer.geography.land import far_from_land, is_land, km_to_land


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


# The window test on synthetic masks of the real grid: 21,600 × 43,200 pixels of 30".
ROWS, COLS, BLOCK = 21_600, 43_200, 120


def synthetic_mask(monkeypatch, land_at):
    """Replace the shipped mask with ``land_at(rows, cols) -> bool`` on the same grid."""
    rows, cols = np.meshgrid(np.arange(BLOCK), np.arange(COLS), indexing="ij")

    def block(index):
        return np.packbits(land_at(rows + index * BLOCK, cols), axis=1)

    monkeypatch.setattr(land, "_grid", lambda: (ROWS, COLS, BLOCK))
    monkeypatch.setattr(land, "_block", block)


def km_east(lat, lon, km):
    """The longitude ``km`` due east of (lat, lon) along the parallel."""
    return lon + km / (111.195 * math.cos(math.radians(lat)))


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0])
def test_a_point_14_km_off_a_straight_coast_is_near_land_and_16_km_is_far(monkeypatch, lat):
    coast_lon = 10.0  # land west of the meridian 10° E, water east of it
    synthetic_mask(monkeypatch, lambda r, c: c < (coast_lon + 180) * 120)
    lats = np.array([lat, lat, lat])
    lons = np.array([km_east(lat, coast_lon, km) for km in (14.0, 16.0, 60.0)])
    assert far_from_land(lats, lons, 15.0).tolist() == [False, True, True]
    assert far_from_land(lat, coast_lon - 0.01, 15.0).tolist() == [False]  # on land


def test_the_window_wraps_at_the_antimeridian(monkeypatch):
    # Land only in the last pixels west of 180°, then only in the first ones east of -180°.
    synthetic_mask(monkeypatch, lambda r, c: c >= COLS - 5)
    lats = np.zeros(3)
    lons = np.array([-179.9, -179.8, 179.0])  # ~11 km, ~22 km and ~111 km from that land
    assert far_from_land(lats, lons, 15.0).tolist() == [False, True, True]
    synthetic_mask(monkeypatch, lambda r, c: c < 5)
    assert far_from_land(lats, [179.9, 179.8, -179.0], 15.0).tolist() == [False, True, True]


def test_the_window_crosses_a_pole(monkeypatch):
    # One land pixel 0.09° from the North Pole on the meridian 180°; points on the meridian
    # 0° are as far from it as their own distance to the pole plus 10 km.
    synthetic_mask(monkeypatch, lambda r, c: (r == 10) & (c == 0))
    lats = np.array([89.98, 89.9, 89.98])  # ~12 km and ~21 km across the pole, ~10 km
    assert far_from_land(lats, [0.0, 0.0, -180.0], 15.0).tolist() == [False, True, False]
    # And the same at the South Pole, land on the meridian 0° seen from 180°.
    synthetic_mask(monkeypatch, lambda r, c: (r == ROWS - 11) & (c == COLS // 2))
    assert far_from_land(-lats, [-180.0, -180.0, 0.0], 15.0).tolist() == [False, True, False]


def test_the_window_test_agrees_with_distances_but_at_the_margin():
    rng = np.random.default_rng(3)
    # The Aegean and the Norwegian coast: islands, fjords and open sea.
    lat = np.concatenate([rng.uniform(35, 41, 4_000), rng.uniform(60, 70, 4_000)])
    lon = np.concatenate([rng.uniform(22, 28, 4_000), rng.uniform(0, 15, 4_000)])
    far = far_from_land(lat, lon, 15.0)
    km = km_to_land(lat, lon, 100.0)
    assert 500 < far.sum() < 7_500 and np.array_equal(far & (km == 0), np.zeros_like(far))
    differ = far != (km > 15.0)
    # A window of pixel centres and a distance to coast-pixel centres differ within a pixel.
    assert differ.mean() < 0.01
    assert np.all((km[differ] > 14.0) & (km[differ] < 16.0))
    assert far_from_land([89.99, -89.99, math.nan], [0.0, 0.0, 0.0], 15.0).tolist() == [
        True,  # the Arctic Ocean at the North Pole
        False,  # Antarctica
        False,
    ]


def test_a_city_decodes_only_its_degree_of_latitude_and_builds_no_tree():
    land._block.cache_clear()
    land._coast_tree.cache_clear()
    rng = np.random.default_rng(8)
    lat, lon = rng.uniform(40.5, 40.9, 50_000), rng.uniform(-74.2, -73.7, 50_000)  # New York
    assert not far_from_land(lat, lon, 15.0).any()
    assert land._block.cache_info().currsize == 2  # 40-41° N, and 41-42° N for the windows
    assert land._coast_tree.cache_info().currsize == 0
