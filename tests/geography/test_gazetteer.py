"""The offline gazetteer names the points that data defaults to, and nothing far from them."""

import math

import numpy as np
import pytest

from explorer.geography.gazetteer import KINDS, KnownPlace, known_places, known_places_near


def test_the_shipped_file_holds_every_kind_with_sane_coordinates():
    places = known_places()
    assert 1_000 < len(places) < 5_000
    assert {p.kind for p in places} == set(KINDS)
    assert all(-90 <= p.lat <= 90 and -180 <= p.lon <= 180 for p in places)
    assert all(p.name and p.source for p in places)


@pytest.mark.parametrize(
    ("lat", "lon", "name", "kind"),
    [
        (46.0, 2.0, "the centroid of France", "country_centroid"),  # REST Countries / MaxMind
        (46.62, 2.45, "the centroid of France", "country_centroid"),  # Natural Earth polygon
        (48.8566, 2.3522, "Paris, the capital of France", "capital"),
        (31.48, -99.35, "the centroid of Texas, United States", "region_centroid"),
        (50.46, -86.09, "the centroid of Ontario, Canada", "region_centroid"),
        (-22.26, -48.74, "the centroid of São Paulo, Brazil", "region_centroid"),
        (
            39.8283,
            -98.5795,
            "the geographic centre of the contiguous United States",
            "default_coordinate",
        ),
        (37.751, -97.822, "MaxMind's default point for the United States", "default_coordinate"),
        (35.6895, 139.6917, "Tokyo, the capital of Japan", "capital"),
        (-17.8, 177.97, "the centroid of Fiji", "country_centroid"),  # across the antimeridian
    ],
)
def test_a_default_point_is_named_as_a_story_says_it(lat, lon, name, kind):
    (place,) = known_places_near(lat, lon, within_km=2.0)
    assert isinstance(place, KnownPlace)
    assert (place.name, place.kind) == (name, kind)


def test_points_away_from_every_known_place_get_none():
    # Mid-Atlantic, a Brooklyn street, the Sahara between places, and a missing coordinate.
    lat = np.array([30.0, 40.65, 23.0, math.nan])
    lon = np.array([-40.0, -73.95, 8.0, 10.0])
    assert known_places_near(lat, lon, within_km=1.0) == [None] * 4


def test_the_radius_is_great_circle_kilometres_and_the_nearest_place_wins():
    paris = 48.85341, 2.3488  # GeoNames' Paris
    north_by_5km = paris[0] + 5.0 / 111.195
    assert known_places_near(north_by_5km, paris[1], within_km=4.9) == [None]
    (place,) = known_places_near(north_by_5km, paris[1], within_km=5.1)
    assert place.name == "Paris, the capital of France"
    # Between the MaxMind point and the contiguous-US centre, each side gets its own.
    lat = np.array([37.76, 39.82])
    lon = np.array([-97.83, -98.57])
    names = [p.name for p in known_places_near(lat, lon, within_km=50.0)]
    assert names == [
        "MaxMind's default point for the United States",
        "the geographic centre of the contiguous United States",
    ]


def test_lookup_is_vectorised_over_many_points():
    rng = np.random.default_rng(7)
    lat = rng.uniform(-60, 70, 200_000)
    lon = rng.uniform(-180, 180, 200_000)
    lat[:3], lon[:3] = (46.0, 48.8566, 39.8283), (2.0, 2.3522, -98.5795)
    found = known_places_near(lat, lon, within_km=1.0)
    assert len(found) == 200_000
    assert [p.kind for p in found[:3]] == ["country_centroid", "capital", "default_coordinate"]
    # A known place covers π km² of ~510 M km²: random points almost never hit one.
    assert sum(p is not None for p in found[3:]) < 10


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="differ in length"):
        known_places_near([1.0, 2.0], [1.0], within_km=1.0)
