"""Exact H3 cells for dense point sets with a fraction of the H3 calls.

H3 assignment point by point (h3o through h3ronpy and the C library alike) is the
largest single cost of a summary. Pings are dense: millions of pings of a city fall in
a few thousand cells. So the data's bulk is covered by a grid of lat/lon squares, 2 to
16 per cell edge, and H3 is asked only for the squares' corners. A square whose four
corners lie in the same cell lies inside that cell, and its points take the cell
without an H3 call. A busy square that straddles a cell edge is quartered, and its
quarters are treated the same way (:mod:`explorer._speed.quarters`). The other points
(sparse squares, points off the grid or next to a square's side) are computed one by one
as before.

Why this is exact, not approximate. Cell edges are great-circle arcs (straight lines in
the gnomonic projection of an icosahedron face), so a hexagon that lies on one face is
convex on the sphere, and it contains the quadrilateral of great-circle arcs through any
four of its points. A square's sides along meridians are such arcs; its sides along
parallels bulge poleward of the arc through their ends by at most L² tan(lat) / 8R for a
side of length L (at most 2 % of the margin below, for resolution 5's largest squares),
so every point more than a small margin (``EDGE_MARGIN`` of a square's side: centimetres
to metres) from the square's sides is inside the quadrilateral, hence inside the cell,
and that far from the cell's boundary H3's floating-point assignment agrees. Pentagons
and hexagons that cross an icosahedron edge are not convex in this sense; squares in
them are computed point by point. The tests compare with h3 point for point, at several
resolutions, along cell edges.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from explorer._speed import quarters
from explorer._speed.blocks import blockwise
from explorer._speed.quarters import Cells, Eligibility, Eligible, one_cell, quarter_squares
from explorer._speed.schedule import map_on_threads

#: Grid squares per cell edge, at most and at least. Squares that straddle a cell edge
#: are quartered where busy (``quarters.SPLIT_MIN_POINTS``), so the grid may start coarse; within
#: these bounds the side is chosen for ``POINTS_PER_SQUARE``.
SQUARES_PER_EDGE = (2, 16)
#: Points per square aimed at (over the grid's extent): it weighs the corners' H3 calls
#: against the points of squares that straddle a cell edge, which are quartered or
#: computed one by one.
POINTS_PER_SQUARE = 16
#: Points closer than this fraction of a square's side to one of its sides are computed
#: directly: the margin covers the parallels' bulge and floating-point rounding.
EDGE_MARGIN = 1e-3
#: The grid is laid only within ±70° latitude, where squares stay nearly square and the
#: bulge of parallels stays far below the margin.
MAX_ABS_LAT = 70.0
#: Coarser resolutions have cells too large (and too few points per cell) to gain.
MIN_RESOLUTION = 5
#: Below this many points the grid costs more than it saves.
MIN_POINTS = 200_000
#: Points spread too widely for one grid (metros on several continents) get a grid per
#: one-degree tile that holds at least this many of them: the same floor as a whole input
#: (``MIN_POINTS``), below which a grid's corners cost more than its squares save.
MIN_TILE_POINTS = 200_000
#: A grid with more squares than this per point is too sparse to gain: its corners cost
#: about as many H3 calls as its squares save.
MAX_SQUARES_PER_POINT = 0.25
#: Squares with fewer points than this are computed point by point (a corner costs as
#: much as a point).
MIN_POINTS_PER_SQUARE = 2
#: The grid covers the central part of the data (these quantiles of a sample, widened by
#: ``EXTENT_PAD`` of their span on each side), so far-away points (null island, a trip
#: abroad) do not blow it up; points off the grid are computed directly.
EXTENT_QUANTILES = (0.01, 0.99)
EXTENT_PAD = 0.05
_SAMPLE = 100_000
_KM_PER_DEG_LAT = 111.195


def _extent(values: np.ndarray) -> tuple[float, float]:
    sample = values[:: max(1, values.size // _SAMPLE)]
    low, high = np.quantile(sample, EXTENT_QUANTILES)
    pad = (high - low) * EXTENT_PAD
    return float(low - pad), float(high + pad)


def _fitted_grid(
    lat: np.ndarray, lon: np.ndarray, edge_deg: float
) -> tuple[tuple[float, float, int, int] | None, float]:
    """The grid and its square side (degrees), or None when it would be sparse."""
    lat_lo, lat_hi = _extent(lat)
    lon_lo, lon_hi = _extent(lon)
    lat_lo, lat_hi = max(lat_lo, -MAX_ABS_LAT), min(lat_hi, MAX_ABS_LAT)
    # Not-a-number extents (invalid input) go point by point, where H3 reports them.
    if not np.isfinite([lat_lo, lat_hi, lon_lo, lon_hi]).all():
        return None, 0.0
    if lat_hi <= lat_lo or lon_hi < lon_lo:
        return None, 0.0
    area = (lat_hi - lat_lo) * max(lon_hi - lon_lo, edge_deg)
    side = float(np.sqrt(area * POINTS_PER_SQUARE / lat.size))
    fewest, most = SQUARES_PER_EDGE
    side = min(max(side, edge_deg / most), edge_deg / fewest)
    return _grid(lat_lo, lat_hi, lon_lo, lon_hi, side, lat.size), side


def _grid(
    lat_lo: float, lat_hi: float, lon_lo: float, lon_hi: float, side: float, points: int
) -> tuple[float, float, int, int] | None:
    """(lat origin, lon origin, rows, columns) of the grid, or None when it would be sparse."""
    rows = int((lat_hi - lat_lo) / side) + 1
    # Corners stay within ±180° longitude (points beyond the last column go off the grid).
    cols = min(int((lon_hi - lon_lo) / side) + 1, int((180.0 - lon_lo) / side))
    if cols < 1:
        return None
    if (rows + 1) * (cols + 1) > points * MAX_SQUARES_PER_POINT:
        return None
    return lat_lo, lon_lo, rows, cols


def _squares(
    lat: np.ndarray,
    lon: np.ndarray,
    grid: tuple[float, float, int, int],
    side: float,
    threads: int,
) -> np.ndarray:
    """Square index per point (row * cols + col), -1 off the grid or near a square's side.

    Works in blocks on ``threads`` threads (numpy releases the GIL), in place where it
    can: the arithmetic is trivial, so memory traffic is the cost.
    """
    index = np.empty(lat.size, dtype=np.int64)
    step = partial(_squares_block, grid=grid, side=side)
    blockwise(step, [lat, lon], [index], threads=max(threads, 1))
    return index


def _squares_block(
    lat: np.ndarray,
    lon: np.ndarray,
    index: np.ndarray,
    *,
    grid: tuple[float, float, int, int],
    side: float,
) -> None:
    lat_lo, lon_lo, rows, cols = grid
    ok = None
    for values, origin, count, scale in ((lat, lat_lo, rows, cols), (lon, lon_lo, cols, 1)):
        pos = values - origin
        pos /= side
        whole = np.floor(pos)
        pos -= whole  # the fraction within the square, in [0, 1)
        pos -= 0.5
        np.abs(pos, out=pos)
        inside = (pos <= 0.5 - EDGE_MARGIN) & (whole >= 0) & (whole < count)
        ok = inside if ok is None else ok & inside
        whole *= scale
        if scale == 1:
            index += whole.astype(np.int64)
        else:
            index[:] = whole.astype(np.int64)
    index[~ok] = -1


def _square_corners(
    index: np.ndarray, grid: tuple[float, float, int, int], side: float, cells: Cells
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The squares holding at least ``MIN_POINTS_PER_SQUARE`` points, their point counts
    and their corners' cells (shape (4, squares): lower left, lower right, upper left,
    upper right), each shared corner computed once."""
    lat_lo, lon_lo, rows, cols = grid
    counts = np.bincount(index + 1, minlength=rows * cols + 1)[1:]  # -1: off the grid
    used = np.flatnonzero(counts >= MIN_POINTS_PER_SQUARE)
    row, col = np.divmod(used, cols)
    corners = [(row + dr) * (cols + 1) + (col + dc) for dr in (0, 1) for dc in (0, 1)]
    needed = np.zeros((rows + 1) * (cols + 1), dtype=bool)
    for corner in corners:
        needed[corner] = True
    nodes = np.flatnonzero(needed)
    node_row, node_col = np.divmod(nodes, cols + 1)
    node_cell = np.zeros(needed.size, dtype=np.uint64)
    node_cell[nodes] = cells(lat_lo + node_row * side, lon_lo + node_col * side)
    return used, counts[used], np.stack([node_cell[corner] for corner in corners])


