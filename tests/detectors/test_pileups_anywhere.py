"""Coordinate pileups found wherever they sit — in the centre, 150 km away, on another
continent, on a remote island — at several strengths and in several cities, named after
the known place they sit on; clean data, busy venues and real check-ins are not pileups."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.binning.cells import cells_to_str, latlng_to_cells
from explorer.config import Config
from explorer.detectors import drop_explained
from explorer.detectors.places import DETECTORS, points
from explorer.detectors.places.common import haversine_km
from explorer.findings import Finding
from explorer.geography.gazetteer import KnownPlace, known_places
from explorer.reading.pings import read_pings
from explorer.synth.pings import generate_pings
from tests import ping_shapes
from tests.conftest import REAL_DATA
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

RES = 8
N = 120_000
SCHEMA = Draft202012Validator(evidence_schema("places")["coordinate_pileup"])
REAL = REAL_DATA
#: (share of pings, devices): hundreds of devices at 0.2 %, thousands at 2 % and 10 %.
STRENGTHS = [(0.002, 200), (0.02, 2_000), (0.1, 3_000)]
#: A remote island for each city, with the known place it sits on (None: unnamed).
ISLANDS = {
    "new_york": ((32.3333, -64.75), "the centroid of Bermuda"),
    "sao_paulo": ((-15.92488, -5.71816), "Jamestown, the capital of Saint Helena"),
    "london": ((-37.0667, -12.3111), None),  # Tristan da Cunha
    "tokyo": ((27.0942, 142.1918), None),  # Chichijima, Ogasawara
    "sydney": ((-29.0333, 167.95), "the centroid of Norfolk Island"),
    "cairo": ((-20.1609, 57.4989), "Port Louis, the capital of Mauritius"),
}
#: A pileup 1.2 km from the centre of these cities sits within 2 km of the capital's point.
CENTRE_NAMES = {
    "london": "London, the capital of the United Kingdom",
    "tokyo": "Tokyo, the capital of Japan",
    "cairo": "Cairo, the capital of Egypt",
}


def destination(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` along a great circle from (lat, lon), rounded to 4 decimals as a
    fallback coordinate is written."""
    d, b = km / 6371.0088, np.radians(bearing)
    p1, l1 = np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return round(float(np.degrees(p2)), 4), round((float(np.degrees(l2)) + 540) % 360 - 180, 4)


#: Bearings (degrees) of the 150 km and 3,000 km places, chosen so both are on land (a
#: pileup at sea is also told as at_sea, another check).
BEARINGS = {"sao_paulo": (300, 300), "london": (320, 80), "cairo": (200, 200)}


def places_of(
    city: str, lat: float, lon: float
) -> dict[str, tuple[tuple[float, float], str | None]]:
    """Where pileups are planted around a city centre, with the place each is named after."""
    return {
        "centre": (destination(lat, lon, 1.2, 30), CENTRE_NAMES.get(city)),
        "150km": (destination(lat, lon, 150, BEARINGS.get(city, (200, 300))[0]), None),
        "3000km": (destination(lat, lon, 3_000, BEARINGS.get(city, (200, 300))[1]), None),
        "island": ISLANDS[city],
    }


def shaped(city: str, seed: int = 0) -> pl.DataFrame:
    """Canonical pings of a Gaussian city from tests/ping_shapes (6-decimal coordinates)."""
    raw = ping_shapes.pings(city, n=60_000, seed=seed, devices=3_000)
    return raw.select(
        device_id=pl.col("device"),
        timestamp=pl.from_epoch("t", "s").dt.replace_time_zone("UTC").dt.cast_time_unit("us"),
        lat=pl.col("lat"),
        lon=pl.col("lon"),
        device_type=pl.when(pl.col("os").str.starts_with("iOS"))
        .then(pl.lit("ios"))
        .otherwise(pl.lit("android")),
    )


