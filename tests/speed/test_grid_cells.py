"""The grid shortcut gives exactly the cells H3 gives, point for point, where it matters.

Clouds are small here, so the size floor is lowered; each case also checks that the
shortcut really ran (H3 was asked for far fewer points than given), otherwise the
equality would prove nothing.
"""

import h3
import h3.api.basic_int as h3i
import numpy as np
import pytest

from explorer._speed import grid_cells as binning_grid
from explorer._speed import quarters
from explorer.binning import cells as binning


@pytest.fixture(autouse=True)
def small_clouds_use_the_grid(monkeypatch):
    monkeypatch.setattr(binning_grid, "MIN_POINTS", 0)


class CountingCells:
    """Plain per-point H3 that counts how many points it was asked for."""

    def __init__(self, resolution: int) -> None:
        self.resolution = resolution
        self.points = 0

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        self.points += lat.size
        return binning._cells_by_point(lat, lon, self.resolution, 1)


def by_grid(lat: np.ndarray, lon: np.ndarray, res: int) -> tuple[np.ndarray, int]:
    counting = CountingCells(res)
    got = binning_grid.grid_cells(
        lat, lon, res, binning.cell_edge_km(res), counting, binning.single_face_hexagons
    )
    return got, counting.points


def expected(lat: np.ndarray, lon: np.ndarray, res: int) -> np.ndarray:
    return binning._cells_by_point(lat, lon, res, 1)


def city(rng: np.random.Generator, lat0: float, lon0: float, n: int, spread: float = 0.08):
    """A dense cloud: a normal bulk around a centre, with coordinates at 6 decimals."""
    lat = np.round(rng.normal(lat0, spread, n), 6)
    lon = np.round(rng.normal(lon0, spread * 1.4, n), 6)
    return lat, lon


#: Cloud spreads (degrees) dense enough for the grid at each resolution.
SPREAD = {5: 0.08, 6: 0.05, 7: 0.03, 8: 0.012, 9: 0.006}


@pytest.mark.parametrize("res", list(SPREAD))
def test_dense_city_matches_h3_with_few_h3_calls(res):
    rng = np.random.default_rng(res)
    lat, lon = city(rng, 40.73, -73.95, 300_000, spread=SPREAD[res])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    assert asked < 0.6 * lat.size, asked
    # the cells agree with h3-py itself too (h3ronpy is checked against it elsewhere)
    idx = rng.integers(0, lat.size, 300)
    assert [h3.int_to_str(int(got[i])) for i in idx] == [
        h3.latlng_to_cell(lat[i], lon[i], res) for i in idx
    ]


def edge_points(rng: np.random.Generator, cells: list[int], per_edge: int) -> tuple:
    """Points on and within 1e-12..1e-6 degrees of the edges of ``cells``."""
    lats, lons = [], []
    for cell in cells:
        ring = h3i.cell_to_boundary(cell)
        for (a_lat, a_lon), (b_lat, b_lon) in zip(ring, ring[1:] + ring[:1], strict=True):
            t = rng.uniform(0, 1, per_edge)
            jitter = rng.choice([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6], (2, per_edge))
            lats.append(a_lat + t * (b_lat - a_lat) + jitter[0])
            lons.append(a_lon + t * (b_lon - a_lon) + jitter[1])
    return np.concatenate(lats), np.concatenate(lons)


@pytest.mark.parametrize("res", [7, 8])
def test_points_hugging_cell_edges(res):
    rng = np.random.default_rng(7)
    lat, lon = city(rng, 51.5, -0.12, 200_000, spread=SPREAD[res])
    cells = sorted({int(c) for c in expected(lat[:2000], lon[:2000], res)})[:150]
    e_lat, e_lon = edge_points(rng, cells, 40)
    lat, lon = np.concatenate([lat, e_lat]), np.concatenate([lon, e_lon])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    assert asked < 0.6 * lat.size


def test_points_on_the_grid_lines_and_corners():
    rng = np.random.default_rng(3)
    res = 8
    lat, lon = city(rng, -33.87, 151.2, 200_000, spread=SPREAD[res])
    edge_deg = binning.cell_edge_km(res) / binning_grid._KM_PER_DEG_LAT
    grid, side = binning_grid._fitted_grid(lat, lon, edge_deg)
    assert grid is not None
    lat_lo, lon_lo, rows, cols = grid
    i = rng.integers(0, rows, 20_000)
    j = rng.integers(0, cols, 20_000)
    on_lat = lat_lo + i * side
    on_lon = lon_lo + j * side
    g_lat = np.concatenate([on_lat, on_lat, on_lat + side * rng.uniform(0, 1, i.size)])
    g_lon = np.concatenate([on_lon, on_lon + side * rng.uniform(0, 1, j.size), on_lon])
    lat, lon = np.concatenate([lat, g_lat]), np.concatenate([lon, g_lon])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    assert asked < 0.6 * lat.size


