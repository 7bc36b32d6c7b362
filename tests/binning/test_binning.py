"""Binning agrees with h3-py and the suggested resolution is sensible."""

import h3
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.binning import cells as binning


@given(
    st.lists(
        st.tuples(
            st.floats(-90, 90, allow_nan=False, allow_infinity=False),
            st.floats(-180, 180, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(0, 15),
)
@settings(max_examples=60, deadline=None)
def test_cells_agree_with_h3_py(points, resolution):
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    cells = binning.latlng_to_cells(lat, lon, resolution)
    expected = [h3.latlng_to_cell(a, b, resolution) for a, b in points]
    assert binning.cells_to_str(cells.to_list()) == expected


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (10.0, 179.9999),
        (10.0, -179.9999),
        (10.0, 180.0),
        (10.0, -180.0),
        (89.99, 45.0),
        (-89.99, -120.0),
        (90.0, 0.0),
        (-90.0, 0.0),
        (0.0, 0.0),
    ],
)
def test_antimeridian_and_poles(lat, lon):
    for res in (0, 5, 9, 15):
        got = binning.cells_to_str(binning.latlng_to_cells([lat], [lon], res).to_list())
        assert got == [h3.latlng_to_cell(lat, lon, res)]


def test_many_points_use_threads_and_keep_order():
    rng = np.random.default_rng(1)
    lat = rng.uniform(-60, 60, 250_000)
    lon = rng.uniform(-180, 180, 250_000)
    cells = binning.latlng_to_cells(lat, lon, 7, threads=2)
    idx = rng.integers(0, 250_000, 200)
    assert [binning.cell_to_str(cells[int(i)]) for i in idx] == [
        h3.latlng_to_cell(lat[i], lon[i], 7) for i in idx
    ]


def test_bad_resolution_is_refused():
    with pytest.raises(ValueError, match="between 0 and 15"):
        binning.latlng_to_cells([0.0], [0.0], 16)


def test_suggested_resolution_city_vs_continent_vs_block():
    city = binning.suggest_resolution(40.5, 40.9, -74.25, -73.7, 200_000)
    continent = binning.suggest_resolution(25, 49, -125, -67, 10_000_000)
    block = binning.suggest_resolution(40.70, 40.71, -74.00, -73.99, 5_000)
    assert 7 <= city <= 9
    assert continent <= 5
    assert block >= city
    # A tiny data set over a city cannot support fine cells.
    assert binning.suggest_resolution(40.5, 40.9, -74.25, -73.7, 300) <= 6


def test_connected_components_groups_neighbours():
    centre = h3.str_to_int(h3.latlng_to_cell(40.7, -74.0, 9))
    ring = [c for c in binning.grid_disk(centre, 1) if c != centre]
    far = h3.str_to_int(h3.latlng_to_cell(41.5, -73.0, 9))
    comps = binning.connected_components([centre, ring[0], ring[3], far])
    assert [len(c) for c in comps] == [3, 1]
    assert comps[1] == [far]


def test_parents_and_centres_vectorised():
    cells = binning.latlng_to_cells([40.7, -33.9], [-74.0, 151.2], 9)
    parents = binning.cells_to_parent(cells, 5).to_list()
    assert binning.cells_to_str(parents) == [
        h3.cell_to_parent(h3.latlng_to_cell(40.7, -74.0, 9), 5),
        h3.cell_to_parent(h3.latlng_to_cell(-33.9, 151.2, 9), 5),
    ]
    lat, lon = binning.cell_centres(pl.Series(cells))
    assert abs(lat[0] - 40.7) < 0.01 and abs(lon[1] - 151.2) < 0.01


def test_valid_cell_checks():
    good = h3.latlng_to_cell(1.0, 2.0, 8)
    assert binning.is_valid_cell(good)
    assert not binning.is_valid_cell("not-a-cell")
    assert not binning.is_valid_cell("ffffffffffffffff")
    with pytest.raises(ValueError):
        binning.str_to_cell("88zz")