def plant(pings: pl.DataFrame, where: tuple[float, float], share: float, devices: int, seed: int):
    """``share`` of the pings, from ``devices`` of the data's devices, moved to one exact
    coordinate (their devices keep their other pings where they were)."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].unique().sort().to_numpy()
    chosen = rng.choice(ids, size=min(devices, ids.size), replace=False)
    rows = np.flatnonzero(pings["device_id"].is_in(pl.Series(chosen).implode()).to_numpy())
    rows = rng.permutation(rows)
    # One row of every chosen device first (busy devices would otherwise take most).
    _, first = np.unique(pings["device_id"].to_numpy()[rows], return_index=True)
    rows = np.concatenate([rows[first], np.delete(rows, first)])
    rows = rows[: round(share * pings.height)]
    moved = np.zeros(pings.height, dtype=bool)
    moved[rows] = True
    mask = pl.Series(moved)
    return pings.with_columns(
        lat=pl.when(mask).then(pl.lit(where[0])).otherwise(pl.col("lat")),
        lon=pl.when(mask).then(pl.lit(where[1])).otherwise(pl.col("lon")),
    )


def newcomers(where: tuple[float, float], pings: int, devices: int, seed: int) -> pl.DataFrame:
    """``pings`` from ``devices`` devices seen only at one exact coordinate (IP-only fixes)."""
    rng = np.random.default_rng(seed)
    return canonical(
        [f"ip{i}" for i in rng.integers(0, devices, pings)],
        [where[0]] * pings,
        [where[1]] * pings,
        rng.integers(0, 20_000, pings),
    )


def canonical(device: list[str], lat, lon, minutes) -> pl.DataFrame:
    return pings_from_columns(
        device_id=device,
        timestamp=[START + timedelta(minutes=int(m)) for m in minutes],
        lat=np.asarray(lat, dtype=float),
        lon=np.asarray(lon, dtype=float),
        device_type=["android"] * len(device),
    )


def run(pings: pl.DataFrame) -> list[Finding]:
    """The places findings, each cause told once (a pileup explains its density spike)."""
    return drop_explained(run_detectors(DETECTORS, pings, RES))


def at(pings: pl.DataFrame, where: tuple[float, float]) -> pl.DataFrame:
    return pings.filter((pl.col("lat") == where[0]) & (pl.col("lon") == where[1]))


def assert_pileup_at(found: list[Finding], pings: pl.DataFrame, where, name: str | None):
    """One coordinate_pileup at ``where``'s cell with its exact counts, named ``name``."""
    hits = [f for f in found if f.kind == "coordinate_pileup"]
    assert len(hits) == 1, [(f.kind, f.severity, f.title) for f in found]
    hit, there = hits[0], at(pings, where)
    assert (hit.evidence["lat"], hit.evidence["lon"]) == where
    assert hit.cells == tuple(cells_to_str(latlng_to_cells([where[0]], [where[1]], RES)))
    assert hit.evidence["pings"] == there.height
    assert hit.evidence["devices"] == there["device_id"].n_unique()
    SCHEMA.validate(hit.evidence)
    place = hit.evidence["known_place"]
    assert (place and place["name"]) == name
    if name is not None:
        assert name in hit.story and name in hit.title
    # Its pings are told once: as the pileup, never again as distant points.
    assert not [f for f in found if f.kind == "distant_points"]
    assert [f for f in found if f.severity in ("medium", "high")] == hits
    return hit


# --- data, generated once per module ---------------------------------------------------


@pytest.fixture(scope="module")
def cities() -> dict[str, tuple[pl.DataFrame, tuple[float, float]]]:
    """Clean pings and their centre, from the generator (three cities) and ping_shapes."""
    out = {}
    for city in ("new_york", "sao_paulo", "london"):
        result = generate_pings(N, city=city, seed=3)
        out[city] = (result.pings, (result.pings["lat"].median(), result.pings["lon"].median()))
    for city in ("tokyo", "sydney", "cairo"):
        out[city] = (shaped(city), ping_shapes.CITIES[city])
    return out


