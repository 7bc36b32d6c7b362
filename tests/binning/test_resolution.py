"""The suggested resolution follows the scale of the dense places, not the bounding box."""

import numpy as np
import polars as pl
import pytest

from explorer.analysis import suggested_resolution_for
from explorer.binning.cells import suggest_resolution, suggest_resolution_for_points
from explorer.synth.pings import generate_metros, generate_pings


def points(lat, lon) -> pl.DataFrame:
    return pl.DataFrame({"lat": np.asarray(lat, float), "lon": np.asarray(lon, float)})


def shifted(frame: pl.DataFrame, degrees: float) -> pl.DataFrame:
    """The same data moved east by ``degrees`` of longitude (wrapped into ±180)."""
    return frame.with_columns(lon=(pl.col("lon") + 180.0 + degrees) % 360.0 - 180.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_four_metros_get_what_one_metro_gets(seed):
    metros = generate_metros(120_000, seed=seed).pings
    alone = {
        city: suggested_resolution_for(generate_pings(30_000, city=city, seed=seed).pings)
        for city in ("new_york", "london", "sao_paulo", "singapore")
    }
    got = suggested_resolution_for(metros)
    assert got in set(alone.values()), (got, alone)
    assert got >= 8
    # The bounding box of four continents would give the coarsest cells.
    lat, lon = metros["lat"], metros["lon"]
    box = suggest_resolution(
        lat.quantile(0.01), lat.quantile(0.99), lon.quantile(0.01), lon.quantile(0.99), len(lat)
    )
    assert box <= 5 < got


@pytest.mark.parametrize("seed", [1, 2])
def test_a_city_across_the_antimeridian_gets_what_it_gets_away_from_it(seed):
    taveuni = generate_pings(100_000, city="taveuni", seed=seed).pings
    assert (taveuni["lon"] > 0).any() and (taveuni["lon"] < 0).any()
    here = suggested_resolution_for(taveuni)
    assert here >= 9
    for degrees in (-40.0, 60.0, 100.0):
        assert suggested_resolution_for(shifted(taveuni, degrees)) == here


def test_a_city_far_from_the_antimeridian_is_unchanged_by_moving_it():
    london = generate_pings(60_000, city="london", seed=3).pings
    assert suggested_resolution_for(shifted(london, 180.0)) == suggested_resolution_for(london)


def test_one_city_keeps_the_resolution_of_its_extent():
    for n, expected in ((300, 6), (5_000, 7), (40_000, 8), (200_000, 9)):
        pings = generate_pings(n, city="new_york", seed=1).pings
        assert suggested_resolution_for(pings) == expected, n


def test_a_single_town_gets_fine_cells_and_a_sparse_country_coarse_ones():
    rng = np.random.default_rng(7)
    # A town of ~3 km with 50,000 pings.
    town = points(45.0 + rng.normal(0, 0.015, 50_000), 5.0 + rng.normal(0, 0.02, 50_000))
    assert suggested_resolution_for(town) >= 9
    # Pings scattered over a country of ~1,000 km a side.
    for n in (3_000, 300_000):
        country = points(rng.uniform(43, 51, n), rng.uniform(-4, 8, n))
        assert suggested_resolution_for(country) <= 5, n


def test_strays_far_away_do_not_change_the_suggestion():
    city = generate_pings(100_000, city="sao_paulo", seed=4).pings.select("lat", "lon")
    rng = np.random.default_rng(0)
    # 0.5 % at null island and 1 % scattered over the globe (trips, bad fixes).
    strays = points(
        np.concatenate([np.zeros(500), rng.uniform(-60, 70, 1_000)]),
        np.concatenate([np.zeros(500), rng.uniform(-180, 180, 1_000)]),
    )
    assert suggested_resolution_for(pl.concat([city, strays])) == suggested_resolution_for(city)


def test_a_sample_speaks_for_the_whole_data():
    pings = generate_pings(200_000, city="london", seed=5).pings
    sample = pings.gather_every(20)
    assert suggested_resolution_for(sample, n_pings=pings.height) == suggested_resolution_for(pings)
    # The same sample standing for only itself cannot support cells as fine.
    assert suggested_resolution_for(sample) < suggested_resolution_for(pings)


def test_the_suggestion_is_deterministic_and_handles_little_data():
    pings = generate_metros(40_000, seed=6).pings
    lat, lon = pings["lat"].to_numpy(), pings["lon"].to_numpy()
    assert len({suggest_resolution_for_points(lat, lon, 40_000) for _ in range(3)}) == 1
    assert suggested_resolution_for(pl.DataFrame()) == 8
    assert 4 <= suggest_resolution_for_points(np.array([51.5]), np.array([-0.1]), 1) <= 10
