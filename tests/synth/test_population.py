"""The generated cities' population layers: districts with residents that follow the
generator's own home density, and the sample's layer with its under-sampled district."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely

from explorer.synth.biases import offset_deg
from explorer.synth.cities import CITIES
from explorer.synth.pings import generate_pings
from explorer.synth.population import (
    district_grid,
    district_residents,
    generator_homes,
    plant_under_sampled,
    to_geojson,
)

ROOT = Path(__file__).resolve().parents[2]
N = 40_000
CASES = [("new_york", 3), ("london", 11), ("sao_paulo", 5), ("singapore", 2)]


def _km(city, lat, lon):
    """(x, y) km east and north of the city's centre (the inverse of offset_deg)."""
    dy = (np.asarray(lat) - city.lat) * 110.574
    dx = (np.asarray(lon) - city.lon) * 111.320 * np.cos(np.radians(city.lat))
    return np.column_stack([dx, dy])


def _night_places(city_key: str, seed: int) -> np.ndarray:
    """Median night-time position (km) of every device with 3 or more night pings."""
    city = CITIES[city_key]
    pings = generate_pings(N, city=city_key, seed=seed).pings
    hour = pl.col("timestamp").dt.convert_time_zone(city.zone).dt.hour()
    nights = (
        pings.filter((hour >= 23) | (hour < 5))
        .group_by("device_id")
        .agg(pl.len(), pl.col("lat").median(), pl.col("lon").median())
        .filter(pl.col("len") >= 3)
    )
    return _km(city, nights["lat"].to_numpy(), nights["lon"].to_numpy())


@pytest.mark.parametrize(("city", "seed"), CASES)
def test_replayed_homes_are_where_the_generated_devices_sleep(city, seed):
    homes = generator_homes(N, city=city, seed=seed).homes
    sleep = _night_places(city, seed)
    nearest = np.min(np.linalg.norm(sleep[:, None, :] - homes[None, :, :], axis=2), axis=1)
    # 93 % of night pings are at home: the median night place is the home, to GPS noise.
    assert len(sleep) > 200
    assert np.mean(nearest < 0.1) > 0.95
    # A different seed's homes are elsewhere: the test can fail.
    other = generator_homes(N, city=city, seed=seed + 1).homes
    away = np.min(np.linalg.norm(sleep[:, None, :] - other[None, :, :], axis=2), axis=1)
    assert np.mean(away < 0.1) < 0.5


@pytest.mark.parametrize(("city", "seed"), CASES)
def test_residents_follow_the_generated_homes(city, seed):
    homes = generator_homes(N, city=city, seed=seed)
    districts = district_residents(homes, 1_000_000, draws=400_000)
    total = sum(d.residents for d in districts)
    assert total == pytest.approx(1_000_000, rel=0.01)
    counted = 0
    for d in districts:
        observed = np.count_nonzero(
            shapely.contains_xy(d.polygon_km, homes.homes[:, 0], homes.homes[:, 1])
        )
        expected = len(homes.homes) * d.residents / 1_000_000
        counted += observed
        # Homes are a random draw from the density: Poisson noise, no more.
        assert abs(observed - expected) < 4 * np.sqrt(expected) + 3, (d.region_id, observed)
    assert counted > 0.99 * len(homes.homes)


def test_an_even_density_would_not_fit_the_homes():
    """The residents are the generator's density, not district areas: spreading them by
    area puts the centre's homes far off (the check above can fail)."""
    homes = generator_homes(N, city="new_york", seed=3)
    centre = district_grid(homes.city)[0][2]
    area_share = centre.area / sum(p.area for _, _, p in district_grid(homes.city))
    home_share = np.mean(shapely.contains_xy(centre, homes.homes[:, 0], homes.homes[:, 1]))
    assert home_share > 5 * area_share


def test_districts_tile_the_city_without_overlap():
    city = CITIES["london"]
    grid = district_grid(city)
    polygons = [p for _, _, p in grid]
    assert len({i for i, _, _ in grid}) == len(grid) == 25
    assert len({n for _, n, _ in grid}) == len(grid)
    assert all(p.is_valid for p in polygons)
    union = shapely.union_all(polygons)
    assert union.area == pytest.approx(np.pi * city.radius_km**2, rel=0.01)
    assert sum(p.area for p in polygons) == pytest.approx(union.area, rel=1e-6)