# --- pileups anywhere, at any strength, in any city ------------------------------------

GENERATED = [
    pytest.param(city, spot, strength, id=f"{city}-{spot}-{strength[0]:.1%}")
    for city in ("new_york", "sao_paulo", "london")
    for spot in ("centre", "150km", "3000km", "island")
    for strength in STRENGTHS
]


@pytest.mark.parametrize(("city", "spot", "strength"), GENERATED)
def test_pileup_found_wherever_it_sits(cities, city, spot, strength):
    base, centre = cities[city]
    where, name = places_of(city, *centre)[spot]
    share, devices = strength
    pings = plant(base, where, share, devices, seed=len(GENERATED))
    hit = assert_pileup_at(run(pings), pings, where, name)
    assert hit.severity == ("high" if share >= 0.02 else "medium")
    assert hit.evidence["devices"] >= min(devices, round(share * base.height)) * 0.8
    far = haversine_km(np.array([where[0]]), np.array([where[1]]), *centre)[0]
    assert hit.evidence["centre_distance_km"] == pytest.approx(far, abs=15)
    assert ("from the centre of the data" in hit.story) == (spot != "centre")


@pytest.mark.parametrize("city", ["tokyo", "sydney", "cairo"])
@pytest.mark.parametrize("spot", ["centre", "150km", "3000km", "island"])
def test_pileup_of_devices_seen_nowhere_else_in_other_cities(cities, city, spot):
    # Vendor-style 6-decimal coordinates; the pileup's devices exist only there.
    base, centre = cities[city]
    where, name = places_of(city, *centre)[spot]
    pings = pl.concat([base, newcomers(where, round(0.02 * base.height), 1_000, seed=1)])
    hit = assert_pileup_at(run(pings), pings, where, name)
    assert hit.severity == "high" and hit.evidence["devices"] > 600


# --- the reference a pileup is measured against ----------------------------------------


def test_one_chance_coincidence_does_not_hide_a_pileup(cities):
    # With jittered coordinates only the pileup and one coincidence of two devices are
    # shared: the pileup must not set its own reference (it did: typical 67, z 0.7).
    base, centre = cities["london"]
    where = destination(*centre, 150, 320)
    twins = canonical(["twin-a", "twin-b"], [51.401234] * 2, [-0.301234] * 2, [10, 20])
    pings = pl.concat([base, twins, newcomers(where, 2_400, 3_000, seed=2)])
    hit = assert_pileup_at(run(pings), pings, where, None)
    assert hit.evidence["typical_devices"] == pytest.approx(1.0)
    assert hit.evidence["venue_snapped"] is False


def test_a_city_fallback_and_a_country_fallback_are_both_found(cities):
    # Two pileups and nothing else shared: neither may make the other look typical.
    base, _ = cities["new_york"]
    city_point, us_default = (40.7143, -74.006), (39.8283, -98.5795)
    pings = pl.concat(
        [
            base,
            newcomers(city_point, 2_000, 1_500, seed=3),
            newcomers(us_default, 4_000, 2_500, seed=4),
        ]
    )
    hits = {
        (f.evidence["lat"], f.evidence["lon"]): f
        for f in run(pings)
        if f.kind == "coordinate_pileup"
    }
    assert set(hits) == {city_point, us_default}
    named = hits[us_default].evidence["known_place"]
    assert named["kind"] == "default_coordinate" and named["distance_km"] < 0.01
    assert "the geographic centre of the contiguous United States" in hits[us_default].story
    assert hits[city_point].evidence["known_place"] is None  # no capital, no centroid there


