"""The only module that calls H3: cells, neighbours, parents, centres and boundaries.

Cells are handled as unsigned 64-bit integers inside ``explorer`` and converted to
lower-case hex strings only at the edges (JSON, pydeck, GeoJSON), because 64-bit
integers exceed JavaScript's exact range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import h3.api.basic_int as h3
import numpy as np
import polars as pl
import polars_h3 as plh3
from h3ronpy.vector import coordinates_to_cells

from explorer._speed.grid_cells import grid_cells

#: Most pings per thread-pool task; large enough to amortise the call, small enough
#: to keep both cores busy to the end.
_CHUNK = 1_000_000
#: Resolutions the suggestion may pick: coarser than 4 hides every city, finer than
#: 10 leaves most cells with a handful of pings.
SUGGEST_MIN_RES, SUGGEST_MAX_RES = 4, 10
#: The suggestion keeps the number of cells covering the data's extent under this,
#: so a map stays readable and per-cell statistics stay stable.
SUGGEST_MAX_CELLS = 20_000
#: ... and wants at least this many pings per covering cell on average.
SUGGEST_MIN_PINGS_PER_CELL = 20


def latlng_to_cells(
    lat: pl.Series | np.ndarray, lon: pl.Series | np.ndarray, resolution: int, threads: int = 2
) -> pl.Series:
    """H3 cell (UInt64) of every point, vectorised and multi-threaded.

    Latitudes must already be within ±90 and longitudes within ±180 (h3 silently
    accepts latitude 95; range checks belong to reading).
    """
    if not 0 <= int(resolution) <= 15:
        raise ValueError(f"H3 resolution must be between 0 and 15, got {resolution}.")
    lat_np = np.ascontiguousarray(np.asarray(lat, dtype=np.float64))
    lon_np = np.ascontiguousarray(np.asarray(lon, dtype=np.float64))
    if len(lat_np) == 0:
        return pl.Series("cell", [], dtype=pl.UInt64)
    cells = grid_cells(
        lat_np,
        lon_np,
        resolution,
        cell_edge_km(resolution),
        lambda a, b: _cells_by_point(a, b, resolution, threads),
        single_face_hexagons,
        threads,
    )
    return pl.Series("cell", cells, dtype=pl.UInt64)


def _cells_by_point(lat: np.ndarray, lon: np.ndarray, resolution: int, threads: int) -> np.ndarray:
    """H3 cell of every point, one h3ronpy call per chunk, chunks on ``threads`` threads."""
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    if len(lat) == 0:
        return np.zeros(0, dtype=np.uint64)
    step = min(_CHUNK, max(-(-len(lat) // (2 * threads)), 100_000))
    bounds = range(0, len(lat), step)

    def one(start: int) -> np.ndarray:
        stop = start + step
        return np.asarray(coordinates_to_cells(lat[start:stop], lon[start:stop], resolution))

    if len(bounds) == 1 or threads <= 1:
        parts = [one(s) for s in bounds]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(one, bounds))
    return np.concatenate(parts).astype(np.uint64)


def single_face_hexagons(cells: np.ndarray) -> np.ndarray:
    """True for each cell that is a hexagon lying on one icosahedron face.

    Such a cell is convex on the sphere (its edges are great-circle arcs), which
    :mod:`explorer._speed.grid_cells` relies on; pentagons and cells that cross a face edge
    are not.
    """
    return np.array(
        [not h3.is_pentagon(int(c)) and len(h3.get_icosahedron_faces(int(c))) == 1 for c in cells],
        dtype=bool,
    )


def cell_to_str(cell: int) -> str:
    """Lower-case hex id of one cell."""
    return h3.int_to_str(int(cell))


def cells_to_str(cells: Iterable[int]) -> list[str]:
    """Lower-case hex ids of several cells."""
    return [h3.int_to_str(int(c)) for c in cells]


def str_to_cell(cell: str) -> int:
    """Integer id of a hex cell id; raises ValueError for anything that is not a valid cell."""
    value = h3.str_to_int(cell)
    if not h3.is_valid_cell(value):
        raise ValueError(f"{cell!r} is not a valid H3 cell id.")
    return value


def is_valid_cell(cell: str | int) -> bool:
    """True for a valid H3 cell id (hex string or integer)."""
    try:
        return bool(h3.is_valid_cell(h3.str_to_int(cell) if isinstance(cell, str) else int(cell)))
    except (TypeError, ValueError, OverflowError):
        return False


def cell_resolution(cell: int) -> int:
    return h3.get_resolution(int(cell))


def cell_centre(cell: int) -> tuple[float, float]:
    """(lat, lon) of a cell's centre."""
    return h3.cell_to_latlng(int(cell))