def test_districts_at_sea_have_no_residents_and_are_left_out():
    homes = generator_homes(N, city="singapore", seed=2)
    districts = district_residents(homes, 5_000_000, draws=200_000)
    assert 10 < len(districts) < 25
    assert all(d.residents > 0 for d in districts)


def test_planting_scales_one_district_only():
    homes = generator_homes(N, city="sao_paulo", seed=5)
    districts = district_residents(homes, 1_000_000, draws=200_000)
    planted = plant_under_sampled(districts, "middle-n", 4)
    for before, after in zip(districts, planted, strict=True):
        if before.region_id == "middle-n":
            assert after.residents == round(4 * before.residents)
            assert "4 times" in after.planted
        else:
            assert after == before
    with pytest.raises(ValueError, match="no district"):
        plant_under_sampled(districts, "nowhere", 4)


def test_geojson_is_lon_lat_polygons_with_the_properties():
    homes = generator_homes(N, city="london", seed=11)
    districts = plant_under_sampled(district_residents(homes, 9e6, draws=200_000), "inner-n", 2)
    data = json.loads(to_geojson(homes.city, districts))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert [f["properties"]["id"] for f in features] == [d.region_id for d in districts]
    centre = shapely.geometry.shape(features[0]["geometry"])
    assert centre.contains(shapely.Point(homes.city.lon, homes.city.lat))
    assert shapely.geometry.shape(features[0]["geometry"]).exterior.is_ccw
    north = next(f for f in features if f["properties"]["id"] == "inner-n")
    assert "planted" in north["properties"]
    assert sum("planted" in f["properties"] for f in features) == 1
    # Vertices sit where offset_deg puts the km polygon.
    ring = np.asarray(north["geometry"]["coordinates"][0])
    lat, lon = offset_deg(homes.city.lat, homes.city.lon, 0.0, 0.28 * homes.city.radius_km)
    assert ring[:, 1].max() == pytest.approx(float(lat), abs=1e-3)
    assert abs(ring[:, 0].mean() - float(lon)) < 0.02


def test_a_city_across_the_antimeridian_is_refused():
    homes = generator_homes(N, city="taveuni", seed=1)
    districts = district_residents(homes, 10_000, draws=50_000)
    with pytest.raises(ValueError, match="180"):
        to_geojson(homes.city, districts)


def _script():
    path = ROOT / "scripts" / "make_sample_population.py"
    spec = importlib.util.spec_from_file_location("make_sample_population", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_layer_is_what_the_script_writes():
    script = _script()
    shipped = (ROOT / "data" / "samples" / "population.geojson").read_text(encoding="utf-8")
    assert shipped == script.population_text()
    features = json.loads(shipped)["features"]
    planted = [f["properties"] for f in features if "planted" in f["properties"]]
    assert [p["id"] for p in planted] == [script.UNDER_SAMPLED]


def test_the_sample_panel_under_samples_the_planted_district_four_times():
    """Devices of the sample sleeping in each district per resident: the planted one is
    about a quarter of the rest, the others agree with each other."""
    script = _script()
    n_pings, seed = script._sample_settings()
    homes = generator_homes(n_pings, city=script.CITY, seed=seed)
    features = json.loads((ROOT / "data" / "samples" / "population.geojson").read_text())[
        "features"
    ]
    lon, lat = offset_deg(homes.city.lat, homes.city.lon, homes.homes[:, 0], homes.homes[:, 1])[
        ::-1
    ]
    rates = {}
    for f in features:
        shape = shapely.geometry.shape(f["geometry"])
        inside = np.count_nonzero(shapely.contains_xy(shape, lon, lat))
        rates[f["properties"]["id"]] = inside / f["properties"]["residents"]
    overall = len(homes.homes) / sum(f["properties"]["residents"] for f in features)
    ratio = rates.pop(script.UNDER_SAMPLED) / overall
    assert 0.2 < ratio < 0.35
    others = np.array(list(rates.values())) / overall
    assert np.all((others > 0.6) & (others < 1.5))