def test_far_pileup_among_real_trips_leaves_only_the_trips_as_distant_points(cities):
    base, _ = cities["sao_paulo"]
    ids = base["device_id"].unique().sort().head(60)
    trip = base["device_id"].is_in(ids.implode())
    moved = base.with_columns(lat=pl.when(trip).then(pl.col("lat") + 8).otherwise(pl.col("lat")))
    where = (-15.7797, -47.9297)  # Brasília, ~870 km away
    pings = pl.concat([moved, newcomers(where, 2_400, 2_000, seed=5)])
    found = run(pings)
    pileups = [f for f in found if f.kind == "coordinate_pileup"]
    assert len(pileups) == 1 and pileups[0].evidence["pings"] == 2_400
    assert pileups[0].evidence["known_place"]["name"] == "Brasilia, the capital of Brazil"
    distant = [f for f in found if f.kind == "distant_points"]
    assert len(distant) == 1 and distant[0].evidence["pings"] == int(trip.sum())


# --- known places, from the shipped gazetteer ------------------------------------------


@pytest.mark.parametrize(
    ("where", "name", "kind", "km"),
    [
        ((46.0, 2.0), "the centroid of France", "country_centroid", 0.0),
        ((46.2, 2.2), "the centroid of France", "country_centroid", 27.1),
        (
            (39.8283, -98.5795),
            "the geographic centre of the contiguous United States",
            "default_coordinate",
            0.0,
        ),
        ((48.8534, 2.3488), "Paris, the capital of France", "capital", 0.0),
        ((42.9395, -75.5029), "the centroid of New York, United States", "region_centroid", 0.0),
    ],
)
def test_pileup_named_after_the_known_place_it_sits_on(cities, where, name, kind, km):
    base, _ = cities["london"]
    pings = plant(base, where, 0.02, 2_000, seed=6)
    hit = assert_pileup_at(run(pings), pings, where, name)
    place = hit.evidence["known_place"]
    assert place["kind"] == kind and place["distance_km"] == pytest.approx(km, abs=0.5)
    assert place["source"]
    if km < 0.5:
        assert hit.title.endswith(f"at {name}") and f"It is {name}:" in hit.story
    else:
        said = f"{km:.0f} km from {name}"
        assert hit.title.endswith(said) and f"It lies {said}" in hit.story


def test_a_known_place_raises_the_score_not_the_severity(cities):
    base, centre = cities["london"]
    named, unnamed = (46.0, 2.0), destination(*centre, 700, 150)
    scores = {}
    for where in (named, unnamed):
        pings = plant(base, where, 0.002, 200, seed=7)
        hit = [f for f in run(pings) if f.kind == "coordinate_pileup"][0]
        scores[where] = (hit.severity, hit.score)
    assert scores[named][0] == scores[unnamed][0] == "medium"
    bonus = Config().places.pileup_known_place_score
    assert scores[named][1] == pytest.approx(scores[unnamed][1] + bonus, abs=1.0)


def _fake(*places: tuple[str, str, float]) -> tuple[KnownPlace, ...]:
    """Known places north of (10, 20), each (name, kind, km north)."""
    return tuple(KnownPlace(n, k, 10 + km / 111.195, 20.0, "test") for n, k, km in places)


@pytest.mark.parametrize(
    ("places", "name"),
    [
        # A capital 3 km off is out of its 2 km reach; the centroid 40 km off is within 50.
        (
            (("Testville", "capital", 3), ("the centroid of Testland", "country_centroid", 40)),
            "the centroid of Testland",
        ),
        (
            (("Testville", "capital", 1.5), ("the centroid of Testland", "country_centroid", 1)),
            "the centroid of Testland",
        ),
        (
            (("Testville", "capital", 1.5), ("the centroid of Testland", "country_centroid", 60)),
            "Testville",
        ),
        (
            (
                ("the default", "default_coordinate", 1.5),
                ("the centroid of Testshire", "region_centroid", 31),
            ),
            None,
        ),
    ],
)
def test_known_place_is_the_nearest_within_its_kinds_reach(monkeypatch, places, name):
    monkeypatch.setattr(points, "known_places", lambda: _fake(*places))
    place = points.known_place_of(10.0, 20.0, Config().places)
    assert (place and place["name"]) == name
    if place:
        expected = {n: km for n, _, km in places}[name]
        assert place["distance_km"] == pytest.approx(expected, abs=0.01)