def cell_centres(cells: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lat, lon arrays) of many cells, vectorised."""
    frame = pl.DataFrame({"cell": cells.cast(pl.UInt64)})
    out = frame.select(lat=plh3.cell_to_lat("cell"), lon=plh3.cell_to_lng("cell"))
    return out["lat"].to_numpy(), out["lon"].to_numpy()


def cell_boundary(cell: int) -> list[tuple[float, float]]:
    """The cell's polygon as (lat, lon) vertices."""
    return list(h3.cell_to_boundary(int(cell)))


def grid_disk(cell: int, k: int) -> list[int]:
    """Cells within k steps of ``cell`` (itself included)."""
    return [int(c) for c in h3.grid_disk(int(cell), k)]


def grid_distance(a: int, b: int) -> int | None:
    try:
        return int(h3.grid_distance(int(a), int(b)))
    except Exception:  # noqa: BLE001 - h3 raises several types for far or pentagon-crossing pairs
        return None


def cell_to_parent(cell: int, resolution: int) -> int:
    return int(h3.cell_to_parent(int(cell), resolution))


def cells_to_parent(cells: pl.Series, resolution: int) -> pl.Series:
    """Parent of every cell at a coarser resolution (vectorised through polars-h3)."""
    frame = pl.DataFrame({"cell": cells})
    return frame.select(plh3.cell_to_parent("cell", resolution).alias("cell"))["cell"]


def cell_area_km2(resolution: int) -> float:
    """Average area of a cell at ``resolution`` in km²."""
    return float(h3.average_hexagon_area(resolution, unit="km^2"))


def cell_edge_km(resolution: int) -> float:
    return float(h3.average_hexagon_edge_length(resolution, unit="km"))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(h3.great_circle_distance((lat1, lon1), (lat2, lon2), unit="km"))


def bbox_area_km2(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> float:
    """Approximate area of a lat/lon box in km² (spherical, fine for sizing)."""
    earth_r = 6371.0088
    lon_span = lon_max - lon_min
    if lon_span < 0:
        lon_span += 360.0
    height = math.radians(max(lat_max - lat_min, 0.0)) * earth_r
    mid = math.radians((lat_max + lat_min) / 2)
    width = math.radians(lon_span) * earth_r * max(math.cos(mid), 0.01)
    return max(height * width, 1e-6)


def suggest_resolution(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float, n_pings: int
) -> int:
    """The finest resolution whose cells tile the extent in a readable number of cells.

    Picks the finest resolution in [4, 10] at which the data's bounding box is covered
    by at most ``SUGGEST_MAX_CELLS`` cells carrying at least
    ``SUGGEST_MIN_PINGS_PER_CELL`` pings each on average.
    """
    area = bbox_area_km2(lat_min, lat_max, lon_min, lon_max)
    best = SUGGEST_MIN_RES
    for res in range(SUGGEST_MIN_RES, SUGGEST_MAX_RES + 1):
        covering = max(area / cell_area_km2(res), 1.0)
        if covering > SUGGEST_MAX_CELLS or n_pings / covering < SUGGEST_MIN_PINGS_PER_CELL:
            break
        best = res
    return best


def connected_components(cells: Iterable[int], k: int = 1) -> list[list[int]]:
    """Group cells into components whose members are within ``k`` grid steps.

    Returns components largest first, each sorted; used to tell one cause in
    neighbouring cells as one finding.
    """
    remaining = {int(c) for c in cells}
    components = []
    while remaining:
        seed = remaining.pop()
        stack, members = [seed], [seed]
        while stack:
            current = stack.pop()
            for near in h3.grid_disk(current, k):
                if near in remaining:
                    remaining.remove(near)
                    stack.append(near)
                    members.append(near)
        components.append(sorted(members))
    return sorted(components, key=lambda comp: (-len(comp), comp[0]))