def test_around_a_pentagon():
    res = 7
    rng = np.random.default_rng(5)
    pentagon = next(p for p in h3i.get_pentagons(res) if abs(h3i.cell_to_latlng(p)[0]) < 65)
    lat0, lon0 = h3i.cell_to_latlng(pentagon)
    lat, lon = city(rng, lat0, lon0, 200_000, spread=SPREAD[res])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    # the pentagon's own points are computed one by one; its neighbours' are not
    inside = int((got == pentagon).sum())
    assert inside > 1000
    assert asked < lat.size - inside / 2


def a_cell_across_face_edges(res: int) -> int:
    rng = np.random.default_rng(11)
    lat = rng.uniform(-65, 65, 200_000)
    lon = rng.uniform(-170, 170, 200_000)
    for cell in expected(lat, lon, res):
        cell = int(cell)
        if len(h3i.get_icosahedron_faces(cell)) > 1 and not h3i.is_pentagon(cell):
            return cell
    raise AssertionError("no cell across face edges found")


def test_across_an_icosahedron_edge():
    res = 6
    cell = a_cell_across_face_edges(res)
    lat0, lon0 = h3i.cell_to_latlng(cell)
    rng = np.random.default_rng(9)
    lat, lon = city(rng, lat0, lon0, 200_000, spread=SPREAD[res])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    assert asked < 0.6 * lat.size
    assert (got == cell).any()


def test_which_cells_are_eligible():
    res = 6
    pentagon = next(iter(h3i.get_pentagons(res)))
    across = a_cell_across_face_edges(res)
    plain = h3i.latlng_to_cell(40.7, -74.0, res)
    eligible = binning.single_face_hexagons(np.array([pentagon, across, plain], dtype=np.uint64))
    assert eligible.tolist() == [False, False, True]


@pytest.mark.parametrize("seed", range(6))
def test_random_places_and_outliers(seed):
    """Random centres (near ±70°, the antimeridian), spreads and resolutions, plus far
    points (null island, other continents) that must stay off the grid."""
    rng = np.random.default_rng(100 + seed)
    lat0 = [69.95, -69.9, 12.3, 0.0, 45.0, -50.0][seed]
    lon0 = [20.0, -60.0, 179.95, 0.0, -179.97, 100.0][seed]
    res = int(rng.integers(5, 10))
    lat, lon = city(rng, lat0, lon0, 150_000, spread=SPREAD[res] * float(rng.uniform(0.5, 2)))
    lon = (lon + 180.0) % 360.0 - 180.0
    far = 3_000
    lat = np.concatenate([lat, rng.uniform(-80, 80, far), np.zeros(far)])
    lon = np.concatenate([lon, rng.uniform(-180, 180, far), np.zeros(far)])
    got, _ = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))


def test_sparse_and_small_inputs_go_point_by_point(monkeypatch):
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(-60, 60, 50_000), rng.uniform(-180, 180, 50_000)
    got, asked = by_grid(lat, lon, 8)
    assert asked == lat.size
    assert np.array_equal(got, expected(lat, lon, 8))
    monkeypatch.setattr(binning_grid, "MIN_POINTS", 1_000_000)
    lat, lon = city(rng, 40.7, -74.0, 50_000)
    got, asked = by_grid(lat, lon, 8)
    assert asked == lat.size


def test_public_function_uses_the_grid_and_agrees():
    rng = np.random.default_rng(4)
    lat, lon = city(rng, 48.85, 2.35, 250_000, spread=SPREAD[8])
    got = binning.latlng_to_cells(lat, lon, 8).to_numpy()
    assert np.array_equal(got, expected(lat, lon, 8))


def test_invalid_points_are_reported_by_h3_as_before():
    rng = np.random.default_rng(6)
    lat, lon = city(rng, 40.7, -74.0, 50_000, spread=SPREAD[8])
    lat[::7] = np.nan
    with pytest.raises(ValueError, match="invalid latitude"):
        by_grid(lat, lon, 8)