def test_monkeypatched_gazetteer_names_a_pileup_in_story_and_evidence(monkeypatch, cities):
    base, centre = cities["new_york"]
    where = destination(*centre, 150, 45)
    fake = (
        KnownPlace(
            "the centroid of Testland", "country_centroid", where[0] + 0.1, where[1], "test"
        ),
    )
    monkeypatch.setattr(points, "known_places", lambda: fake)
    pings = plant(base, where, 0.02, 2_000, seed=8)
    hit = assert_pileup_at(run(pings), pings, where, "the centroid of Testland")
    assert "11 km from the centroid of Testland" in hit.story
    assert hit.evidence["known_place"]["source"] == "test"


def test_every_shipped_kind_has_a_naming_distance():
    assert {p.kind for p in known_places()} <= set(points.REACH_SETTINGS)


# --- what is not a pileup --------------------------------------------------------------


def test_clean_cities_have_no_pileup_and_nothing_serious(cities):
    loud = {
        city: [
            (f.kind, f.severity, f.title)
            for f in run(pings)
            if f.severity != "low" or f.kind == "coordinate_pileup"
        ]
        for city, (pings, _) in cities.items()
    }
    assert loud == {city: [] for city in cities}


def test_a_crowded_real_venue_is_not_a_pileup(cities):
    # 400 devices × 40 evening pings within ~100 m of one point: GPS scatters them.
    base, centre = cities["new_york"]
    rng = np.random.default_rng(9)
    dev = np.repeat(np.arange(400), 40)
    crowd = canonical(
        [f"fan{d}" for d in dev],
        np.round(centre[0] + rng.normal(0, 0.0005, dev.size), 6),
        np.round(centre[1] + rng.normal(0, 0.0006, dev.size), 6),
        rng.integers(0, 20_000, dev.size),
    )
    assert not [f for f in run(pl.concat([base, crowd])) if f.kind == "coordinate_pileup"]


def test_a_busy_venue_far_away_in_check_in_data_is_not_a_pileup():
    # Check-ins snap to venues: the airport 20 km out is the busiest venue, a step of
    # a smooth heavy tail, not a fallback standing alone.
    rng = np.random.default_rng(10)
    n_venues, n_devices = 3_000, 4_000
    v_lat = np.round(40.75 + rng.normal(0, 0.05, n_venues), 6)
    v_lon = np.round(-73.98 + rng.normal(0, 0.06, n_venues), 6)
    v_lat[0], v_lon[0] = 40.6413, -73.7781  # JFK
    weight = rng.lognormal(0, 1.0, n_venues)
    weight[0] = weight.max() * 1.5
    dev = np.repeat(np.arange(n_devices), rng.integers(2, 25, n_devices))
    venue = rng.choice(n_venues, size=dev.size, p=weight / weight.sum())
    pings = canonical(
        [f"u{d}" for d in dev], v_lat[venue], v_lon[venue], rng.integers(0, 200_000, dev.size)
    )
    assert not [f for f in run(pings) if f.kind == "coordinate_pileup"]


REAL_FILES = [
    pytest.param(name, mapping, id=name)
    for name, mapping in [
        ("gowalla_nyc_checkins.csv", {"device_id": "user_id", "timestamp": "checkin_time"}),
        ("gotrack_points.csv", {"device_id": "id_android", "timestamp": "time"}),
        ("gps_accuracy_devices_tracks.csv", {"device_id": "device", "timestamp": "time"}),
    ]
    if (REAL / name).exists()
]


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "mapping"), REAL_FILES)
def test_real_files_have_no_pileup(name, mapping):
    # Gowalla's check-ins snap to venues (92 % of pings on shared coordinates, the top
    # venue 1,048 users): busy venues, none standing alone like a fallback.
    pings = read_pings(REAL / name, columns=mapping).pings
    assert not [f for f in run(pings) if f.kind == "coordinate_pileup"]