def grid_cells(
    lat: np.ndarray,
    lon: np.ndarray,
    resolution: int,
    edge_km: float,
    cells: Cells,
    eligible: Eligible,
    threads: int = 2,
) -> np.ndarray:
    """H3 cells (uint64) of every point, equal to ``cells(lat, lon)``.

    ``edge_km`` is the resolution's average cell edge, ``cells`` computes cells point by
    point, ``eligible`` tells which cells are hexagons on one icosahedron face, and
    ``threads`` is how many threads may place the points in squares.
    """
    if lat.size < MIN_POINTS or resolution < MIN_RESOLUTION:
        return cells(lat, lon)
    grid, side = _fitted_grid(lat, lon, edge_km / _KM_PER_DEG_LAT)
    if grid is None:
        return _tile_by_tile(lat, lon, edge_km, cells, eligible, threads)
    out, placed = _on_grid(lat, lon, grid, side, cells, eligible, threads)
    rest = np.flatnonzero(~placed)
    out[rest] = cells(lat[rest], lon[rest])
    return out


def _on_grid(
    lat: np.ndarray,
    lon: np.ndarray,
    grid: tuple[float, float, int, int],
    side: float,
    cells: Cells,
    eligible: Eligible,
    threads: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each point's cell taken from its grid square (or a quarter of one, see
    :func:`explorer._speed.quarters.quarter_squares`), and whether a square gave one (the
    others' cells are left for the caller to compute)."""
    rows, cols = grid[2], grid[3]
    index = _squares(lat, lon, grid, side, threads)
    used, counts, corners = _square_corners(index, grid, side, cells)
    known = Eligibility(eligible)
    inside = one_cell(corners, known)
    # One slot more, never placed: index -1 (off the grid) reads it.
    square_cell = np.zeros(rows * cols + 1, dtype=np.uint64)
    square_ok = np.zeros(rows * cols + 1, dtype=bool)
    square_cell[used[inside]] = corners[0][inside]
    square_ok[used[inside]] = True
    out, placed = square_cell[index], square_ok[index]
    split = ~inside & (counts >= quarters.SPLIT_MIN_POINTS)
    if split.any():
        # The squares are independent and each writes its own points: halves on threads.
        parts = np.array_split(np.flatnonzero(split), max(threads, 1))

        def quarter(part: np.ndarray) -> None:
            quarter_squares(
                lat,
                lon,
                index,
                used[part],
                corners[:, part],
                grid,
                side,
                cells,
                known,
                out,
                placed,
                margin=EDGE_MARGIN,
            )

        map_on_threads(quarter, [p for p in parts if p.size], threads)
    return out, placed


def _tiles(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The one-degree tile (0 to 64,799, so 16 bits) of every point; 64,800 where a
    coordinate is not finite. Made a cache-sized block at a time."""
    tile = np.empty(lat.size, dtype=np.uint16)
    blockwise(_tiles_block, [lat, lon], [tile], scratch=[np.float64, np.float64])
    return tile


def _tiles_block(
    lat: np.ndarray, lon: np.ndarray, tile: np.ndarray, row: np.ndarray, col: np.ndarray
) -> None:
    np.floor(lat, out=row)
    row += 90
    np.clip(row, 0, 179, out=row)
    np.floor(lon, out=col)
    col += 180
    np.clip(col, 0, 359, out=col)
    row *= 360
    row += col
    # Coordinates that are not finite (clipped above when infinite) go to the last slot.
    np.copyto(row, _NO_TILE, where=~np.isfinite(lat))
    np.copyto(row, _NO_TILE, where=~np.isfinite(lon))
    np.copyto(tile, row, casting="unsafe")


_NO_TILE = 180 * 360


def _tile_by_tile(
    lat: np.ndarray,
    lon: np.ndarray,
    edge_km: float,
    cells: Cells,
    eligible: Eligible,
    threads: int,
) -> np.ndarray:
    """Cells of points too spread out for one grid (several metros far apart): each
    one-degree tile holding at least ``MIN_TILE_POINTS`` points gets a grid of its own, the
    points of the other tiles are computed one by one. The points are put in tile order
    once (a radix sort of 16-bit tiles), so each tile is a slice."""
    tile = _tiles(lat, lon)
    order = np.argsort(tile, kind="stable")
    bounds = np.searchsorted(tile[order], np.arange(_NO_TILE + 2))
    lat, lon = lat[order], lon[order]
    out = np.empty(lat.size, dtype=np.uint64)
    placed = np.zeros(lat.size, dtype=bool)
    edge_deg = edge_km / _KM_PER_DEG_LAT

    def one_tile(busy: int) -> None:
        part = slice(bounds[busy], bounds[busy + 1])
        grid, side = _fitted_grid(lat[part], lon[part], edge_deg)
        if grid is not None:
            out[part], placed[part] = _on_grid(
                lat[part], lon[part], grid, side, cells, eligible, threads=1
            )

    # Tiles are independent and each writes its own slice: a tile per thread.
    busy_tiles = np.flatnonzero(np.diff(bounds) >= MIN_TILE_POINTS).tolist()
    map_on_threads(one_tile, busy_tiles, threads)
    rest = np.flatnonzero(~placed)
    out[rest] = cells(lat[rest], lon[rest])
    cells_in_input_order = np.empty_like(out)
    cells_in_input_order[order] = out
    return cells_in_input_order