def test_metros_on_several_continents_get_a_grid_each(monkeypatch):
    """Clouds too far apart for one grid: each busy one-degree tile (a metro may straddle
    two) gets its own, stragglers and quiet tiles go point by point."""
    monkeypatch.setattr(binning_grid, "MIN_TILE_POINTS", 20_000)
    rng = np.random.default_rng(26)
    centres = [(40.75, -73.98), (-23.55, -46.63), (51.5, -0.01), (1.3, 103.85)]
    parts = [city(rng, lat0, lon0, 60_000, spread=SPREAD[8]) for lat0, lon0 in centres]
    far = 2_000  # pings scattered over the world: tiles far below the floor
    parts.append((rng.uniform(-60, 60, far), rng.uniform(-180, 180, far)))
    lat = np.concatenate([p[0] for p in parts])
    lon = np.concatenate([p[1] for p in parts])
    order = rng.permutation(lat.size)
    lat, lon = lat[order], lon[order]
    got, asked = by_grid(lat, lon, 8)
    assert np.array_equal(got, expected(lat, lon, 8))
    assert asked < 0.6 * lat.size, asked


@pytest.mark.parametrize(("res", "spread"), [(8, 0.003), (9, 0.0015)])
def test_quartering_busy_squares_cuts_h3_calls(monkeypatch, res, spread):
    """Busy squares straddling a cell edge are quartered: a quarter fewer points or more
    go to H3 than with the grid's squares alone, and the cells stay exact."""
    rng = np.random.default_rng(21)
    lat, lon = city(rng, 1.30, 103.85, 300_000, spread=spread)
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    monkeypatch.setattr(quarters, "MAX_SPLITS", 0)
    unsplit, asked_unsplit = by_grid(lat, lon, res)
    assert np.array_equal(unsplit, got)
    assert asked < 0.75 * asked_unsplit, (asked, asked_unsplit)


@pytest.mark.parametrize("res", [8, 9])
def test_points_on_quarter_lines_and_cell_edges(res):
    """Points exactly on the lines of the first four quarterings and hugging cell edges,
    inside a cloud busy enough for squares to be quartered."""
    rng = np.random.default_rng(30 + res)
    lat, lon = city(rng, -23.55, -46.63, 250_000, spread=SPREAD[res])
    edge_deg = binning.cell_edge_km(res) / binning_grid._KM_PER_DEG_LAT
    grid, side = binning_grid._fitted_grid(lat, lon, edge_deg)
    assert grid is not None
    lat_lo, lon_lo, rows, cols = grid
    n = 20_000
    step = side / 2.0 ** rng.integers(1, 5, n)
    i, j = rng.integers(0, rows, n), rng.integers(0, cols, n)
    on_lat = lat_lo + i * side + step * rng.integers(0, 2, n)
    on_lon = lon_lo + j * side + step * rng.integers(0, 2, n)
    q_lat = np.concatenate([on_lat, on_lat + side * rng.uniform(0, 1, n)])
    q_lon = np.concatenate([on_lon + side * rng.uniform(0, 1, n), on_lon])
    cells = sorted({int(c) for c in expected(lat[:2000], lon[:2000], res)})[:100]
    e_lat, e_lon = edge_points(rng, cells, 40)
    lat = np.concatenate([lat, q_lat, e_lat])
    lon = np.concatenate([lon, q_lon, e_lon])
    got, asked = by_grid(lat, lon, res)
    assert np.array_equal(got, expected(lat, lon, res))
    assert asked < 0.6 * lat.size


def test_tiles_of_points_edges_and_non_finite_coordinates(monkeypatch):
    """Each point's one-degree tile, made block by block (blocks of 7 here): poles and
    ±180° clipped into the last row and column, NaN and ±inf in the no-tile slot."""
    from explorer._speed import blocks

    monkeypatch.setattr(blocks, "CACHE_BLOCK", 7)
    lat = np.array([40.7, -33.9, 90.0, -90.0, 0.0, -0.5, np.nan, 10.0, np.inf, -np.inf, 1.0])
    lon = np.array([-74.0, 151.2, 180.0, -180.0, 0.0, -0.5, 1.0, np.nan, 1.0, 1.0, -np.inf])
    no = binning_grid._NO_TILE
    rows = [130, 56, 179, 0, 90, 89]
    cols = [106, 331, 359, 0, 180, 179]
    want = [r * 360 + c for r, c in zip(rows, cols, strict=True)] + [no] * 5
    assert binning_grid._tiles(lat, lon).tolist() == want
